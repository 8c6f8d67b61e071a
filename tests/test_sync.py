"""The catalogue sync end to end: the sandbox marketplace as a real server, a real state store,
real Prefect flow runs. Each scenario starts from the bundled samples in a fresh sandbox."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import SAMPLES

WRITE_PATHS = ("/create", "/edit", "/price/update", "/stock/update", "/active", "/inactive")
# Listed but inactive from the first sync: the samples' Status Nonaktif rows (Indramayu's workbook).
NONAKTIF = sum(not li["active"] for g in json.loads((SAMPLES / "expected_rejects.json").read_text(encoding="utf-8"))
               ["groups"].values() for li in g["listings"])
ROOT = Path(__file__).resolve().parent.parent


def writes(handle, before=None) -> dict:
    """Items written per kind, from the marketplace's own counters (minus ``before``)."""
    paths = handle.admin.stats()["paths"]
    now = {w: sum(p["items"] for path, p in paths.items() if path.endswith(w)) for w in WRITE_PATHS}
    return {w: now[w] - (before or {}).get(w, 0) for w in WRITE_PATHS}


@pytest.fixture()
def market(tmp_path):
    from connectors.sandbox import running_sandbox

    with running_sandbox(tmp_path / "sandbox", rate_limit=None) as handle:
        yield handle


@pytest.fixture()
def workdir(tmp_path, market, monkeypatch):
    """A copy of the samples whose config points at the sandbox; returns the config path."""
    shutil.copytree(SAMPLES, tmp_path / "w", ignore=shutil.ignore_patterns("*.py", "out", "var"))
    cfg = tmp_path / "w" / "lapak.toml"
    text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", market.url)
    # The sandbox here has no rate limit; the client's own pacing (5 items/s by default) is
    # tested in test_rate_limits.py and only slows these scenarios down.
    text = text.replace('client_id = "lapak-demo"', 'client_id = "lapak-demo"\nrate_limit_per_second = 1000')
    cfg.write_text(text, encoding="utf-8")
    monkeypatch.setenv("LAPAK_CLIENT_SECRET", market.client_secret)
    return cfg


def products(market) -> list[dict]:
    return [p for shop in market.shops for p in market.admin.products(shop)]


def sync(cfg, **kw):
    from flows.sync import sync_catalogues

    return sync_catalogues(config_path=str(cfg), **kw)


def edit_banyuwangi(cfg, old: bytes, new: bytes) -> None:
    path = cfg.parent / "catalogues" / "banyuwangi" / "batik-gajah-oling.csv"
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new, 1))


def test_sync_resync_change_remove_restore(prefect_server, market, workdir):
    first = sync(workdir)
    assert sum(first["writes"].values()) == first["writes"]["creates"] == 48
    listed = products(market)
    assert len(listed) == 48 and len({p["sku"] for p in listed}) == 48
    # The shared shop holds two "Kopi Bubuk Robusta 200 gr": both listed, names made unique.
    kopi = sorted(p["name"] for p in listed if p["name"].startswith("Kopi Bubuk Robusta 200 gr"))
    assert kopi == ["Kopi Bubuk Robusta 200 gr - Desa Dukuhdempok", "Kopi Bubuk Robusta 200 gr - Desa Kemiren"]

    before = writes(market)
    again = sync(workdir)
    assert sum(again["writes"].values()) == 0 and again["planned_writes"] == 0
    assert writes(market, before) == dict.fromkeys(WRITE_PATHS, 0)  # the marketplace saw no write at all

    edit_banyuwangi(workdir, b"Rp 850.000", b"Rp 875.000")
    before = writes(market)
    changed = sync(workdir)
    assert changed["writes"] == {"creates": 0, "edits": 0, "reactivate": 0, "prices": 1, "stocks": 0, "deactivate": 0}
    assert writes(market, before)["/price/update"] == 1 and sum(writes(market, before).values()) == 1
    assert any(p["price"] == 875000 for p in products(market))

    path = workdir.parent / "catalogues" / "banyuwangi" / "batik-gajah-oling.csv"
    original = path.read_bytes()
    lines = original.split(b"\r\n")
    daster = next(i for i, line in enumerate(lines) if b"Daster Batik Banyuwangi" in line)
    path.write_bytes(b"\r\n".join(lines[:daster] + [b";;;;;;;;;"] + lines[daster + 1:]))  # blank it, keep row numbers
    removed = sync(workdir)
    assert removed["writes"]["deactivate"] == 1 and sum(removed["writes"].values()) == 1
    assert [p["status"] for p in products(market) if p["name"] == "Daster Batik Banyuwangi"] == ["INACTIVE"]

    path.write_bytes(original)
    restored = sync(workdir)
    assert restored["writes"]["reactivate"] == 1 and sum(restored["writes"].values()) == 1
    assert [p["status"] for p in products(market) if p["name"] == "Daster Batik Banyuwangi"] == ["ACTIVE"]
    assert len(products(market)) == 48  # never a duplicate


def test_dry_run_plans_and_writes_nothing(prefect_server, market, workdir):
    plan = sync(workdir, dry_run=True)
    assert plan["planned_writes"] == 48 and sum(plan["writes"].values()) == 0
    assert "Create" in plan["plans"]["479573"]
    assert products(market) == [] and sum(writes(market).values()) == 0


def test_shrink_guard_holds_deactivations_until_accepted(prefect_server, market, workdir):
    from schemas.errors import NeedsOperator

    sync(workdir)
    jember = workdir.parent / "catalogues" / "jember" / "anyaman-pandan-sari.csv"
    text = jember.read_text(encoding="utf-8-sig").splitlines()
    jember.write_text("\n".join(text[:3]) + "\n", encoding="utf-8-sig")  # a truncated file: header + 2 rows
    held = r"^Catalogue shrank, deactivations held: jember-pandan-sari \(11 → 2 listings, more than 50% lost\)"
    with pytest.raises(NeedsOperator, match=held):
        sync(workdir)
    assert sum(p["status"] == "INACTIVE" for p in products(market)) == NONAKTIF  # the shop stays online

    accepted = sync(workdir, accept_shrink=True)
    assert accepted["writes"]["deactivate"] == 9
    assert sum(p["status"] == "INACTIVE" for p in products(market)) == 9 + NONAKTIF
    assert sum(sync(workdir)["writes"].values()) == 0  # accepted once, then a normal catalogue


CRASH_DRIVER = """
import os, sys
from connectors.state.store import StateStore
def crash(self, rows):
    if rows:  # the marketplace confirmed these rows; die before the state store records them
        os._exit(37)
StateStore.save_listings = crash
import flows.engine.locks
flows.engine.locks.DEFAULT_LEASE_S = 1.0  # the killed run's shops are free a second later, not after 90 s
from flows.sync import sync_catalogues
sync_catalogues(config_path=sys.argv[1])
"""


def run_crashing_sync(cfg) -> int:
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value(), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", CRASH_DRIVER, str(cfg)], env=env, cwd=ROOT,
                          capture_output=True, timeout=120).returncode


def test_a_crash_between_a_confirmed_create_and_its_record_converges(prefect_server, market, workdir):
    assert run_crashing_sync(workdir) == 37  # killed right after the first batch was created
    created = products(market)
    assert 0 < len(created) < 48
    sync(workdir)
    listed = products(market)
    assert (len(listed) == 48 and len({p["sku"] for p in listed}) == 48
            and len({p["name"].lower() for p in listed}) == 48)
    assert sum(sync(workdir)["writes"].values()) == 0


def test_a_crash_on_a_later_create_is_found_by_sku_not_created_twice(prefect_server, market, workdir):
    sync(workdir)
    path = workdir.parent / "catalogues" / "banyuwangi" / "batik-gajah-oling.csv"
    extra = "23;Kain Batik Baru Motif Kopi;Batik Tulis;Rp 300.000;3;0,5 kg;Baru;https://images.lapakdesa.example/b/baru.jpg;;BTG-009\r\n"
    path.write_bytes(path.read_bytes() + extra.encode("cp1252"))
    assert run_crashing_sync(workdir) == 37
    assert len(products(market)) == 49  # created on the marketplace, unknown to the state store
    rerun = sync(workdir)
    assert rerun["writes"]["creates"] == 1  # confirmed again through the SKU, not a second listing
    assert len(products(market)) == 49


def test_sync_on_postgresql_state(prefect_server, market, workdir, postgres_url):
    import psycopg

    schema = f"lapak_sync_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        text = workdir.read_text(encoding="utf-8").replace(
            'url = "sqlite:///var/lapak.db"', f'url = "{postgres_url}?options=-csearch_path%3D{schema}"')
        workdir.write_text(text, encoding="utf-8")
        assert sync(workdir)["writes"]["creates"] == 48
        assert sum(sync(workdir)["writes"].values()) == 0
        with psycopg.connect(postgres_url) as conn:
            assert conn.execute(f"SELECT count(*) FROM {schema}.listings").fetchone()[0] == 48
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_stock_counts_sales_since_the_catalogue_was_recorded_and_never_undoes_one(prefect_server, market, workdir):
    import time

    from connectors.config import load_config
    from connectors.state import StateStore

    sync(workdir)
    batik = next(p for p in products(market) if p["name"] == "Batik Tulis Gajah Oling Merah")
    assert batik["stock"] == 5
    market.admin.place_order(batik_shop := 479574, [{"sku": batik["sku"], "quantity": 2}])  # not pulled yet

    before = writes(market)
    sync(workdir)  # pulls the sale first: 5 − 2 is what the marketplace already shows, so no write
    assert sum(writes(market, before).values()) == 0
    store = StateStore(load_config(workdir).state_url)
    assert [listing.stock for listing in store.listings(shop_id=batik_shop) if listing.sku == batik["sku"]] == [3]
    assert store.count_orders() == 1

    time.sleep(1.1)  # the recount is recorded after the sale (the file's modification time)
    edit_banyuwangi(workdir, b"Rp 850.000;5;", b"Rp 850.000;9;")  # the group counted 9 in the cupboard
    before = writes(market)
    recount = sync(workdir)
    assert recount["writes"]["stocks"] == 1 and sum(writes(market, before).values()) == 1
    assert next(p for p in products(market) if p["sku"] == batik["sku"])["stock"] == 9
    store.close()


def restate_wonosobo(cfg, stated: str | None = None, carica_stock: int | None = None) -> None:
    """Edit the Wonosobo workbook as its facilitator would: the date in its title, the carica's stock."""
    from openpyxl import load_workbook

    path = cfg.parent / "catalogues" / "wonosobo" / "sekar-carica.xlsx"
    wb = load_workbook(path)
    ws = wb["Produk"]
    if stated is not None:
        ws["A2"] = f"Desa Kalibeber, Kec. Mojotengah, Wonosobo — diperbarui {stated}"
    if carica_stock is not None:
        assert ws["B5"].value == "Manisan Carica 250 gr" and ws["E4"].value == "Stok"
        ws["E5"] = carica_stock
    wb.save(path)


def test_stock_counts_from_the_date_the_catalogue_states(prefect_server, market, workdir):
    """"diperbarui 20 November 2026" above the table: sales since that day come off the stock,
    even when the file was saved after them (an edit of prices is not a recount)."""
    import time
    from datetime import datetime, timedelta, timezone

    from schemas.dates import spoken

    wib = timezone(timedelta(hours=7))
    today = datetime.now(wib).date()
    counted = today - timedelta(days=2)
    restate_wonosobo(workdir, stated=spoken(counted))
    first = sync(workdir)
    row = next(r for r in first["groups"] if r["group"] == "wonosobo-sekar-carica")
    assert row["stock_as_of"] == f"{counted.isoformat()} 00:00 WIB"
    carica = next(p for p in products(market) if p["name"] == "Manisan Carica 250 gr")
    assert carica["stock"] == 40

    # A sale 30 hours ago (after the stated day), pulled by the next sync; then the group writes a
    # new count, 50, still "as of" the stated day: the sale is taken off it.
    market.admin.place_order(479573, [{"sku": carica["sku"], "quantity": 3}], create_time=int(time.time()) - 30 * 3600)
    restate_wonosobo(workdir, carica_stock=50)
    recount = sync(workdir)
    assert next(p for p in products(market) if p["sku"] == carica["sku"])["stock"] == 47
    row = next(r for r in recount["groups"] if r["group"] == "wonosobo-sekar-carica")
    assert row["note"].startswith(
        f"stock changed for 1 product(s) but the catalogue still states {counted.isoformat()}")

    # Counted again today: the sale was before it, so the count stands as written.
    restate_wonosobo(workdir, stated=spoken(today))
    again = sync(workdir)
    assert next(p for p in products(market) if p["sku"] == carica["sku"])["stock"] == 50
    row = next(r for r in again["groups"] if r["group"] == "wonosobo-sekar-carica")
    assert row["stock_as_of"] == f"{today.isoformat()} 00:00 WIB" and row["note"] == ""


def test_an_outage_longer_than_the_clients_retries_is_retried_by_prefect(prefect_server, market, workdir, monkeypatch):
    """The marketplace's order list answers 5xx more times in a row than the client tries: the
    client gives up, Prefect retries the shop's plan task (a transient error), and the sync
    completes with every listing created once."""
    import inspect

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from tenacity import wait_none

    import flows.tasks
    from connectors.marketplace import MarketplaceClient
    from flows.engine.planning import pull_before_planning
    from flows.sync import sync_catalogues

    original = MarketplaceClient.__init__

    def no_backoff(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self._backoff = wait_none()  # the client's own retries, without their waits

    monkeypatch.setattr(MarketplaceClient, "__init__", no_backoff)
    monkeypatch.setitem(flows.tasks.TASKS, pull_before_planning,
                        flows.tasks.pull_before_plan.with_options(retry_delay_seconds=0.2))
    attempts = inspect.signature(original).parameters["max_attempts"].default  # what the client tries
    market.admin.inject_fault("error_5xx_before", path="/order/list", count=attempts)

    state = sync_catalogues(config_path=str(workdir), groups=["wonosobo-sekar-carica"], return_state=True)
    assert state.is_completed(), state.message
    assert state.result()["writes"]["creates"] == 12 == len(market.admin.products(479573))
    assert market.admin.stats()["faults_fired"].get("error_5xx_before") == attempts
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    pulled = [t for t in tasks if t.name.startswith("orders first")]  # the orders are pulled before planning
    assert [t.run_count for t in pulled] == [2] and pulled[0].state.is_completed()
