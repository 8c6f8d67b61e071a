"""Buyers' details kept only as long as needed (``[orders] keep_buyer_details_days``, default 90).

The state store on its own (SQLite, and PostgreSQL when ``LAPAK_TEST_POSTGRES_URL`` is set), from
a database at migration 0006; then end to end: the in-memory channel, a real SQLite store,
backfills and a pull as the engine runs them, the month's workbook and CSV opened and read.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from openpyxl import load_workbook
from sqlalchemy import create_engine, inspect, select, text

from connectors.config import load_config
from connectors.state.models import Order as OrderRow
from connectors.state.retention import BLANK, REMOVED
from connectors.state.store import MIGRATIONS, StateStore, normalise_url
from flows.engine.order_runs import run_backfill, run_order_pull
from flows.engine.retention import remove_old_buyer_details
from flows.engine.runtime import Runtime
from flows.engine.steps import Inline
from schemas.channel import ChannelProduct
from schemas.config import OrdersConfig
from schemas.dates import WIB, month_of
from schemas.listing import KnownListing
from schemas.orders import Order, OrderLine, Recipient
from tests.memory_channel import MemoryChannel

DAY = 86_400
NOW = int(time.time())
PERSONAL = tuple(BLANK)


def test_the_default_keeps_buyer_details_90_days_and_never_less_than_one():
    assert OrdersConfig().keep_buyer_details_days == 90
    with pytest.raises(ValueError):
        OrdersConfig(keep_buyer_details_days=0)


# ---- the state store ------------------------------------------------------------------------------

def order(oid: int, status: int, final_days_ago: float, *, channel: str = "marketplace", created: int = NOW - 150 * DAY,
          lines: int = 2) -> Order:
    who = f"Ibu {channel} {oid}"
    return Order(
        order_id=oid, shop_id=1, invoice=f"INV/{oid}", status=status, create_time=created,
        update_time=int(NOW - final_days_ago * DAY), buyer_name=who, channel=channel,
        recipient=Recipient(name=who, phone=f"0812{oid:07d}", address=f"Jl. Kenanga {oid}", district="Kalibeber",
                            city="Wonosobo", province="Jawa Tengah", postal_code="56351"),
        lines=tuple(OrderLine(n, 500 + n, f"SKU-{n}", f"Keripik {n}", n, 10_000, n * 10_000)
                    for n in range(1, lines + 1)),
        shipping_cost=9_000, total_amount=9_000 + sum(n * 10_000 for n in range(1, lines + 1)))


def _at_0006_with_an_old_order(url: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        conn.exec_driver_sql(
            "INSERT INTO orders (channel, order_id, shop_id, invoice_ref_num, status, create_time, update_time,"
            " buyer_name, recipient_name, recipient_phone, recipient_address, shipping_cost, total_amount,"
            f" first_seen_at, updated_at) VALUES ('marketplace', 1, 1, 'INV/1', 700, {NOW - 400 * DAY},"
            f" {NOW - 399 * DAY}, 'Pak Lama', 'Pak Lama', '0812', 'Jl. Lama 1', 0, 30000,"
            " '2025-01-01 00:00:00+00:00', '2025-01-01 00:00:00+00:00')")
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request, tmp_path):
    """A database at migration 0006 holding one order finished long ago, as a state URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        _at_0006_with_an_old_order(url)
        yield url
        return
    import psycopg

    postgres_url = request.getfixturevalue("postgres_url")  # skips, visibly, when not configured
    schema = f"lapak_retention_{uuid.uuid4().hex[:8]}"
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_url else "?"
    url = f"{postgres_url}{sep}options=-csearch_path%3D{schema}"
    try:
        _at_0006_with_an_old_order(url)
        yield url
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def stored(store: StateStore, channel: str = "marketplace") -> dict[int, dict]:
    with store.session() as s:
        return {r.order_id: {c: getattr(r, c) for c in (*PERSONAL, "status", "total_amount", "shipping_cost",
                                                        "buyer_details_removed_at", "updated_at")}
                for r in s.scalars(select(OrderRow).where(OrderRow.channel == channel))}


def test_old_final_orders_lose_buyer_details_open_and_recent_ones_keep_them(state_url):
    store = StateStore(state_url)  # migrated from 0006: the order already stored is purged too
    try:
        indexes = {ix["name"] for ix in inspect(store.engine).get_indexes("orders")}
        assert "ix_orders_buyer_retention" in indexes
        kept_open, recent, edge = order(12, 500, 300), order(13, 700, 10), order(14, 15, 89)
        old = [order(10, 700, 100), order(11, 15, 95), order(20, 0, 91.5, created=NOW - 95 * DAY)]
        store.upsert_orders([*old, kept_open, recent, edge])
        store.upsert_orders([order(10, 700, 200, channel="tiktok", created=NOW - 210 * DAY)])
        before = stored(store)

        done = store.remove_buyer_details(NOW - 90 * DAY, chunk=2)  # several chunks, one UPDATE each
        assert done.orders == 5
        assert done.months == {month_of(NOW - 400 * DAY), month_of(NOW - 150 * DAY), month_of(NOW - 95 * DAY),
                               month_of(NOW - 210 * DAY)}
        after = stored(store)
        for oid in (1, 10, 11, 20):
            assert all(after[oid][c] == "" for c in PERSONAL), after[oid]
            assert after[oid]["buyer_details_removed_at"] is not None
            assert after[oid]["updated_at"] > before[oid]["updated_at"]  # their sheets are due again
            assert [after[oid][c] for c in ("status", "total_amount", "shipping_cost")] == \
                [before[oid][c] for c in ("status", "total_amount", "shipping_cost")]
        assert stored(store, "tiktok")[10]["buyer_name"] == ""
        for oid in (12, 13, 14):  # open (however old), final 10 days ago, final 89 days ago
            assert after[oid] == before[oid]
        lines = {o.order_id: o for o in store.orders_for(channel="marketplace")}
        assert [(x.sku, x.quantity, x.total_price) for x in lines[10].lines] == [("SKU-1", 1, 10_000),
                                                                                ("SKU-2", 2, 20_000)]
        assert (lines[10].buyer_name, lines[10].recipient.name, lines[10].recipient.full_address(),
                lines[10].recipient.phone, lines[10].recipient.city) == (REMOVED, REMOVED, REMOVED, "", "")
        assert lines[13].buyer_name == "Ibu marketplace 13" and lines[13].recipient.city == "Wonosobo"

        assert store.remove_buyer_details(NOW - 90 * DAY).orders == 0  # idempotent
        assert store.buyer_details_removed() == 5

        # The channel shows them again (a backfill; a late change read again): they stay removed.
        store.upsert_orders([old[0], replace(old[1], update_time=NOW, status=601)])
        again = stored(store)
        assert all(again[oid][c] == "" for oid in (10, 11) for c in PERSONAL)
        assert again[11]["status"] == 601
        assert again[10]["buyer_details_removed_at"] == after[10]["buyer_details_removed_at"]
        assert again[13]["buyer_name"] == "Ibu marketplace 13"
    finally:
        store.close()


def test_the_purge_reads_the_partial_index(tmp_path):
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with store.session() as s:
            plan = s.execute(text(
                "EXPLAIN QUERY PLAN SELECT order_id, create_time FROM orders WHERE channel = 'tiktok' AND "
                "buyer_details_removed_at IS NULL AND update_time < 5 AND status IN (0, 700) LIMIT 500")).all()
        assert "ix_orders_buyer_retention" in " ".join(str(r[-1]) for r in plan)
    finally:
        store.close()


# ---- end to end: an order run's step, backfills and a pull, the month's sheets -------------------------

SHOP = 620_001
SKU = "CAR-1"


def open_runtime(folder: Path, *extra: str) -> Runtime:
    """A config in ``folder`` (``extra`` lines appended) for one group whose shop is on an
    in-memory channel holding one product; its runtime, the product listed in the store."""
    config = folder / "lapak.toml"
    config.write_text("\n".join([
        "[marketplace]", 'api_url = "http://127.0.0.1:9"', 'auth_url = "http://127.0.0.1:9"', "fs_id = 1",
        'client_id = "unused"', "[state]", 'url = "sqlite:///var/lapak.db"', "[output]", 'dir = "out"', *extra,
        "[[groups]]", 'id = "sekar"', 'name = "KWT Sekar"', f"shop_id = {SHOP}", 'catalogue = "c.csv"']) + "\n")
    cfg = load_config(config)
    channel = MemoryChannel()
    channel.shop(SHOP).products[SKU] = ChannelProduct(
        product_id=501, sku=SKU, name="Keripik Carica", category_id=101, price=12_500, stock=100, min_order=1,
        weight_g=250.0, condition="NEW", description="", pictures=(), status="ACTIVE", shop_id=SHOP)
    runtime = Runtime(config=cfg, store=StateStore(cfg.state_url), channels={"marketplace": channel})
    runtime.store.upsert_groups(cfg.groups)
    runtime.store.save_listings([KnownListing(
        shop_id=SHOP, sku=SKU, group_id="sekar", product_id=501, name="Keripik Carica", category_id=101,
        price=12_500, stock=100, recorded_stock=100, min_order=1, weight_g=250.0, condition="NEW",
        description="", pictures=())])
    return runtime



@pytest.fixture
def rt(tmp_path):
    runtime = open_runtime(tmp_path)
    yield runtime
    runtime.close()


def _place(rt: Runtime, who: str, created: int, status: int, final_days_ago: float) -> Order:
    """A buyer's order on the channel, moved on to ``status`` ``final_days_ago`` days ago."""
    channel: MemoryChannel = rt.channel
    placed = channel.place_order(SHOP, {SKU: 2}, created)
    phone = f"0813{placed.order_id:08d}"
    moved = replace(placed, status=status, update_time=int(NOW - final_days_ago * DAY), buyer_name=who,
                    recipient=Recipient(name=f"{who} (penerima)", phone=phone, address=f"Jl. {who} No. 9",
                                        city="Wonosobo"))
    channel.shop(SHOP).orders[placed.order_id] = moved
    return moved


def _sheet_text(path: Path) -> str:
    book = load_workbook(path, read_only=True)
    return "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
                     if v is not None)


def _month_files(rt: Runtime, month: str) -> tuple[str, str]:
    base = rt.config.output_dir / "orders" / "sekar" / month
    return _sheet_text(base.with_suffix(".xlsx")), base.with_suffix(".csv").read_text(encoding="utf-8-sig")


def test_a_backfill_stores_old_orders_without_the_details_a_rerun_and_a_pull_never_bring_back(rt):
    created = NOW - 120 * DAY
    old_done, old_cancelled = _place(rt, "Sari Lama", created, 700, 100), _place(rt, "Budi Batal", created, 15, 95)
    recent_done = _place(rt, "Wati Baru", created, 700, 10)
    shipped = _place(rt, "Joko Dikirim", created, 500, 100)  # open, however old: it may still change
    day = datetime.fromtimestamp(created, WIB).date()
    month = month_of(created)

    summary = run_backfill(rt, Inline(rt), day, day)
    assert summary["shops"][str(SHOP)]["new"] == 4
    assert summary["buyer_details_removed"] == summary["totals"]["buyer_details_removed"] == 2
    assert summary["retention"]["months"] == [month] and summary["retention"]["keep_days"] == 90

    def check() -> None:
        rows = stored(rt.store)
        for o in (old_done, old_cancelled):
            assert all(rows[o.order_id][c] == "" for c in PERSONAL)
            assert rows[o.order_id]["total_amount"] == o.total_amount == 25_000
        for o in (recent_done, shipped):
            assert rows[o.order_id]["buyer_name"] == o.buyer_name and rows[o.order_id]["recipient_phone"]
        for text_ in _month_files(rt, month):  # the workbook (every sheet) and the CSV
            gone = [x for o in (old_done, old_cancelled) for x in (o.buyer_name, o.recipient.phone)]
            assert not [x for x in gone if x in text_], "removed details still in a sheet"
            assert all(o.recipient.name in text_ and o.recipient.address in text_ for o in (recent_done, shipped))
            assert REMOVED in text_
            assert all(o.invoice in text_ for o in (old_done, old_cancelled))  # the orders and their lines stay
        assert [len(o.lines) for o in rt.store.orders_for(SHOP)] == [1, 1, 1, 1]

    check()
    # A backfill again, after a late change of a removed order; then a pull, which refreshes the open ones.
    rt.channel.set_status(SHOP, old_done.order_id, 601, NOW - DAY)
    again = run_backfill(rt, Inline(rt), day, day)
    assert (again["shops"][str(SHOP)]["changed"], again["buyer_details_removed"]) == (1, 0)
    assert month in again["months"]  # its sheets were rewritten, from what the store keeps
    check()
    pulled = run_order_pull(rt, Inline(rt), now=NOW)
    assert pulled["shops"][str(SHOP)]["refreshed"] == 2 and pulled["buyer_details_removed"] == 0
    check()


def test_the_days_kept_are_the_configs(tmp_path, rt):
    (tmp_path / "b").mkdir()
    shorter = open_runtime(tmp_path / "b", "[orders]", "keep_buyer_details_days = 30")
    try:
        for runtime in (rt, shorter):
            runtime.store.upsert_orders([order(30, 700, 31, created=NOW - 40 * DAY)])
        assert remove_old_buyer_details(rt, NOW)["removed"] == 0  # 90 days by default
        assert remove_old_buyer_details(shorter, NOW) == {
            "removed": 1, "months": [month_of(NOW - 40 * DAY)], "keep_days": 30, "final_before": NOW - 30 * DAY}
        assert shorter.store.orders_for()[0].buyer_name == REMOVED
    finally:
        shorter.close()
