"""Faults and concurrency: the fast subset of the chaos suite (bench/chaos.py runs the full one),
the per-shop locks, and the state-store and plan rules the chaos suite showed were needed."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.state import StateStore
from flows.engine.locks import LockBusy, ShopLocks, lock_name, shop_locks
from schemas.channel import MARKETPLACE, ShopRef
from schemas.listing import KnownListing, Listing
from schemas.naming import unique_names
from schemas.orders import Order, OrderLine
from schemas.plan import KINDS
from schemas.stock import STOCK_UNKNOWN
from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parent.parent


def load_chaos():
    """bench/chaos.py as a module (bench/ is not a package)."""
    if "lapak_bench_chaos" in sys.modules:
        return sys.modules["lapak_bench_chaos"]
    spec = importlib.util.spec_from_file_location("lapak_bench_chaos", ROOT / "bench" / "chaos.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# ---- the fast subset of the chaos suite -----------------------------------------------------------

def test_chaos_cycles_keep_every_invariant_and_converge(tmp_path, monkeypatch):
    """Seeded cycles on BOTH channels (the marketplace and the TikTok sandbox side by side, three
    groups on TikTok too): catalogue and photo changes, orders on both (TikTok: UNPAID too), cancels
    and faults on each (5xx before/after, 429 storms, lost answers, token expiry — TikTok's access
    token refreshed mid-run — and killed processes); after each: no duplicate, no order stored
    twice, one stock (no channel above recorded − sold on all channels − buffer), and one clean
    sync converges exactly on both channels (zero writes on a further sync)."""
    chaos = load_chaos()
    for name in ("LAPAK_CLIENT_SECRET", "LAPAK_TIKTOK_APP_SECRET", "LAPAK_SECRET_KEY"):
        monkeypatch.setenv(name, "restored-after-the-test")
    report = chaos.run_suite(5, seed=7, root=tmp_path, zero_write_every=2, kill_share=0.4)
    text = "\n".join(report.lines())
    assert report.cycles == 5, text
    for channel in ("marketplace", "tiktok"):  # the faults really fired, on each channel
        fired = {k: n for k, n in report.fired.items() if k.startswith(channel)}
        assert sum(fired.values()) >= 4 and len(fired) >= 2, text
        assert any(k.startswith(f"{channel} orders placed") for k in report.people), text
    assert any(k.startswith("tiktok orders cancelled") for k in report.people), text
    assert sum(n for k, n in report.kills.items() if k.startswith("killed")) >= 1, text
    assert report.token_refreshes >= 1, text  # an access token expired mid-run and was refreshed
    assert report.one_stock_checks >= 2 and report.zero_write_checks == 2, text
    assert report.total_violations == 0, text


# ---- per-shop locks -------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """A state store on SQLite, and on PostgreSQL when LAPAK_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        s = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
        yield s
        s.close()
        return
    import psycopg

    url = request.getfixturevalue("postgres_url")
    schema = f"lapak_locks_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    s = StateStore(f"{url}{sep}options=-csearch_path%3D{schema}")
    try:
        yield s
    finally:
        s.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_a_busy_shop_names_itself_and_its_holder(store):
    with shop_locks(store, [479573, 479574], owner="sync-catalogues pid 1 on desa"):
        with (
            pytest.raises(LockBusy) as busy,
            shop_locks(store, [479574], owner="pull-orders pid 2 on desa", wait_s=0.2),
        ):
            pytest.fail("two runs held one shop")
        assert busy.value.shop_id == ShopRef(MARKETPLACE, 479574)  # a bare shop id is the first marketplace's
        assert "shop 479574" in str(busy.value) and "sync-catalogues pid 1 on desa" in str(busy.value)
        assert store.lock_holder(lock_name(479573))["owner"] == "sync-catalogues pid 1 on desa"
    assert store.lock_holder(lock_name(479573)) is None and store.lock_holder(lock_name(479574)) is None


def test_the_second_run_waits_for_the_first_and_never_overlaps(store):
    inside, overlaps, order = [], [], []
    guard = threading.Lock()

    def run(name: str, shops: list[int], hold: float) -> None:
        with shop_locks(store, shops, owner=name, wait_s=20):
            with guard:
                overlaps.extend(set(shops) & {s for _, ss in inside for s in ss})
                inside.append((name, shops))
                order.append(name)
            time.sleep(hold)
            with guard:
                inside.remove((name, shops))

    first = threading.Thread(target=run, args=("first", [1, 2], 0.8))
    first.start()
    while not order:
        time.sleep(0.01)
    # Overlapping sets taken in opposite orders by the caller: ascending inside, so no deadlock.
    others = [threading.Thread(target=run, args=(f"second-{i}", shops, 0.1))
              for i, shops in enumerate(([2, 3], [3, 1], [2]))]
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join(30)
    assert order[0] == "first" and sorted(order[1:]) == ["second-0", "second-1", "second-2"]
    assert overlaps == []


def test_the_lease_outlives_the_heartbeat_interval_but_not_the_holder(store, tmp_path):
    # A live holder keeps renewing: after three lease lengths the shop is still its.
    with ShopLocks(store, [7], owner="long run", lease_s=0.6):
        time.sleep(1.8)
        with pytest.raises(LockBusy):
            ShopLocks(store, [7], owner="impatient", wait_s=0).acquire()
    # A holder that dies never releases: its lease runs out and the next run takes over.
    url = store.engine.url.render_as_string(hide_password=False)
    code = ("import os, sys; from connectors.state import StateStore; from flows.engine.locks import ShopLocks; "
            "ShopLocks(StateStore(sys.argv[1]), [8], owner='crashed run', lease_s=1.0).acquire(); os._exit(9)")
    assert subprocess.run([sys.executable, "-c", code, url], cwd=ROOT, timeout=60).returncode == 9
    with pytest.raises(LockBusy, match="crashed run"):
        ShopLocks(store, [8], owner="next run", wait_s=0).acquire()
    with ShopLocks(store, [8], owner="next run", wait_s=10) as held:
        assert held.held == [ShopRef(MARKETPLACE, 8)] and store.lock_holder(lock_name(8))["owner"] == "next run"


def test_two_syncs_started_at_once_never_double_apply(tmp_path, monkeypatch):
    """Two syncs of the same shops at once: the second waits for the first, then finds nothing to do."""
    from connectors.sandbox import running_sandbox

    chaos = load_chaos()
    with running_sandbox(tmp_path / "sandbox", rate_limit=None) as market:
        shutil.copytree(SAMPLES, tmp_path / "w", ignore=shutil.ignore_patterns("*.py", "out", "var"))
        cfg = tmp_path / "w" / "lapak.toml"
        text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", market.url)
        cfg.write_text(text.replace('client_id = "lapak-demo"',
                                    'client_id = "lapak-demo"\nrate_limit_per_second = 1000'),
                       encoding="utf-8")
        monkeypatch.setenv("LAPAK_CLIENT_SECRET", market.client_secret)
        StateStore(f"sqlite:///{tmp_path / 'w' / 'var' / 'lapak.db'}").close()  # schema in place before both start
        market.admin.inject_fault("latency", path="/create", count=2, seconds=0.5)  # the first run is slow
        results: list = [None, None]

        def run(i: int) -> None:
            try:
                results[i] = chaos.run_op("sync", cfg)
            except Exception as err:  # a clear refusal is also acceptable
                results[i] = err

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        created = sum(p["items"] for path, p in market.admin.stats()["paths"].items() if path.endswith("/create"))
        products = [p for shop in market.shops for p in market.admin.products(shop)]
        assert len(products) == 48 and len({p["sku"] for p in products}) == 48
        outcome = [r["writes"] if isinstance(r, dict) else f"{type(r).__name__}: {r}" for r in results]
        assert created == 48, f"{created} create items for 48 products: both runs sent creates ({outcome})"
        for r in results:
            assert isinstance(r, dict) or (isinstance(r, LockBusy) and "busy" in str(r)), r
        writes = sorted(sum(r["writes"].values()) for r in results if isinstance(r, dict))
        assert writes[-1] == 48 and writes[:-1] in ([], [0])


# ---- rules the chaos suite showed were needed -----------------------------------------------------

def _store_with_listing(tmp_path, stock: int = 7) -> StateStore:
    s = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    s.upsert_groups([type("G", (), dict(id="g", name="G", village="", regency="", shop_id=1))()])
    s.save_listings([KnownListing(shop_id=1, sku="S-1", group_id="g", product_id=11, name="Keripik", category_id=101,
                                  price=10_000, stock=stock, recorded_stock=10, min_order=1, weight_g=250.0,
                                  condition="NEW", description="", pictures=())])
    return s


def _order(oid: int, status: int, created: int, qty: int = 2) -> list[Order]:
    line = OrderLine(line=1, product_id=11, sku="S-1", name="Keripik", quantity=qty, price=10_000,
                     total_price=qty * 10_000)
    return [Order(order_id=oid, shop_id=1, invoice=f"INV/{oid}", status=status, create_time=created,
                  update_time=created + (status != 220), lines=(line,))]


def test_an_order_in_the_second_the_catalogue_was_saved_counts_as_sold(tmp_path):
    s = _store_with_listing(tmp_path)
    s.upsert_orders(_order(1, 220, 1_000))
    s.upsert_orders(_order(2, 220, 999, qty=5))
    assert s.units_sold({"S-1": 1_000}) == {"S-1": 2}  # same second: may be after the count; 999: before
    s.close()


def test_a_cancel_makes_the_stored_stock_unknown_and_a_reread_changes_nothing(tmp_path):
    s = _store_with_listing(tmp_path)
    before = datetime.now(UTC) - timedelta(seconds=1)
    s.upsert_orders(_order(1, 220, 1_000))
    # A new live order: the channel took its units by itself, so the next correction reads its figure.
    assert [listing.stock for listing in s.listings()] == [STOCK_UNKNOWN]
    s.update_listings(1, {s.listings()[0].sku: {"stock": 6}})  # what that correction recorded
    time.sleep(0.05)
    mark = datetime.now(UTC)
    s.upsert_orders(_order(1, 220, 1_000))  # read again (look-back), unchanged: nothing to re-read
    assert [listing.stock for listing in s.listings()] == [6]
    assert s.order_times_changed_since(before) == [(MARKETPLACE, 1, 1_000)] and s.order_times_changed_since(mark) == []
    s.upsert_orders(_order(1, 5, 1_000))  # cancelled: the marketplace gave the units back by itself
    assert [listing.stock for listing in s.listings()] == [STOCK_UNKNOWN]
    assert s.order_times_changed_since(mark) == [(MARKETPLACE, 1, 1_000)]
    s.close()


def test_a_suffixed_name_that_is_itself_taken_is_numbered():
    d = dict(category_id=101, price=1000, stock=1, min_order=1, weight_g=1.0, condition="NEW", description="",
             pictures=())
    rows = [Listing(**d, sku="A-1", group_id="a", name="Sambal"), Listing(**d, sku="B-1", group_id="b", name="Sambal"),
            Listing(**d, sku="C-1", group_id="c", name="Sambal")]
    labels = {"a": "Desa Kemiren", "b": "Desa Kemiren", "c": "Desa Kenanga"}  # two groups of one village
    taken = {"sambal - desa kenanga": "OLD-9"}  # a deactivated product kept that name
    names = [r.name for r in unique_names(rows, labels, taken)]
    assert names == ["Sambal - Desa Kemiren", "Sambal - Desa Kemiren 2", "Sambal - Desa Kenanga 2"]
    # A product with an order keeps its name: held by its own SKU, it is no obstacle to itself.
    kept = unique_names(rows[:2], labels, {"sambal - desa kemiren": "A-1"})
    assert [r.name for r in kept] == ["Sambal - Desa Kemiren", "Sambal - Desa Kemiren 2"]


def test_renames_are_applied_before_creates():
    assert KINDS.index("edits") < KINDS.index("creates")


def test_a_name_kept_by_a_product_with_an_order_is_not_given_to_another(tmp_path, monkeypatch):
    """Found by the chaos suite: a product with an order keeps its name on the marketplace even
    when its catalogue renames it, so a new product must not be planned under that name (the
    marketplace would refuse it on every run, and it would never be listed)."""
    from connectors.sandbox import running_sandbox

    chaos = load_chaos()
    head = "No;Nama Produk;Kategori;Harga;Stok;Berat;Foto 1;Kode\r\n"

    def row(n: int, name: str, code: str) -> str:
        return f"{n};{name};Keripik;Rp 15.000;20;250 gr;https://img.example/{code}.jpg;{code}\r\n"

    with running_sandbox(tmp_path / "sandbox", rate_limit=None) as market:
        (tmp_path / "satu.csv").write_text(head + row(1, "Keripik Talas", "K-1"), encoding="utf-8")
        (tmp_path / "dua.csv").write_text(head + row(1, "Keripik Talas", "D-1"), encoding="utf-8")
        lines = ["[marketplace]", f'api_url = "{market.url}"', f'auth_url = "{market.url}"', f"fs_id = {market.fs_id}",
                 f'client_id = "{market.client_id}"', "rate_limit_per_second = 1000"]
        for gid in ("satu", "dua"):
            lines += ["[[groups]]", f'id = "{gid}"', f'name = "KWT {gid}"', f'village = "Desa {gid.title()}"',
                      "shop_id = 479574", f'catalogue = "{gid}.csv"']
        cfg = tmp_path / "lapak.toml"
        cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
        monkeypatch.setenv("LAPAK_CLIENT_SECRET", market.client_secret)

        chaos.run_op("sync", cfg)
        first = {p["sku"].split("-")[0]: p for p in market.admin.products(479574)}
        assert first["SATU"]["name"] == "Keripik Talas - Desa Satu"
        market.admin.place_order(479574, [{"sku": first["SATU"]["sku"], "quantity": 1}])
        time.sleep(1.1)  # the new catalogue is recorded after the sale
        (tmp_path / "satu.csv").write_text(head + row(1, "Keripik Talas Pedas", "K-1") + row(2, "Keripik Talas", "K-2"),
                                           encoding="utf-8")
        chaos.run_op("sync", cfg)
        names = sorted(p["name"] for p in market.admin.products(479574))
        again = chaos.run_op("sync", cfg)
    assert names == ["Keripik Talas - Desa Dua", "Keripik Talas - Desa Satu", "Keripik Talas - Desa Satu 2"], names
    assert again["planned_writes"] == 0
