"""Stock corrected on a shop after its orders were pulled: the stock rule (:mod:`schemas.stock`)
pushed where it differs from what was last pushed, and what the channel confirmed recorded.

One stock across channels: the units sold are counted on every channel (the state store's
``units_sold``), and each channel is sent the figure within its own cap (``limits.stock_max``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flows.engine.runtime import Runtime
from schemas.channel import ChannelLimits, RowOutcome, SetNumber, ShopRef, WriteResult
from schemas.errors import ChannelError
from schemas.listing import KnownListing
from schemas.orders import UNASSIGNED
from schemas.stock import stock_to_push

log = logging.getLogger("lapak.stock")

LOOKUPS_MAX = 20  # above this many SKUs, one read of every page is cheaper than a look-up each


def capped(stock: int, limits: ChannelLimits) -> int:
    """What a channel is sent for ``stock``: at most its cap (the group's figure stays one)."""
    return min(int(stock), limits.stock_max)


def desired_stock(rt: Runtime, listings: Iterable[KnownListing], limits: ChannelLimits | None = None) -> dict[str, int]:
    """Stock to push per SKU for ``listings``, counting sales on every channel since each group's
    last accepted snapshot (when its catalogue's stock was recorded); capped to ``limits``."""
    listings = list(listings)
    stored = rt.store.last_snapshots({k.group_id for k in listings})  # every group at once
    recorded_at = {gid: int(accepted.recorded_at.timestamp()) if accepted else 0
                   for gid, (_, accepted) in stored.items()}
    sold = rt.store.units_sold({k.sku: recorded_at[k.group_id] for k in listings})
    buffer = rt.config.stock.safety_buffer
    cap = limits.stock_max if limits is not None else None
    return {k.sku: min(n, cap) if cap is not None else n
            for k in listings for n in (stock_to_push(k.recorded_stock, sold.get(k.sku, 0), buffer),)}


def channel_stock(rt: Runtime, shop: ShopRef, skus: list[str]) -> dict[str, int]:
    """The channel's current stock for ``skus`` (a look-up each for a few, else every page)."""
    channel = rt.channel_of(shop)
    if len(skus) <= LOOKUPS_MAX:
        found = (channel.product(shop.shop_id, sku) for sku in skus)
        return {p.sku: p.stock for p in found if p is not None and p.sku and p.stock is not None}
    wanted = set(skus)
    return {p.sku: p.stock for p in channel.products(shop.shop_id) if p.sku in wanted and p.stock is not None}


def correct_stock(rt: Runtime, shop: ShopRef | int, skus: Iterable[str] | None = None) -> dict:
    """Push the stock rule for the shop's ACTIVE listings (with a product id, still in a catalogue)
    whose stored ``stock`` differs from it, and record what the channel confirmed.

    ``skus`` limits it to those listings; by default every eligible listing of the shop is
    checked, which covers the SKUs new orders and cancels touched and also repeats a correction
    that failed earlier (it costs local queries only: equal values are never sent).
    Failed rows are returned, not raised: ``{"pushed": [...], "failed": [...], "unchanged": n}``.
    """
    shop = ShopRef.of(shop)
    shop_id, channel = shop.shop_id, shop.channel
    wanted = set(skus) if skus is not None else None
    listings = [k for k in rt.store.listings(shop_id=shop_id, channel=channel) if k.active
                and k.product_id is not None and k.in_catalogue and (wanted is None or k.sku in wanted)]
    by_sku = {k.sku: k for k in listings}
    desired = desired_stock(rt, listings, rt.channel_of(shop).limits)
    candidates = [sku for sku, n in desired.items() if n != by_sku[sku].stock]
    out: dict[str, Any] = {"pushed": [], "failed": [], "unchanged": len(desired) - len(candidates)}
    if not candidates:
        return out
    # The channel decrements stock itself on every sale, also on sales after this pull's cut-off.
    # So a correction only ever lowers stock: where the channel already shows the figure or less,
    # pushing ours could overwrite a newer sale; record its figure instead.
    current = channel_stock(rt, shop, candidates)
    settled = {sku: current[sku] for sku in candidates if sku in current and desired[sku] >= current[sku]}
    rt.store.update_listings(shop_id, {sku: {"stock": n} for sku, n in settled.items()}, channel=channel)
    out["unchanged"] += len(settled)
    rows = [SetNumber(sku, desired[sku]) for sku in candidates if sku not in settled]
    if not rows:
        return out
    result = _push(rt, shop, rows)
    applied = [r.sku for r in result.applied if r.sku in desired]
    rt.store.update_listings(shop_id, {sku: {"stock": desired[sku]} for sku in applied}, channel=channel)
    out["pushed"] = [{"sku": sku, "group": by_sku[sku].group_id, "was": by_sku[sku].stock, "stock": desired[sku]}
                     for sku in applied]
    out["failed"] = [{"sku": r.sku, "group": by_sku[r.sku].group_id if r.sku in by_sku else UNASSIGNED,
                      "stock": desired.get(r.sku), "error": r.error or "failed"} for r in result.failed]
    for f in out["failed"]:
        log.warning("stock shop=%s sku=%s: not applied: %s", shop, f["sku"], f["error"])
    return out


def _push(rt: Runtime, shop: ShopRef, rows: list[SetNumber]) -> WriteResult:
    """Send the stock; a call that stops part-way keeps what it settled, the rest fails with the reason."""
    try:
        return rt.channel_of(shop).set_stock(shop.shop_id, rows)
    except ChannelError as err:
        result = err.partial if isinstance(err.partial, WriteResult) else WriteResult()
        done = result.settled()
        result.failed.extend(RowOutcome(r.sku, False, error=str(err)) for r in rows if r.sku not in done)
        return result

