"""Orders end to end: the sandbox marketplace as a real server, a real state store, a real config.

One sandbox for the module; every test gets shops of its own (the sandbox links many), so no
test sees another's orders. Listings and a catalogue snapshot are recorded in the store by hand,
as the catalogue sync would have left them.
"""

from __future__ import annotations

import csv
import itertools
import time
import uuid
from argparse import Namespace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from connectors.marketplace import ForbiddenError, ServerError, TransportError
from connectors.sandbox import running_sandbox
from connectors.sheets import SHEET_COLUMNS, SHEET_NAME
from connectors.state.models import Order as OrderRow
from connectors.state.models import OrderItem as ItemRow
from flows.engine.order_runs import OrdersRunError
from flows.engine.order_sheets import write_order_sheets
from flows.engine.orders import backfill_for_shop, cursor_name, pull_orders_for_shop
from flows.engine.runtime import Runtime
from flows.tasks import retry_transient
from schemas.dates import WIB, day_bounds, month_of
from schemas.errors import LapakError, is_transient
from schemas.listing import KnownListing
from schemas.orders import UNASSIGNED

DAY = 86_400
SHOPS = tuple(range(610_001, 610_041))
UNLINKED_SHOP = 999_999
STOCK_PATH = "/inventory/v1/fs/{fs_id}/stock/update"
_free_shops = iter(SHOPS)
_tags = itertools.count()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with running_sandbox(tmp_path_factory.mktemp("sandbox"), rate_limit=None, shops=SHOPS) as sb:
        yield sb


def new_shop() -> int:
    return next(_free_shops)


class World:
    """A config in ``tmp_path`` pointing at the sandbox, its runtime, and helpers to list
    products (on the marketplace and in the store) and to place orders."""

    def __init__(self, tmp_path: Path, sb, groups: dict[str, int], *, buffer: int = 0,
                 state_url: str = "sqlite:///var/lapak.db") -> None:
        self.sb, self.tag = sb, next(_tags)
        self.gid = {name: f"g{self.tag}-{name}" for name in groups}
        self.shop = dict(groups)
        self.config_path = tmp_path / "lapak.toml"
        self.write_config(groups, buffer=buffer, state_url=state_url)
        self.rt = Runtime.open(str(self.config_path))
        self.client = self.rt.channel.client  # the wire-level client, to set the marketplace up
        self.rt.store.upsert_groups(self.rt.config.groups)
        # The catalogue was counted long before any order these tests place.
        self.recorded_at = datetime.fromtimestamp(time.time() - 90 * DAY).astimezone()
        for g in self.rt.config.groups:
            self.rt.store.add_snapshot(group_id=g.id, recorded_at=self.recorded_at, content_hash="x" * 64,
                                       rows_in=1, listings=1, rejected=0, accepted=True)
        self._n = itertools.count()

    def write_config(self, groups: dict[str, int], *, buffer: int = 0,
                     state_url: str = "sqlite:///var/lapak.db") -> None:
        lines = [
            "[marketplace]", f'api_url = "{self.sb.url}"', f'auth_url = "{self.sb.url}"',
            f"fs_id = {self.sb.fs_id}", f'client_id = "{self.sb.client_id}"', "rate_limit_per_second = 1000",
            "[state]", f'url = "{state_url}"', "[output]", 'dir = "out"', "[stock]", f"safety_buffer = {buffer}",
        ]
        for name, shop in groups.items():
            gid = self.gid.get(name, f"g{self.tag}-{name}")
            lines += ["[[groups]]", f'id = "{gid}"', f'name = "Kelompok {name}"', f"shop_id = {shop}",
                      f'catalogue = "catalogues/{name}.csv"']
        self.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    @property
    def out(self) -> Path:
        return self.rt.config.output_dir

    def products(self, group: str, n: int, stock: int = 20, *, record: bool = True) -> list[str]:
        """``n`` products created on the marketplace (stock as the sync pushes it: recorded − buffer)
        and, with ``record``, the listings the sync would have stored."""
        shop, gid = self.shop[group], self.gid[group]
        buffer = self.rt.config.stock.safety_buffer
        rows = []
        for _ in range(n):
            i = next(self._n)
            rows.append({"name": f"Keripik {self.tag} {group} {i}", "sku": f"T{self.tag}-{group}-{i}",
                         "category_id": 101, "price": 12_500, "stock": stock - buffer, "weight": 250,
                         "pictures": [{"file_path": f"https://img.example/{self.tag}/{i}.jpg"}]})
        created = self.client.create_products(shop, rows)
        assert created.ok, created.failed
        ids = created.product_ids()
        if record:
            self.rt.store.save_listings([KnownListing(
                shop_id=shop, sku=r["sku"], group_id=gid, product_id=ids[r["sku"]], name=r["name"], category_id=101,
                price=r["price"], stock=r["stock"], recorded_stock=stock, min_order=1, weight_g=250.0, condition="NEW",
                description="", pictures=tuple(p["file_path"] for p in r["pictures"])) for r in rows])
        return [r["sku"] for r in rows]

    def order(self, shop: int, items: dict[str, int], **kw) -> dict:
        return self.sb.admin.place_order(shop, [{"sku": s, "quantity": q} for s, q in items.items()], **kw)

    def market_stock(self, shop: int, sku: str) -> int:
        return self.client.product_by_sku(shop, sku).stock.value

    def listing(self, shop: int, sku: str):
        return next(known for known in self.rt.store.listings(shop_id=shop) if known.sku == sku)

    def rows(self, model) -> int:
        with self.rt.store.session() as s:
            return s.scalar(select(func.count()).select_from(model))

    def stock_calls(self) -> int:
        paths = self.sb.admin.stats()["paths"]
        return paths.get(STOCK_PATH.format(fs_id=self.sb.fs_id), {}).get("calls", 0)


@pytest.fixture
def world(tmp_path, sandbox, monkeypatch):
    monkeypatch.setenv("LAPAK_CLIENT_SECRET", sandbox.client_secret)
    made = []

    def make(groups: dict[str, int], **kw) -> World:
        w = World(tmp_path, sandbox, groups, **kw)
        made.append(w)
        return w

    yield make
    for w in made:
        w.rt.close()


# ---- pulling -------------------------------------------------------------------------------------

def test_pull_stores_each_order_once_and_pushes_recorded_minus_sold(world):
    shop = new_shop()
    w = world({"a": shop})
    a, b = w.products("a", 2, stock=20)
    w.order(shop, {a: 3})
    w.order(shop, {a: 2, b: 5})
    # Someone edited the figure by hand on the marketplace: the catalogue's rule wins again.
    w.client.update_stock(shop, [{"sku": b, "new_stock": 99}])

    res = pull_orders_for_shop(w.rt, shop)

    assert (res["pulled"], res["new"], res["changed"], res["refreshed"]) == (2, 2, 0, 0)
    assert res["skus"] == sorted([a, b])
    assert res["groups"] == {w.gid["a"]: {"new": 2, "changed": 0}}
    assert (w.rows(OrderRow), w.rows(ItemRow)) == (2, 3)
    assert w.listing(shop, a).stock == 20 - 5 == w.market_stock(shop, a)
    assert w.listing(shop, b).stock == 20 - 5 == w.market_stock(shop, b)
    # Only b is pushed: the marketplace already decremented a itself, so its figure is recorded as is
    # (a correction never raises stock past what the marketplace shows: that could undo a newer sale).
    assert [p["sku"] for p in res["stock"]["pushed"]] == [b]
    assert res["stock"]["failed"] == []
    assert w.listing(shop, a).has_orders


def test_a_cancel_gives_the_stock_back_on_the_next_pull(world, sandbox):
    shop = new_shop()
    w = world({"a": shop})
    (a,) = w.products("a", 1, stock=10)
    placed = w.order(shop, {a: 4})
    pull_orders_for_shop(w.rt, shop)
    assert w.listing(shop, a).stock == 6 == w.market_stock(shop, a)

    sandbox.admin.set_order_status(placed["order_id"], 0)
    res = pull_orders_for_shop(w.rt, shop)

    assert (res["new"], res["changed"], res["skus"]) == (0, 1, [a])
    assert w.listing(shop, a).stock == 10 == w.market_stock(shop, a)
    assert w.rt.store.orders_for(shop)[0].status == 0


def test_pulling_twice_stores_nothing_twice_writes_nothing_needless_and_moves_the_cursor(world):
    shop = new_shop()
    w = world({"a": shop})
    a, b = w.products("a", 2)
    for q in (1, 2, 3):
        w.order(shop, {a: q, b: 1})
    t = int(time.time())

    first = pull_orders_for_shop(w.rt, shop, now=t)
    assert w.rt.store.cursor(cursor_name(shop)) == t
    calls = w.stock_calls()
    # The marketplace decremented both itself: its figures are recorded, nothing is pushed.
    assert first["stock"] == {"pushed": [], "failed": [], "unchanged": 2}
    second = pull_orders_for_shop(w.rt, shop, now=t + 60)

    assert (first["new"], second["pulled"], second["new"], second["changed"]) == (3, 3, 0, 0)
    assert second["window"][0] == t - 2 * DAY  # from the cursor, minus the look-back
    assert w.rt.store.cursor(cursor_name(shop)) == t + 60
    assert (w.rows(OrderRow), w.rows(ItemRow)) == (3, 6)
    assert second["stock"] == {"pushed": [], "failed": [], "unchanged": 2}
    assert w.stock_calls() == calls  # nothing changed: no stock call at all


def test_a_status_change_older_than_the_look_back_is_caught_by_the_open_order_refresh(world, sandbox):
    shop = new_shop()
    w = world({"a": shop})
    (a,) = w.products("a", 1, stock=10)
    old = w.order(shop, {a: 3}, create_time=int(time.time()) - 4 * DAY)
    w.order(shop, {a: 1})
    t = int(time.time())
    first = pull_orders_for_shop(w.rt, shop, now=t)  # first run: 3 days + 2 of look-back
    assert (first["new"], first["refreshed"]) == (2, 0)

    sandbox.admin.set_order_status(old["order_id"], 500)
    shipped = pull_orders_for_shop(w.rt, shop, now=t + 60)
    assert (shipped["pulled"], shipped["refreshed"], shipped["changed"]) == (1, 1, 1)
    assert {o.order_id: o.status for o in w.rt.store.orders_for(shop)}[old["order_id"]] == 500

    sandbox.admin.set_order_status(old["order_id"], 10)  # cancelled after all: 3 units come back
    cancelled = pull_orders_for_shop(w.rt, shop, now=t + 120)
    assert (cancelled["refreshed"], cancelled["changed"], cancelled["skus"]) == (1, 1, [a])
    assert w.listing(shop, a).stock == 10 - 1 == w.market_stock(shop, a)

    # A cancelled order no longer changes: it is not asked for again.
    assert pull_orders_for_shop(w.rt, shop, now=t + 180)["refreshed"] == 0


def test_backfill_twice_stores_every_order_once_and_leaves_the_cursor(world):
    shop = new_shop()
    w = world({"a": shop})
    (a,) = w.products("a", 1, stock=100)
    t = int(time.time())
    start, end = t - 10 * DAY, t - DAY
    inside = [start, t - 9 * DAY + 5, t - 7 * DAY, t - 4 * DAY - 1, t - 3 * DAY, end - 1]
    for created in (*inside, start - 1, end):  # the last two are outside [start, end)
        w.order(shop, {a: 1}, create_time=created)

    once = backfill_for_shop(w.rt, shop, start, end)
    twice = backfill_for_shop(w.rt, shop, start, end)

    assert (once["pulled"], once["new"]) == (len(inside), len(inside))
    assert (twice["pulled"], twice["new"], twice["changed"]) == (len(inside), 0, 0)
    assert (w.rows(OrderRow), w.rows(ItemRow)) == (len(inside), len(inside))
    assert sorted(o.create_time for o in w.rt.store.orders_for(shop)) == sorted(inside)
    assert w.rt.store.cursor(cursor_name(shop)) is None
    # Only the stored orders count towards the rule (100 − 6), but the marketplace also counted the two
    # outside the range: the pipeline records its lower figure and never pushes above it.
    assert w.listing(shop, a).stock == 100 - len(inside) - 2 == w.market_stock(shop, a)


def test_a_stock_row_the_marketplace_refuses_is_reported_not_raised(world):
    shop = new_shop()
    w = world({"a": shop})
    (a,) = w.products("a", 1, stock=10)
    ghost = f"GHOST-{w.tag}"  # the store lists it; the marketplace has no such SKU
    w.rt.store.save_listings([KnownListing(
        shop_id=shop, sku=ghost, group_id=w.gid["a"], product_id=1, name="Hantu", category_id=101, price=1000,
        stock=5, recorded_stock=9, min_order=1, weight_g=1.0, condition="NEW", description="", pictures=())])
    w.order(shop, {a: 2})

    res = pull_orders_for_shop(w.rt, shop)

    assert res["stock"]["pushed"] == []  # a: the marketplace already shows 8
    assert [f["sku"] for f in res["stock"]["failed"]] == [ghost] and res["stock"]["failed"][0]["error"]
    assert w.listing(shop, a).stock == 8 and w.listing(shop, ghost).stock == 5


# ---- order sheets --------------------------------------------------------------------------------

HOSTILE = '=HYPERLINK("http://x","klik")'
PHONE = "+6281234567890"


def test_order_sheets_per_group_and_month_one_line_per_item_inert_text_real_numbers(world, caplog):
    shop = new_shop()
    w = world({"a": shop, "b": shop})  # two groups sharing one shop
    a1, a2 = w.products("a", 2, stock=50)
    (b1,) = w.products("b", 1, stock=50)
    (stray,) = w.products("a", 1, stock=50, record=False)  # on the marketplace, unknown to the store
    t = int(time.time())
    recipient = {"name": "@Ibu Sri", "phone": PHONE,
                 "address": {"address_full": "Jl. Kartini 5\nRT 2", "district": "Kalibeber", "city": "Wonosobo",
                             "province": "Jawa Tengah", "postal_code": "56351"}}
    mixed = w.order(shop, {a1: 2, a2: 1, b1: 3}, buyer={"name": HOSTILE, "phone": PHONE}, recipient=recipient,
                    create_time=t - 60)
    old = w.order(shop, {a1: 1}, create_time=t - 40 * DAY)
    w.order(shop, {stray: 1}, create_time=t - 60)
    backfill_for_shop(w.rt, shop, t - 45 * DAY, t + 1)

    with caplog.at_level("WARNING", logger="lapak.orders"):
        paths = write_order_sheets(w.rt)

    now_m, old_m = month_of(t - 60), month_of(t - 40 * DAY)
    root = w.out / "orders"
    expected = {(w.gid["a"], now_m), (w.gid["a"], old_m), (w.gid["b"], now_m), (UNASSIGNED, now_m)}
    assert {(p.parent.name, p.stem) for p in paths} == expected
    # A workbook and a CSV per group-month, and a sales picture but for the unassigned lines.
    assert sorted(p.suffix for p in paths) == sorted([".xlsx", ".csv"] * len(expected) + [".png"] * (len(expected) - 1))
    assert {p for p in paths if p.suffix == ".png"} == {w.out / "reports" / g / f"{m}.png" for g, m in expected
                                                         if g != UNASSIGNED}
    assert stray in caplog.text and UNASSIGNED in caplog.text

    header, lines = read_sheet(root / w.gid["a"] / f"{now_m}.xlsx")
    assert header == list(SHEET_COLUMNS.values())
    assert "Tanggal Pesanan (WIB) / Order date (WIB)" in header and "Jumlah / Qty" in header
    assert [c["SKU"].value for c in lines] == [a1, a2]  # the order's group-b item is in b's sheet
    first = lines[0]
    # Text a spreadsheet would run reads as written, in quote-prefixed string cells (a phone shows "+62…").
    for header, value in (("Pembeli / Buyer", HOSTILE), ("Telepon / Phone", PHONE),
                          ("Penerima / Recipient", "@Ibu Sri")):
        assert (first[header].value, first[header].data_type, first[header].quotePrefix) == (value, "s", True)
    assert not any(c.data_type == "f" for line in lines for c in line.values())
    numbers = ("Jumlah / Qty", "Harga Satuan / Unit price", "Total")
    assert [first[h].value for h in numbers] == [2, 12_500, 25_000]
    assert all(isinstance(first[h].value, int) and first[h].data_type == "n" for h in numbers)
    created = first["Tanggal Pesanan (WIB) / Order date (WIB)"].value
    assert isinstance(created, datetime) and first["Tanggal Pesanan (WIB) / Order date (WIB)"].is_date
    assert created == datetime.fromtimestamp(t - 60, WIB).replace(tzinfo=None)
    assert first["No. Invoice / Invoice no."].value == mixed["invoice_ref_num"]
    assert first["Status"].value == "Pembayaran terverifikasi"
    assert first["Kota / City"].value == "Wonosobo"
    assert first["Alamat / Address"].value == "Jl. Kartini 5 RT 2, Kalibeber, Wonosobo, Jawa Tengah, 56351"

    _, b_lines = read_sheet(root / w.gid["b"] / f"{now_m}.xlsx")
    assert [(c["SKU"].value, c["Jumlah / Qty"].value) for c in b_lines] == [(b1, 3)]
    _, old_lines = read_sheet(root / w.gid["a"] / f"{old_m}.xlsx")
    assert [c["No. Pesanan / Order ID"].value for c in old_lines] == [old["order_id"]]
    _, stray_lines = read_sheet(root / UNASSIGNED / f"{now_m}.xlsx")
    assert [(c["SKU"].value, c["ID Toko / Shop ID"].value) for c in stray_lines] == [(stray, shop)]

    with open(root / w.gid["a"] / f"{now_m}.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["Pembeli / Buyer"] for r in rows] == ["'" + HOSTILE] * 2
    assert rows[0]["Telepon / Phone"] == "'" + PHONE and rows[0]["Jumlah / Qty"] == "2"

    # Rewritten whole from the store: the same files, the same content, a status change shows.
    before = (root / w.gid["b"] / f"{now_m}.csv").read_bytes()
    assert sorted(write_order_sheets(w.rt, {now_m})) == sorted(p for p in paths if p.stem == now_m)
    assert (root / w.gid["b"] / f"{now_m}.csv").read_bytes() == before
    w.sb.admin.set_order_status(mixed["order_id"], 700)
    backfill_for_shop(w.rt, shop, t - DAY, t + 1)
    write_order_sheets(w.rt, {now_m})
    assert {c["Status"].value for c in read_sheet(root / w.gid["a"] / f"{now_m}.xlsx")[1]} == {"Selesai"}


def read_sheet(path: Path):
    """The order lines sheet of a month's workbook: its header and a dict of cells per line."""
    ws = load_workbook(path)[SHEET_NAME]
    rows = list(ws.iter_rows())
    header = [c.value for c in rows[0]]
    return header, [dict(zip(header, r)) for r in rows[1:]]


# ---- the pull of chosen shops (what an order notification starts) ------------------------------

WONOSOBO, WONOSOBO_TIKTOK = 479573, 7494001  # the samples' group on both channels (tiktok as in `lapak demo`)


@pytest.fixture
def two_channels(tmp_path):
    """The samples with Wonosobo on both channels, each channel in memory, Wonosobo's catalogue synced."""
    import shutil

    from connectors.config import load_config
    from connectors.state import StateStore
    from flows.cli.demo import with_tiktok
    from flows.engine.planning import SyncOptions
    from flows.engine.steps import Inline
    from flows.engine.sync import run_sync
    from tests.conftest import SAMPLES
    from tests.memory_channel import MemoryChannel

    shutil.copytree(SAMPLES, tmp_path / "w", ignore=shutil.ignore_patterns("*.py", "out", "var"))
    cfg = tmp_path / "w" / "lapak.toml"
    text = with_tiktok(cfg.read_text(encoding="utf-8"), "http://127.0.0.1:9", WONOSOBO_TIKTOK)
    cfg.write_text(text[:text.index("[tiktok.categories]")], encoding="utf-8")  # the memory channel's own ids
    config = load_config(cfg)
    rt = Runtime(config=config, store=StateStore(config.state_url),
                 channels={"marketplace": MemoryChannel(), "tiktok": MemoryChannel()})
    run_sync(rt, SyncOptions(groups=["wonosobo-sekar-carica"]), Inline(rt)).raise_for_problems()
    yield rt
    rt.close()


def tiktok_order(rt: Runtime, sku: str, qty: int, created: int) -> None:
    """A sale on the second channel (the memory channel names its orders the first one's: renamed)."""
    from dataclasses import replace

    shop = rt.channels["tiktok"].shop(WONOSOBO_TIKTOK)
    order = rt.channels["tiktok"].place_order(WONOSOBO_TIKTOK, {sku: qty}, created=created)
    shop.orders[order.order_id] = replace(order, channel="tiktok")


def test_a_pull_of_one_shop_reads_only_its_orders_and_corrects_every_channel_of_its_groups(two_channels):
    from flows.engine.order_runs import run_order_pull
    from flows.engine.steps import Inline

    rt = two_channels
    market, tiktok = rt.channels["marketplace"], rt.channels["tiktok"]
    sku = next(iter(tiktok.shop(WONOSOBO_TIKTOK).products))  # listed on both channels
    other = next(s for s in market.shop(WONOSOBO).products if s != sku)
    before = market.product(WONOSOBO, sku).stock
    now = int(time.time())
    tiktok_order(rt, sku, 2, now - 5)
    market.place_order(WONOSOBO, {other: 1}, created=now - 5)  # not this pull's: read by the next full one
    writes, cursor = dict(market.writes), rt.store.cursor(cursor_name(WONOSOBO))

    pulled = run_order_pull(rt, Inline(rt), now=now, shops=[f"tiktok:{WONOSOBO_TIKTOK}"])
    assert pulled["chosen"] == [f"tiktok:{WONOSOBO_TIKTOK}"] and not pulled["errors"]
    assert pulled["totals"]["orders_new"] == 1 and rt.store.count_orders() == 1
    assert market.product(WONOSOBO, sku).stock == before - 2, "the TikTok sale lowered the marketplace"
    assert market.writes["stock"] == writes.get("stock", 0) + 1 and tiktok.writes["stock"] == 0
    # The marketplace shop was corrected, not read: its cursor did not move; shops of other groups untouched.
    assert pulled["shops"][str(WONOSOBO)]["pulled"] == 0 and rt.store.cursor(cursor_name(WONOSOBO)) == cursor
    assert rt.store.cursor(f"orders:tiktok:{WONOSOBO_TIKTOK}") == now
    assert set(pulled["shops"]) == {str(WONOSOBO), f"tiktok:{WONOSOBO_TIKTOK}"}
    assert {(r["group"], r["channel"]) for r in pulled["groups"]} == {
        ("wonosobo-sekar-carica", "marketplace"), ("wonosobo-sekar-carica", "tiktok")}

    everything = run_order_pull(rt, Inline(rt), now=now + 60)  # the schedule's pull: every shop
    assert everything["totals"]["orders_new"] == 1 and rt.store.count_orders() == 2


def test_a_notified_pull_waits_out_the_burst_window_and_a_covered_one_does_nothing(two_channels):
    from flows.engine.notified import NOTIFIED_WINDOW_S, cutoff
    from flows.engine.order_runs import run_order_pull
    from flows.engine.steps import Inline

    rt = two_channels
    tiktok = rt.channels["tiktok"]
    sku = next(iter(tiktok.shop(WONOSOBO_TIKTOK).products))
    shop = [f"tiktok:{WONOSOBO_TIKTOK}"]
    notified = time.time() - NOTIFIED_WINDOW_S + 0.8  # its window ends within a second
    tiktok_order(rt, sku, 1, int(notified))
    first = run_order_pull(rt, Inline(rt), shops=shop, notified_at=notified)
    # A notification folded into this run (up to the window's end) is covered by its cut-off.
    assert first["now"] >= cutoff(notified) >= notified + NOTIFIED_WINDOW_S and time.time() >= cutoff(notified)
    assert first["totals"]["orders_new"] == 1

    # A run queued behind it, for a notification its cut-off covers, reads nothing and writes nothing.
    calls = dict(tiktok.calls)
    covered = run_order_pull(rt, Inline(rt), shops=shop, notified_at=first["now"] - NOTIFIED_WINDOW_S)
    assert covered["skipped"] and covered["shops"] == {} and dict(tiktok.calls) == calls
    # One it does not cover is a pull.
    tiktok_order(rt, sku, 1, first["now"])
    after = run_order_pull(rt, Inline(rt), shops=shop, notified_at=first["now"] - NOTIFIED_WINDOW_S + 1,
                           now=first["now"] + 1)
    assert "skipped" not in after and after["totals"]["orders_new"] == 1
    assert rt.store.count_orders() == 2


def test_a_pull_of_an_unknown_shop_fails_naming_it(two_channels):
    from flows.engine.order_runs import run_order_pull
    from flows.engine.steps import Inline

    cursor = two_channels.store.cursor(f"orders:tiktok:{WONOSOBO_TIKTOK}")
    for name, why in [("tiktok:1", "not configured"), ("shopee:479573", "not configured"), ("keripik", "not a shop")]:
        with pytest.raises(ValueError, match=f"shop '{name}' is {why}") as failed:
            run_order_pull(two_channels, Inline(two_channels), shops=[f"tiktok:{WONOSOBO_TIKTOK}", name])
        assert why == "not a shop" or f"configured shops: marketplace:{WONOSOBO}, " in str(failed.value)
    assert two_channels.store.cursor(f"orders:tiktok:{WONOSOBO_TIKTOK}") == cursor, "nothing was pulled"


def test_a_notified_pull_says_so_and_which_shop_in_its_run_name():
    from flows.params import orders_name

    start = datetime(2026, 11, 27, 10, 17, tzinfo=WIB)
    notified = {"config_path": "/nowhere/lapak.toml", "shops": ["tiktok:7494001"], "notified_at": start}
    assert orders_name(notified, start) == "orders (notified) · tiktok:7494001 · 2026-11-27 10:17"
    assert orders_name({**notified, "notified_at": None}, start) == "orders · tiktok:7494001 · 2026-11-27 10:17"
    assert orders_name({"config_path": "/nowhere/lapak.toml"}, start).startswith("orders · all shops · ")


# ---- Prefect flows and the commands --------------------------------------------------------------

def test_only_transient_marketplace_errors_are_retried():
    from prefect.states import Failed

    assert is_transient(ServerError("busy", status=503)) and is_transient(TransportError("reset"))
    assert not is_transient(ForbiddenError("not linked", status=403))
    assert retry_transient(None, None, Failed(data=ServerError("busy", status=502)))
    assert not retry_transient(None, None, Failed(data=ForbiddenError("no", status=403)))
    assert not retry_transient(None, None, Failed(data=ValueError("a bug")))


def test_pull_orders_flow_summary_artifact_and_a_failed_shop(prefect_server, world, sandbox, capsys, monkeypatch):
    import anyio
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from connectors.marketplace import MarketplaceClient
    from flows.cli.runs import orders_command

    s1, s2 = new_shop(), new_shop()
    w = world({"a": s1, "b": s2}, buffer=1)
    (a,) = w.products("a", 1, stock=10)
    (b,) = w.products("b", 1, stock=10)
    w.order(s1, {a: 2})
    w.order(s2, {b: 1})

    assert orders_command(Namespace(config=str(w.config_path))) == 0
    printed = capsys.readouterr().out
    assert w.gid["a"] in printed and "Stock corrections pushed: 0" in printed  # created net of the buffer
    assert f"{w.gid['b']}/{month_of(int(time.time()))}.xlsx" in printed
    # The buffer holds one unit back: 10 − 2 − 1.
    assert w.listing(s1, a).stock == 7 == w.market_stock(s1, a)
    assert w.listing(s2, b).stock == 8 == w.market_stock(s2, b)
    assert (w.out / "orders" / w.gid["b"] / f"{month_of(int(time.time()))}.xlsx").exists()
    assert (w.out / "reports" / w.gid["b"] / f"{month_of(int(time.time()))}.png").exists()

    # A shop the credentials don't cover: the others are still pulled, the run fails, no retry on a 403.
    w.gid["c"] = f"g{w.tag}-c"
    w.write_config({"a": s1, "b": s2, "c": UNLINKED_SHOP}, buffer=1)
    w.order(s1, {a: 1})
    asked = []
    real = MarketplaceClient.iter_orders
    monkeypatch.setattr(MarketplaceClient, "iter_orders",
                        lambda self, shop, *a, **k: (asked.append(shop), real(self, shop, *a, **k))[1])
    failing = rf"^Shop failed after retries: shop {UNLINKED_SHOP} \(HTTP 403 RBAC_MDLW_001"
    with pytest.raises(OrdersRunError, match=failing):
        orders_command(Namespace(config=str(w.config_path)))
    printed = capsys.readouterr().out
    assert f"{w.gid['c']}" in printed and "GAGAL / FAILED" in printed and "Stock corrections pushed: 0" in printed
    assert asked.count(UNLINKED_SHOP) == 1
    assert w.rows(OrderRow) == 3 and w.listing(s1, a).stock == 6
    runs = w.rt.store.runs("pull-orders")
    assert [r.status for r in runs] == ["COMPLETED", "FAILED"]
    assert runs[-1].summary["totals"]["orders_new"] == 1
    assert str(UNLINKED_SHOP) in runs[-1].summary["errors"]

    async def artifacts():
        async with get_client() as client:
            key = ArtifactFilter(key=ArtifactFilterKey(any_=["orders-summary"]))
            return await client.read_artifacts(artifact_filter=key)

    found = anyio.run(artifacts)
    assert any(w.gid["a"] in str(art.data) and w.gid["c"] in str(art.data) and "ForbiddenError" in str(art.data)
               for art in found)

    async def reports():
        async with get_client() as client:
            key = ArtifactFilter(key=ArtifactFilterKey(any_=["orders-reports"]))
            return await client.read_artifacts(artifact_filter=key)

    # The sales pictures rewritten, with their month's totals (a's second order: 3 units in 2 orders).
    picture = f"reports/{w.gid['a']}/{month_of(int(time.time()))}.png"
    assert any(picture in str(art.data) and "| 2 | 3 |" in str(art.data) for art in anyio.run(reports))


def test_backfill_command_takes_inclusive_days_in_jakarta(prefect_server, world, capsys):
    from flows.cli.runs import backfill_command

    shop = new_shop()
    w = world({"a": shop})
    (a,) = w.products("a", 1, stock=10)
    day = (datetime.now(WIB) - timedelta(days=20)).date()
    lo, hi = day_bounds(day, day)
    assert hi - lo == DAY and datetime.fromtimestamp(lo, WIB).hour == 0
    for created in (lo - 1, lo, hi - 1, hi):
        w.order(shop, {a: 1}, create_time=created)

    args = Namespace(config=str(w.config_path), start=day.isoformat(), end=day.isoformat())
    assert backfill_command(args) == 0
    assert backfill_command(args) == 0
    assert sorted(o.create_time for o in w.rt.store.orders_for(shop)) == [lo, hi - 1]
    assert "2 baru/new" in capsys.readouterr().out
    assert w.rt.store.cursor(cursor_name(shop)) is None

    with pytest.raises(LapakError, match=r"--start .* is after --end"):
        backfill_command(Namespace(config=str(w.config_path), start="2026-05-02", end="2026-05-01"))
    with pytest.raises(LapakError, match="not a date"):
        backfill_command(Namespace(config=str(w.config_path), start="2026-13-01", end="2026-05-01"))


# ---- PostgreSQL ---------------------------------------------------------------------------------

@pytest.fixture
def pg_state_url(postgres_url):
    """The test database with a schema of our own (dropped afterwards), as a state URL."""
    import psycopg

    schema = f"lapak_orders_{uuid.uuid4().hex[:10]}"
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{sep}options=-csearch_path%3D{schema}", schema
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.postgres
def test_pull_and_backfill_against_postgresql(world, pg_state_url):
    url, schema = pg_state_url
    shop = new_shop()
    w = world({"a": shop}, state_url=url)
    assert w.rt.store.engine.dialect.name == "postgresql"
    (a,) = w.products("a", 1, stock=10)
    t = int(time.time())
    w.order(shop, {a: 2}, create_time=t - 6 * DAY)
    w.order(shop, {a: 1})
    w.order(shop, {a: 3})

    pulled = pull_orders_for_shop(w.rt, shop, now=int(time.time()))
    # The old order is before the window, but the marketplace counted it: its lower figure is recorded.
    assert pulled["new"] == 2 and w.listing(shop, a).stock == 10 - 6 == w.market_stock(shop, a)
    backfill_for_shop(w.rt, shop, t - 7 * DAY, t + 2)
    again = backfill_for_shop(w.rt, shop, t - 7 * DAY, t + 2)
    assert (again["pulled"], again["new"]) == (3, 0)
    with w.rt.store.session() as s:
        assert s.scalar(text("select current_schema()")) == schema
        assert s.scalar(text("select count(*) from orders")) == 3
        assert s.scalar(text("select count(*) from order_items")) == 3
    assert w.listing(shop, a).stock == 10 - 6 == w.market_stock(shop, a)
