"""Orders: pull new and changed orders into the state store, correct stock, write order sheets.

- :func:`pull_orders_for_shop` reads incrementally from the shop's cursor minus a look-back: the
  list endpoint filters on ``create_time`` but shows the *current* status, so recent orders are
  read again to catch their status changes; open orders older than that are refreshed one by one
  until they finish or are cancelled. The cursor moves only once everything is stored.
- :func:`backfill_for_shop` stores every order created in a range (idempotent; cursor untouched).
- :func:`correct_stock` pushes the stock rule (:mod:`flows.stock`) where it differs from the
  stock last pushed, and records what the marketplace confirmed.
- :func:`write_order_sheets` rewrites ``<output>/orders/<group>/<YYYY-MM>.xlsx`` (and ``.csv``)
  from the store: one line per order item, Indonesian headers with English beside them.
- Prefect: flows ``pull-orders`` and ``backfill-orders`` (a task per shop);
  ``orders_command`` / ``backfill_command`` back ``lapak orders`` and ``lapak backfill``.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from connectors.marketplace import (
    BatchResult,
    MarketplaceError,
    NotFoundError,
    Order,
    RateLimitedError,
    RowResult,
    ServerError,
    TransportError,
)
from connectors.sheets import replace_atomically, write_csv, write_xlsx
from flows.artifacts import ORDER_ROWS, order_change, orders_changes_table
from flows.limits import PacedWrites
from flows.params import WIB, backfill_run_name, orders_run_name
from flows.locks import lock_owner, shop_locks
from flows.runtime import Runtime
from flows.stock import desired_stock

log = logging.getLogger("lapak.orders")

DAY = 86_400
LOOKBACK_S = 2 * DAY     # proposed config key: [orders] lookback_hours = 48
FIRST_RUN_S = 3 * DAY    # proposed config key: [orders] first_run_hours = 72
UPSERT_CHUNK = 200       # orders per transaction: a failure part-way keeps what was stored
UNASSIGNED = "_unassigned"
ORDERS_DIR = "orders"
SHEET_NAME = "Pesanan (Orders)"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

# What a group reads in the "Status" column (codes: ../shared/marketplace-api.md, section 4).
STATUS_LABELS: dict[int, str] = {
    0: "Dibatalkan penjual",
    **{c: "Dibatalkan" for c in (3, 5, 6, 10, 15)},
    220: "Pembayaran terverifikasi",
    221: "Menunggu persetujuan mitra",
    400: "Diterima penjual",
    450: "Menunggu pickup",
    500: "Dikirim",
    **{c: "Kendala pengiriman" for c in (501, 520, 530)},
    540: "Di titik ambil",
    550: "Dikembalikan ke penjual",
    600: "Sampai",
    601: "Komplain pembeli",
    690: "Ditinjau (dugaan penipuan)",
    700: "Selesai",
}

# Sheet columns: internal name -> header people read.
SHEET_COLUMNS: dict[str, str] = {
    "created": "Tanggal Pesanan (WIB) / Order date (WIB)",
    "invoice": "No. Invoice / Invoice no.",
    "order_id": "No. Pesanan / Order ID",
    "status": "Status",
    "status_code": "Kode Status / Status code",
    "product": "Produk / Product",
    "sku": "SKU",
    "qty": "Jumlah / Qty",
    "unit_price": "Harga Satuan / Unit price",
    "total": "Total",
    "buyer": "Pembeli / Buyer",
    "recipient": "Penerima / Recipient",
    "phone": "Telepon / Phone",
    "address": "Alamat / Address",
    "city": "Kota / City",
}
SHOP_COLUMN = ("shop_id", "ID Toko / Shop ID")  # only in the unassigned sheets, for the operator


def status_label(code: int) -> str:
    return STATUS_LABELS.get(int(code), f"Status {code}")


def cursor_name(shop_id: int) -> str:
    return f"orders:{shop_id}"


def month_of(unix: int) -> str:
    """``YYYY-MM`` of a UNIX time, in Asia/Jakarta."""
    return datetime.fromtimestamp(int(unix), WIB).strftime("%Y-%m")


def month_bounds(month: str) -> tuple[int, int]:
    """``[start, end)`` in UNIX seconds of a ``YYYY-MM`` month in Asia/Jakarta."""
    if not _MONTH.match(month):
        raise ValueError(f"month {month!r} is not YYYY-MM")
    y, m = int(month[:4]), int(month[5:])
    lo = datetime(y, m, 1, tzinfo=WIB)
    hi = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=WIB)
    return int(lo.timestamp()), int(hi.timestamp())


def day_bounds(start: date, end: date) -> tuple[int, int]:
    """Inclusive calendar days in Asia/Jakarta as ``[start 00:00 WIB, end+1 00:00 WIB)`` UNIX seconds."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    lo = datetime.combine(start, datetime.min.time(), tzinfo=WIB)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=WIB)
    return int(lo.timestamp()), int(hi.timestamp())


# ---- orders as the store keeps them ---------------------------------------------------------

def _money(v: float | None) -> int:
    return int(round(v)) if v is not None else 0


def _clip(text: str | None, n: int) -> str:
    return (text or "")[:n]


def order_rows(order: Order, shop_id: int, sku_of_product: Mapping[int, str] | None = None) -> tuple[dict, list[dict]]:
    """The store's order row and item rows for a marketplace order. An item without a SKU gets
    the SKU of the listing with its product id."""
    sku_of_product = sku_of_product or {}
    row = dict(
        order_id=order.order_id, shop_id=order.shop_id or shop_id,
        invoice_ref_num=_clip(order.invoice_ref_num, 100), status=int(order.order_status),
        create_time=int(order.create_time),
        update_time=int(order.update_time if order.update_time is not None else order.create_time),
        buyer_name=_clip(order.buyer.name, 200), recipient_name=_clip(order.recipient.name, 200),
        recipient_phone=_clip(order.recipient.phone, 50),
        recipient_address=" ".join((order.recipient.address.address_full or "").split()),
        recipient_district=_clip(order.recipient.address.district, 200),
        recipient_city=_clip(order.recipient.address.city, 200),
        recipient_province=_clip(order.recipient.address.province, 200),
        recipient_postal_code=_clip(order.recipient.address.postal_code, 20),
        shipping_cost=_money(order.amt.shipping_cost), total_amount=_money(order.amt.ttl_amount),
    )
    items = []
    for n, p in enumerate(order.products, start=1):
        qty = int(p.quantity)
        price = _money(p.price)
        items.append(dict(
            order_id=order.order_id, line=n, product_id=p.id,
            sku=_clip(p.sku or (sku_of_product.get(p.id, "") if p.id is not None else ""), 50),
            name=_clip(p.Name, 200), quantity=qty, price=price,
            total_price=_money(p.total_price) if p.total_price is not None else price * qty,
        ))
    return row, items


@dataclass
class _ShopIndex:
    """A shop's listings by SKU and by product id: which group an order line belongs to."""

    group_of_sku: dict[str, str]
    sku_of_product: dict[int, str]

    @classmethod
    def of(cls, listings: Iterable[Any]) -> _ShopIndex:
        listings = list(listings)
        return cls({l.sku: l.group_id for l in listings},
                   {l.product_id: l.sku for l in listings if l.product_id is not None})

    def group(self, sku: str | None) -> str:
        return self.group_of_sku.get(sku or "", UNASSIGNED)


@dataclass
class _Tally:
    """What storing a stream of orders changed."""

    stored: int = 0
    new: int = 0
    changed: int = 0
    skus: set[str] = field(default_factory=set)
    months: set[str] = field(default_factory=set)
    groups: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    seen: set[int] = field(default_factory=set)
    changes: list[dict] = field(default_factory=list)  # the first ORDER_ROWS new/changed orders, for the run page


def _chunks(it: Iterable[Any], n: int) -> Iterator[list[Any]]:
    it = iter(it)
    while chunk := list(islice(it, n)):
        yield chunk


def _store_orders(rt: Runtime, shop_id: int, orders: list[Order], index: _ShopIndex, tally: _Tally) -> None:
    """Upsert one chunk of orders and note which are new, which changed and the SKUs they touch."""
    by_id = {o.order_id: o for o in orders}  # an upsert may not name a row twice (PostgreSQL)
    before = rt.store.order_states(by_id)
    rows, items = [], []
    for oid, order in by_id.items():
        row, its = order_rows(order, shop_id, index.sku_of_product)
        rows.append(row)
        items += its
        prev = before.get(oid)
        if prev == (row["status"], row["update_time"]):
            continue
        kind = "new" if prev is None else "changed"
        if prev is None:
            tally.new += 1
        else:
            tally.changed += 1
        if prev is None or prev[0] != row["status"]:
            # A new order holds units; a status change may give them back (a cancel).
            tally.skus |= {i["sku"] for i in its if i["sku"]}
        tally.months.add(month_of(row["create_time"]))
        groups = {index.group(i["sku"]) for i in its} or {UNASSIGNED}
        for gid in groups:
            tally.groups[gid][kind] += 1
        if len(tally.changes) < ORDER_ROWS:
            tally.changes.append(order_change(kind, row, groups, status_label(row["status"])))
    rt.store.upsert_orders(rows, items)
    tally.stored += len(rows)
    tally.seen |= set(by_id)


def _result(shop_id: int, tally: _Tally, **extra: Any) -> dict:
    return {
        "shop_id": shop_id, "new": tally.new, "changed": tally.changed,
        "skus": sorted(tally.skus), "months": sorted(tally.months),
        "groups": {g: {"new": c["new"], "changed": c["changed"]} for g, c in sorted(tally.groups.items())},
        "orders": tally.changes,
        **extra,
    }


def pull_orders_for_shop(rt: Runtime, shop_id: int, *, now: int | None = None, lookback_s: int = LOOKBACK_S,
                         first_run_s: int = FIRST_RUN_S, correct: bool = True) -> dict:
    """Pull a shop's new and changed orders into the store and correct its stock.

    Lists orders created from the cursor ``orders:<shop_id>`` (first run: ``now - first_run_s``)
    minus ``lookback_s`` up to and including the second ``now``; then refreshes, one by one,
    stored orders still open that the list did not show (created before that window). The cursor
    becomes ``now`` once all of it is stored. Returns counts (``pulled``, ``new``, ``changed``,
    ``refreshed``), the SKUs touched (new orders, status changes), the months (``YYYY-MM``, WIB)
    of new/changed orders, new/changed per group, and the stock correction (:func:`correct_stock`).
    """
    store, client = rt.store, rt.client
    now = int(time.time()) if now is None else int(now)
    base = store.cursor(cursor_name(shop_id))
    base = now - first_run_s if base is None else min(base, now)
    start = max(0, base - lookback_s)
    # The current second too: an order landing later in it is caught by the next look-back.
    end = now + 1
    index = _ShopIndex.of(store.listings(shop_id=shop_id))
    tally = _Tally()
    for chunk in _chunks(client.iter_orders(shop_id, start, end), UPSERT_CHUNK):
        _store_orders(rt, shop_id, chunk, index, tally)
    pulled = tally.stored

    stale = sorted(set(store.open_order_ids(shop_id)) - tally.seen)
    for chunk in _chunks(_fetch_orders(rt, stale), UPSERT_CHUNK):
        _store_orders(rt, shop_id, chunk, index, tally)
    store.set_cursor(cursor_name(shop_id), now)

    result = _result(shop_id, tally, pulled=pulled, refreshed=tally.stored - pulled, window=[start, end], cursor=now)
    if correct:
        result["stock"] = correct_stock(rt, shop_id)
    log.info("orders shop=%s window=[%d,%d) pulled=%d refreshed=%d new=%d changed=%d skus=%d", shop_id, start,
             end, result["pulled"], result["refreshed"], result["new"], result["changed"], len(result["skus"]))
    return result


def _fetch_orders(rt: Runtime, order_ids: Iterable[int]) -> Iterator[Order]:
    for oid in order_ids:
        try:
            yield rt.client.get_order(oid)
        except NotFoundError:
            # Kept as stored; the marketplace may have archived it. Not worth failing the pull.
            log.warning("order %s is open in the state store but unknown to the marketplace", oid)


def backfill_for_shop(rt: Runtime, shop_id: int, start: int, end: int, *, correct: bool = True) -> dict:
    """Store every order of the shop created in ``[start, end)`` (UNIX seconds; asked for in
    windows under 3 days). Idempotent: orders are upserted by id. The incremental cursor is not
    moved. Returns ``pulled``, ``new``, ``changed``, SKUs touched, months, per group, and stock."""
    if end < start:
        raise ValueError(f"backfill end {end} is before start {start}")
    index = _ShopIndex.of(rt.store.listings(shop_id=shop_id))
    tally = _Tally()
    for chunk in _chunks(rt.client.iter_orders(shop_id, int(start), int(end)), UPSERT_CHUNK):
        _store_orders(rt, shop_id, chunk, index, tally)
    result = _result(shop_id, tally, pulled=tally.stored, refreshed=0, window=[int(start), int(end)])
    if correct:
        result["stock"] = correct_stock(rt, shop_id)
    log.info("backfill shop=%s window=[%d,%d) pulled=%d new=%d changed=%d", shop_id, start, end,
             result["pulled"], result["new"], result["changed"])
    return result


# ---- stock --------------------------------------------------------------------------------------

def marketplace_stock(rt: Runtime, shop_id: int, skus: list[str]) -> dict[str, int]:
    """The marketplace's current stock for ``skus`` (a look-up each for a few, else every page)."""
    if len(skus) <= 20:
        found = (rt.client.product_by_sku(shop_id, sku) for sku in skus)
        return {p.sku: int(p.stock.value) for p in found if p is not None and p.stock.value is not None}
    wanted = set(skus)
    return {p.sku: int(p.stock.value) for p in rt.client.iter_products(shop_id)
            if p.sku in wanted and p.stock.value is not None}


def correct_stock(rt: Runtime, shop_id: int, skus: Iterable[str] | None = None) -> dict:
    """Push the stock rule for the shop's ACTIVE listings (with a product id, still in a catalogue)
    whose stored ``stock`` differs from it, and record what the marketplace confirmed.

    ``skus`` limits it to those listings; by default every eligible listing of the shop is
    checked, which covers the SKUs new orders and cancels touched and also repeats a correction
    that failed earlier (it costs local queries only: equal values are never sent).
    Failed rows are returned, not raised: ``{"pushed": [...], "failed": [...], "unchanged": n}``.
    """
    store = rt.store
    listings = [l for l in store.listings(shop_id=shop_id)
                if l.status == "ACTIVE" and l.product_id is not None and l.in_catalogue]
    if skus is not None:
        wanted = set(skus)
        listings = [l for l in listings if l.sku in wanted]
    by_sku = {l.sku: l for l in listings}
    desired = desired_stock(store, shop_id, listings, safety_buffer=rt.config.stock.safety_buffer)
    candidates = [sku for sku, n in desired.items() if n != by_sku[sku].stock]
    out: dict[str, Any] = {"pushed": [], "failed": [], "unchanged": len(desired) - len(candidates)}
    if not candidates:
        return out
    # The marketplace decrements stock itself on every sale, also on sales after this pull's
    # cut-off. So a correction only ever lowers stock: where the marketplace already shows the
    # figure or less, pushing ours could overwrite a newer sale; record its figure instead.
    current = marketplace_stock(rt, shop_id, candidates)
    rows, settled = [], []
    for sku in candidates:
        m = current.get(sku)
        if m is not None and desired[sku] >= m:
            settled.append({"shop_id": shop_id, "sku": sku, "stock": m})
        else:
            rows.append({"sku": sku, "new_stock": desired[sku]})
    store.update_listings(settled)
    out["unchanged"] += len(settled)
    if not rows:
        return out
    try:
        # The shop's Prefect global concurrency limit, if one exists, paces this across workers.
        result = PacedWrites(rt.client).update_stock(shop_id, rows)
    except MarketplaceError as err:
        # What was settled before the error stays settled; the rest is reported with the reason.
        result = err.partial or BatchResult()
        settled = {r.key for r in (*result.applied, *result.failed)}
        result.failed.extend(RowResult(key=r["sku"], ok=False, error=str(err)) for r in rows if r["sku"] not in settled)
    applied = [r.key for r in result.applied if r.key in desired]
    store.update_listings([{"shop_id": shop_id, "sku": sku, "stock": desired[sku]} for sku in applied])
    out["pushed"] = [{"sku": sku, "group": by_sku[sku].group_id, "was": by_sku[sku].stock, "stock": desired[sku]}
                     for sku in applied]
    out["failed"] = [{"sku": r.key, "group": by_sku[r.key].group_id if r.key in by_sku else UNASSIGNED,
                      "stock": desired.get(r.key), "error": r.error or "failed"} for r in result.failed]
    for f in out["failed"]:
        log.warning("stock shop=%s sku=%s: not applied: %s", shop_id, f["sku"], f["error"])
    return out


# ---- order sheets -------------------------------------------------------------------------------

def order_lines(orders: Iterable[tuple[Any, list[Any]]], index: _ShopIndex) -> pd.DataFrame:
    """One row per order item (stored ``Order``/``OrderItem`` objects) with its group and month."""
    rows = []
    for o, items in orders:
        address = ", ".join(p for p in (o.recipient_address, o.recipient_district, o.recipient_city, o.recipient_province,
                                        o.recipient_postal_code) if p)
        city = o.recipient_city
        for it in items:
            rows.append({
                "created": o.create_time, "invoice": o.invoice_ref_num, "order_id": o.order_id,
                "status": status_label(o.status), "status_code": o.status, "product": it.name,
                "sku": it.sku, "qty": it.quantity, "unit_price": it.price, "total": it.total_price,
                "buyer": o.buyer_name, "recipient": o.recipient_name, "phone": o.recipient_phone,
                "address": address, "city": city, "shop_id": o.shop_id, "group": index.group(it.sku),
                "line": it.line,
            })
    df = pd.DataFrame(rows, columns=[*SHEET_COLUMNS, "shop_id", "group", "line"])
    created = pd.to_datetime(df["created"].astype("int64"), unit="s", utc=True).dt.tz_convert(WIB)
    # Excel has no time zones: the wall time in Jakarta, as the header says.
    df["month"] = created.dt.strftime("%Y-%m")
    df["created"] = created.dt.tz_localize(None)
    for col in ("order_id", "status_code", "qty", "unit_price", "total", "shop_id", "line"):
        df[col] = df[col].astype("int64")
    return df


def order_sheet(lines: pd.DataFrame, *, with_shop: bool = False) -> pd.DataFrame:
    """The lines as a group reads them: sorted, bilingual headers, numbers as numbers."""
    cols = dict(SHEET_COLUMNS)
    if with_shop:
        cols[SHOP_COLUMN[0]] = SHOP_COLUMN[1]
    df = lines.sort_values(["created", "order_id", "line"], kind="stable")
    return df[list(cols)].rename(columns=cols).reset_index(drop=True)


def write_order_sheets(rt: Runtime, months: set[str] | None = None) -> list[Path]:
    """Rewrite ``<output>/orders/<group>/<YYYY-MM>.xlsx`` and ``.csv`` from the store for
    ``months`` (``YYYY-MM`` of ``create_time`` in Asia/Jakarta; ``None``: every month with orders).

    One line per order item. An item's group is that of the shop's listing with its SKU; items
    of unknown SKUs go to ``orders/_unassigned/`` (with a warning). A group's existing file for
    one of the months is rewritten even when it no longer has lines. Returns the paths written.
    """
    store = rt.store
    bounds = {m: month_bounds(m) for m in sorted(months)} if months is not None else None
    frames = []
    for shop_id in sorted(rt.shops()):
        index = _ShopIndex.of(store.listings(shop_id=shop_id))
        if bounds is None:
            frames.append(order_lines(store.orders_for(shop_id), index))
        else:
            for lo, hi in bounds.values():
                frames.append(order_lines(store.orders_for(shop_id, created_from=lo, created_to=hi), index))
    frames = [f for f in frames if len(f)]
    lines = pd.concat(frames, ignore_index=True) if frames else order_lines([], _ShopIndex({}, {}))
    scope = set(lines["month"]) if months is None else months
    root = rt.config.output_dir / ORDERS_DIR
    targets = set(zip(lines["group"], lines["month"]))
    for month in scope:
        targets |= {(p.parent.name, month) for p in root.glob(f"*/{month}.xlsx")}

    written: list[Path] = []
    for group, month in sorted(targets):
        part = lines[(lines["group"] == group) & (lines["month"] == month)]
        sheet = order_sheet(part, with_shop=group == UNASSIGNED)
        if group == UNASSIGNED and len(part):
            _logger().warning("%d order lines of %s have a SKU no listing of their shop has (%s): written to %s",
                              len(part), month, ", ".join(sorted(set(part["sku"].astype(str)))[:10]),
                              root / UNASSIGNED / f"{month}.xlsx")
        base = root / group / month
        written.append(replace_atomically(base.with_suffix(".xlsx"), lambda p: write_xlsx(p, {SHEET_NAME: sheet})))
        written.append(replace_atomically(base.with_suffix(".csv"), lambda p: write_csv(p, sheet)))
    return written


def _logger() -> logging.Logger | logging.LoggerAdapter:
    """The Prefect run logger inside a flow or task run (shown in the UI), else the module's."""
    try:
        return get_run_logger()
    except Exception:
        return log


# ---- Prefect ------------------------------------------------------------------------------------

def is_transient(err: BaseException) -> bool:
    """Worth another try later: rate limits, 5xx and lost connections, never a 4xx."""
    return isinstance(err, (RateLimitedError, ServerError, TransportError))


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry a failed shop only for a transient marketplace error."""
    try:
        state.result()
    except Exception as err:
        return is_transient(err)
    return False


# The client already retries each call; these retries outlast a longer outage.
_SHOP_TASK = dict(retries=2, retry_delay_seconds=[30, 120], retry_condition_fn=retry_transient,
                  cache_policy=NO_CACHE)


@task(name="pull-shop-orders", task_run_name="orders · shop {shop_id}", **_SHOP_TASK,
      description="Pull one shop's new and changed orders, refresh its open ones, correct its stock.")
def pull_shop_orders(rt: Runtime, shop_id: int, now: int | None = None, lookback_s: int = LOOKBACK_S,
                     first_run_s: int = FIRST_RUN_S) -> dict:
    """:func:`pull_orders_for_shop` as a task (one per shop)."""
    result = pull_orders_for_shop(rt, shop_id, now=now, lookback_s=lookback_s, first_run_s=first_run_s)
    _log_shop(result)
    return result


@task(name="backfill-shop-orders", task_run_name="backfill · shop {shop_id}", **_SHOP_TASK,
      description="Store every order of one shop created in a range; correct its stock.")
def backfill_shop_orders(rt: Runtime, shop_id: int, start: int, end: int) -> dict:
    """:func:`backfill_for_shop` as a task (one per shop)."""
    result = backfill_for_shop(rt, shop_id, start, end)
    _log_shop(result)
    return result


@task(name="write-order-sheets", cache_policy=NO_CACHE,
      description="Rewrite the order sheets of the months touched, per group.")
def write_order_sheets_task(rt: Runtime, months: list[str]) -> list[str]:
    return [str(p) for p in write_pending_sheets(rt, set(months))]


SHEETS_CURSOR = "order-sheets"
"""UNIX time up to which every stored order change is in the order sheets."""


def write_pending_sheets(rt: Runtime, months: set[str] = frozenset()) -> list[Path]:
    """Rewrite the sheets of ``months`` and of every month holding an order stored or changed
    since the sheets were last completely written. A run killed between storing orders and
    writing their sheets leaves them pending, so the next run writes them: every stored order
    reaches its sheet."""
    mark = datetime.now(WIB)  # changes from now on are the next run's
    since = datetime.fromtimestamp(rt.store.cursor(SHEETS_CURSOR) or 0, WIB)
    months = set(months) | {month_of(t) for _, t in rt.store.order_times_changed_since(since)}
    paths = write_order_sheets(rt, months) if months else []
    rt.store.set_cursor(SHEETS_CURSOR, int(mark.timestamp()))
    return paths


def _log_shop(result: dict) -> None:
    stock = result.get("stock", {})
    _logger().info("shop %s: %d listed, %d refreshed, %d new, %d changed; stock pushed %d, failed %d",
                   result["shop_id"], result["pulled"], result["refreshed"], result["new"], result["changed"],
                   len(stock.get("pushed", [])), len(stock.get("failed", [])))


class OrdersRunError(RuntimeError):
    """Some shops failed; ``summary`` holds what the others did."""

    def __init__(self, message: str, summary: dict) -> None:
        super().__init__(message)
        self.summary = summary


def _run_shops(rt: Runtime, flow_name: str, artifact_key: str, submit: Callable[[int], Any], **info: Any) -> dict:
    """A task per shop; one failed shop doesn't stop the others, but the run then fails."""
    store = rt.store
    rt.client  # opened here, before tasks in threads share it
    run_id = store.start_run(flow_name)
    summary: dict[str, Any] = {"flow": flow_name, **info, "shops": {}, "errors": {}}
    try:
        futures = {shop: submit(shop) for shop in sorted(rt.shops())}
        for shop, fut in futures.items():
            try:
                summary["shops"][str(shop)] = fut.result()
            except Exception as err:
                summary["errors"][str(shop)] = f"{type(err).__name__}: {err}"
        months = sorted({m for r in summary["shops"].values() for m in r["months"]})
        summary["months"] = months
        summary["sheets"] = write_order_sheets_task(rt, months)
        summary["sheets_dir"] = str(rt.config.output_dir / ORDERS_DIR)
        summary["groups"] = group_rows(rt, summary)
        summary["totals"] = _totals(summary)
    except BaseException as err:
        summary["errors"]["run"] = f"{type(err).__name__}: {err}"
        store.finish_run(run_id, "FAILED", summary)
        raise
    store.finish_run(run_id, "FAILED" if summary["errors"] else "COMPLETED", summary)
    create_table_artifact(key=artifact_key, table=summary["groups"],
                          description=f"{flow_name}: orders new/changed and stock corrections per group.")
    changes, total = orders_changes_table(summary)
    more = f" (the first {len(changes)} of {total}; all are in the order sheets)" if total > len(changes) else ""
    create_table_artifact(key=artifact_key.replace("-summary", "-changes"), table=changes,
                          description=f"{flow_name}: {total} new and changed orders{more}. Sheets: {summary['sheets_dir']}")
    if summary["errors"]:
        reasons = "; ".join(f"shop {s}: {e}" for s, e in summary["errors"].items())
        raise OrdersRunError(f"{len(summary['errors'])} of {len(futures)} shops failed: {reasons}", summary)
    return summary


def group_rows(rt: Runtime, summary: dict) -> list[dict]:
    """One row per configured group (and per shop's unassigned lines): orders new/changed, stock."""
    rows = []
    for shop, groups in sorted(rt.shops().items()):
        res = summary["shops"].get(str(shop))
        error = summary["errors"].get(str(shop), "")
        per_group = (res or {}).get("groups", {})
        stock = (res or {}).get("stock", {})
        names = [(g.id, g.name) for g in groups]
        if UNASSIGNED in per_group:
            names.append((UNASSIGNED, "SKU tidak dikenal / unknown SKU"))
        for gid, name in names:
            counts = per_group.get(gid, {})
            rows.append({
                "group": gid, "name": name, "shop_id": shop,
                "orders_new": counts.get("new", 0), "orders_changed": counts.get("changed", 0),
                "stock_pushed": sum(p["group"] == gid for p in stock.get("pushed", [])),
                "stock_failed": sum(f["group"] == gid for f in stock.get("failed", [])),
                "error": error.splitlines()[0] if error else "",
            })
    return rows


def _totals(summary: dict) -> dict:
    shops = summary["shops"].values()
    return {
        "shops_ok": len(summary["shops"]), "shops_failed": len(summary["errors"]),
        "orders_listed": sum(r["pulled"] for r in shops), "orders_refreshed": sum(r["refreshed"] for r in shops),
        "orders_new": sum(r["new"] for r in shops), "orders_changed": sum(r["changed"] for r in shops),
        "stock_pushed": sum(len(r.get("stock", {}).get("pushed", [])) for r in shops),
        "stock_failed": sum(len(r.get("stock", {}).get("failed", [])) for r in shops),
        "sheets": len(summary.get("sheets", [])),
    }


@flow(name="pull-orders", flow_run_name=orders_run_name,
      description="Pull new and changed orders per shop, correct stock, write order sheets.")
def pull_orders(config_path: str) -> dict:
    """Pull every configured shop's orders (a task per shop), correct stock, rewrite the order
    sheets of the months touched; records a run summary and the ``orders-summary`` and
    ``orders-changes`` artifacts. Raises :class:`OrdersRunError` (the run ends FAILED) when any
    shop failed.

    Args:
        config_path: The lapak.toml this run reads (set by `lapak serve --config`).
    """
    rt = Runtime.open(config_path)
    try:
        now = int(time.time())  # one cut-off for every shop
        lookback_s = int(rt.config.orders.lookback_hours * 3600)
        first_run_s = int(rt.config.orders.first_run_days * 86400)
        with shop_locks(rt.store, rt.shops(), owner=lock_owner("pull-orders")):  # one run per shop at a time
            return _run_shops(rt, "pull-orders", "orders-summary",
                              lambda shop: pull_shop_orders.submit(rt, shop, now=now, lookback_s=lookback_s,
                                                                   first_run_s=first_run_s), now=now)
    finally:
        rt.close()


@flow(name="backfill-orders", flow_run_name=backfill_run_name,
      description="Store every order created in a date range (WIB), idempotently.")
def backfill_orders(config_path: str, start: date, end: date) -> dict:
    """Backfill orders created from ``start`` 00:00 to ``end`` 24:00 (inclusive days, Asia/Jakarta)
    for every configured shop; the incremental cursors stay. Artifacts ``orders-backfill-summary``
    and ``orders-backfill-changes``.

    Args:
        config_path: The lapak.toml this run reads (set by `lapak serve --config`).
        start: First day of the orders to store (date the order was made, Asia/Jakarta), inclusive.
        end: Last day (Asia/Jakarta), inclusive; on or after start.
    """
    lo, hi = day_bounds(start, end)
    rt = Runtime.open(config_path)
    try:
        with shop_locks(rt.store, rt.shops(), owner=lock_owner("backfill-orders")):
            return _run_shops(rt, "backfill-orders", "orders-backfill-summary",
                              lambda shop: backfill_shop_orders.submit(rt, shop, lo, hi),
                              start=start.isoformat(), end=end.isoformat(), window=[lo, hi])
    finally:
        rt.close()


# ---- lapak orders / lapak backfill ------------------------------------------------------------

def format_summary(summary: dict, max_sheets: int = 8) -> str:
    """A short human summary of a pull or backfill run."""
    t = summary.get("totals") or _totals({**summary, "sheets": summary.get("sheets", [])})
    if summary["flow"] == "pull-orders":
        head = (f"Pesanan / Orders: {t['orders_new']} baru/new, {t['orders_changed']} berubah/changed "
                f"({t['orders_listed']} listed, {t['orders_refreshed']} older open orders refreshed)")
    else:
        head = (f"Pesanan {summary.get('start')} – {summary.get('end')} / Orders backfill: {t['orders_new']} "
                f"baru/new, {t['orders_changed']} berubah/changed ({t['orders_listed']} listed)")
    out = [head]
    rows = summary.get("groups") or []
    if rows:
        out.append(f"  {'kelompok / group':32} {'new':>5} {'changed':>8} {'stock':>6}")
        for r in rows:
            line = f"  {r['group']:32} {r['orders_new']:5} {r['orders_changed']:8} {r['stock_pushed']:6}"
            out.append(line + (f"  GAGAL / FAILED: {r['error']}" if r["error"] else ""))
    out.append(f"Koreksi stok / Stock corrections pushed: {t['stock_pushed']}"
               + (f", {t['stock_failed']} not applied (see the logs)" if t["stock_failed"] else ""))
    sheets = [Path(p) for p in summary.get("sheets") or [] if str(p).endswith(".xlsx")]
    if sheets:
        names = [f"{p.parent.name}/{p.name}" for p in sheets]
        more = f" and {len(names) - max_sheets} more" if len(names) > max_sheets else ""
        out.append(f"Lembar pesanan / Order sheets (.xlsx + .csv) in {summary['sheets_dir']}: "
                   f"{', '.join(names[:max_sheets])}{more}")
        if any(p.parent.name == UNASSIGNED for p in sheets):
            out.append(f"  {UNASSIGNED}/: order lines whose SKU no listing has (check the catalogues)")
    else:
        out.append("Lembar pesanan / Order sheets: no month changed, none rewritten")
    return "\n".join(out)


def _print_and_reraise(run: Callable[[], dict]) -> int:
    try:
        summary = run()
    except OrdersRunError as err:
        print(format_summary(err.summary))
        raise
    print(format_summary(summary))
    return 0


def orders_command(args: Any) -> int:
    """``lapak orders --config F``: run the ``pull-orders`` flow and print what it did."""
    return _print_and_reraise(lambda: pull_orders(str(args.config)))


def backfill_command(args: Any) -> int:
    """``lapak backfill --config F --start YYYY-MM-DD --end YYYY-MM-DD`` (inclusive days, WIB)."""
    from flows.cli import CommandError

    days = {}
    for name in ("start", "end"):
        text = str(getattr(args, name))
        try:
            days[name] = date.fromisoformat(text)
        except ValueError:
            raise CommandError(f"--{name} {text!r} is not a date (YYYY-MM-DD)") from None
    if days["start"] > days["end"]:
        raise CommandError(f"--start {days['start']} is after --end {days['end']}")
    return _print_and_reraise(lambda: backfill_orders(str(args.config), days["start"], days["end"]))
