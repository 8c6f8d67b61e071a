"""Orders pulled from a shop into the state store, each stored once.

- :func:`pull_orders_for_shop` reads incrementally from the shop's cursor minus a look-back: the
  list filters on ``create_time`` but shows the *current* status, so recent orders are read
  again to catch their status changes; open orders older than that are refreshed one by one
  until they finish or are cancelled. The cursor moves only once everything is stored.
  A channel that filters orders on their update time (``limits.orders_by_update``) is read by
  update time instead: every change shows, and a short overlap covers orders changing mid-paging.
- :func:`backfill_for_shop` stores every order created in a range (idempotent; cursor untouched).
Both then correct the shop's stock (:mod:`flows.engine.stock`) unless told not to (an order run
pulls every channel first, then corrects: one stock across channels).
A shop is a :class:`~schemas.channel.ShopRef` (a bare shop id is the first marketplace's).
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flows.engine.batching import batched
from flows.engine.runtime import Runtime
from flows.engine.stock import correct_stock
from schemas.channel import MARKETPLACE, ShopRef
from schemas.dates import WIB, month_of
from schemas.errors import NotFoundError
from schemas.listing import KnownListing
from schemas.orders import UNASSIGNED, Order, status_label

log = logging.getLogger("lapak.orders")

DAY = 86_400
LOOKBACK_S = 2 * DAY     # [orders] lookback_hours = 48
FIRST_RUN_S = 3 * DAY    # [orders] first_run_days = 3
UPSERT_CHUNK = 500       # orders per transaction: a failure part-way keeps what was stored
CHANGES_SHOWN = 200      # new/changed orders listed per run on the run page (the counts are complete)
UPDATE_OVERLAP_S = 600   # re-read by update time: orders changing mid-paging may be skipped once


def cursor_name(shop: ShopRef | int) -> str:
    shop = ShopRef.of(shop)
    return f"orders:{shop.shop_id}" if shop.channel == MARKETPLACE else f"orders:{shop.channel}:{shop.shop_id}"


@dataclass
class ShopIndex:
    """A shop's listings by SKU and by product id: which group an order line belongs to."""

    group_of_sku: dict[str, str]
    sku_of_product: dict[int, str]

    @classmethod
    def of(cls, listings: Iterable[KnownListing]) -> ShopIndex:
        listings = list(listings)
        return cls({k.sku: k.group_id for k in listings},
                   {k.product_id: k.sku for k in listings if k.product_id is not None})

    @classmethod
    def read(cls, rt: Runtime, shop: ShopRef) -> ShopIndex:
        """The shop's index from the state store (SKU, group and product id only)."""
        rows = rt.store.listing_index(shop.shop_id, shop.channel)
        return cls({sku: gid for sku, gid, _ in rows}, {pid: sku for sku, _, pid in rows if pid is not None})

    def group(self, sku: str | None) -> str:
        return self.group_of_sku.get(sku or "", UNASSIGNED)


def order_change(kind: str, order: Order, groups: set[str]) -> dict:
    """One line of the ``orders-changes`` table (no buyer or address: those stay in the order sheets)."""
    return {
        "change": "baru / new" if kind == "new" else "berubah / changed", "channel": order.channel,
        "invoice": order.invoice, "order_id": order.order_id, "shop_id": order.shop_id,
        "group": ", ".join(sorted(groups)), "status": status_label(order.status), "status_code": order.status,
        "created_wib": datetime.fromtimestamp(order.create_time, WIB).strftime("%Y-%m-%d %H:%M"),
        "total": order.total_amount,
    }


@dataclass
class Tally:
    """What storing a stream of orders changed."""

    stored: int = 0
    new: int = 0
    changed: int = 0
    skus: set[str] = field(default_factory=set)
    months: set[str] = field(default_factory=set)
    groups: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    seen: set[int] = field(default_factory=set)
    changes: list[dict] = field(default_factory=list)  # the first CHANGES_SHOWN new/changed orders

    def note(self, order: Order, before: tuple[int, int] | None, index: ShopIndex) -> None:
        """Count one stored order: new, changed (status or update time) or as it was."""
        if before == (order.status, order.update_time):
            return
        kind = "new" if before is None else "changed"
        if before is None:
            self.new += 1
        else:
            self.changed += 1
        if before is None or before[0] != order.status:
            # A new order holds units; a status change may give them back (a cancel).
            self.skus |= {line.sku for line in order.lines if line.sku}
        self.months.add(month_of(order.create_time))
        groups = {index.group(line.sku) for line in order.lines} or {UNASSIGNED}
        for gid in groups:
            self.groups[gid][kind] += 1
        if len(self.changes) < CHANGES_SHOWN:
            self.changes.append(order_change(kind, order, groups))

    def result(self, shop: ShopRef, **extra: Any) -> dict:
        return {
            "shop_id": shop.shop_id, "channel": shop.channel, "new": self.new, "changed": self.changed,
            "skus": sorted(self.skus), "months": sorted(self.months),
            "groups": {g: {"new": c["new"], "changed": c["changed"]} for g, c in sorted(self.groups.items())},
            "orders": self.changes, **extra,
        }


def store_orders(rt: Runtime, orders: Iterable[Order], index: ShopIndex, tally: Tally) -> None:
    """Upsert one channel's orders in chunks (a failure part-way keeps what was stored), counting what changed."""
    for chunk in batched(orders, UPSERT_CHUNK):
        by_id = {o.order_id: o.with_skus(index.sku_of_product) for o in chunk}  # an upsert names a row once
        before = rt.store.upsert_orders_states(list(by_id.values()))  # as stored before, read in its transaction
        for oid, order in by_id.items():
            tally.note(order, before.get(oid), index)
        tally.stored += len(by_id)
        tally.seen |= set(by_id)


def _window(rt: Runtime, shop: ShopRef, now: int, lookback_s: int, first_run_s: int) -> tuple[int, int, bool]:
    """The pull's window ``[start, end)`` and whether it is by update time."""
    base = rt.store.cursor(cursor_name(shop))
    base = now - first_run_s if base is None else min(base, now)
    by_update = rt.channel_of(shop).limits.orders_by_update
    start = max(0, base - (min(lookback_s, UPDATE_OVERLAP_S) if by_update else lookback_s))
    return start, now + 1, by_update  # the current second too: a later order in it is caught next time


def pull_orders_for_shop(rt: Runtime, shop: ShopRef | int, *, now: int | None = None, lookback_s: int = LOOKBACK_S,
                         first_run_s: int = FIRST_RUN_S, correct: bool = True) -> dict:
    """Pull a shop's new and changed orders into the store and (``correct``) correct its stock.

    Lists orders created from the shop's cursor (first run: ``now - first_run_s``) minus
    ``lookback_s`` up to and including the second ``now``, then refreshes, one by one, stored
    orders still open that the list did not show (created before that window); a channel that
    filters on update time is read by update time from the cursor (minus a short overlap) and
    needs no refresh. The cursor becomes ``now`` once all of it is stored. Returns counts
    (``pulled``, ``new``, ``changed``, ``refreshed``), the SKUs touched (new orders, status
    changes), the months (``YYYY-MM``, WIB) of new/changed orders, new/changed per group, and the
    stock correction (:func:`correct_stock`).
    """
    shop = ShopRef.of(shop)
    store, channel = rt.store, rt.channel_of(shop)
    now = int(time.time()) if now is None else int(now)
    start, end, by_update = _window(rt, shop, now, lookback_s, first_run_s)
    index = ShopIndex.read(rt, shop)
    tally = Tally()
    store_orders(rt, channel.orders(shop.shop_id, start, end, by_update=by_update) if by_update
                 else channel.orders(shop.shop_id, start, end), index, tally)
    pulled = tally.stored
    if not by_update:
        stale = sorted(set(store.open_order_ids(shop.shop_id, shop.channel)) - tally.seen)
        store_orders(rt, _refreshed(rt, shop, stale), index, tally)
    store.set_cursor(cursor_name(shop), now)
    result = tally.result(shop, pulled=pulled, refreshed=tally.stored - pulled, window=[start, end], cursor=now,
                          by="update_time" if by_update else "create_time")
    if correct:
        result["stock"] = correct_stock(rt, shop)
    log.info("orders shop=%s window=[%d,%d) pulled=%d refreshed=%d new=%d changed=%d skus=%d", shop, start,
             end, result["pulled"], result["refreshed"], result["new"], result["changed"], len(result["skus"]))
    return result


def _refreshed(rt: Runtime, shop: ShopRef, order_ids: Iterable[int]) -> Iterator[Order]:
    channel = rt.channel_of(shop)
    for oid in order_ids:
        try:
            yield channel.order(shop.shop_id, oid)
        except NotFoundError:
            # Kept as stored; the marketplace may have archived it. Not worth failing the pull.
            log.warning("order %s is open in the state store but unknown to %s", oid, shop.channel)


def backfill_for_shop(rt: Runtime, shop: ShopRef | int, start: int, end: int, *, correct: bool = True) -> dict:
    """Store every order of the shop created in ``[start, end)`` (UNIX seconds; asked for in
    windows under 3 days). Idempotent: orders are upserted by (channel, id). The incremental
    cursor is not moved. Returns ``pulled``, ``new``, ``changed``, SKUs touched, months, per
    group, and stock."""
    if end < start:
        raise ValueError(f"backfill end {end} is before start {start}")
    shop = ShopRef.of(shop)
    index = ShopIndex.read(rt, shop)
    tally = Tally()
    store_orders(rt, rt.channel_of(shop).orders(shop.shop_id, int(start), int(end)), index, tally)
    result = tally.result(shop, pulled=tally.stored, refreshed=0, window=[int(start), int(end)])
    if correct:
        result["stock"] = correct_stock(rt, shop)
    log.info("backfill shop=%s window=[%d,%d) pulled=%d new=%d changed=%d", shop, start, end,
             result["pulled"], result["new"], result["changed"])
    return result
