"""A plan's writes sent to the channel, one kind at a time, in batches at the channel's limits.

Every row the channel confirms is recorded in the state store before the next batch is sent, so
a crash at any point followed by a re-run converges: creates are looked up by SKU before they
are repeated (the connector does it), the other writes are absolute and safe to repeat.
One :class:`Writer` per :class:`~schemas.plan.WriteKind`: how to send a batch, and what its
confirmed rows change in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flows.engine.batching import batched
from flows.engine.runtime import Runtime
from schemas.channel import (
    Channel,
    ChannelLimits,
    ListingEdit,
    NewListing,
    ProductRef,
    SetNumber,
    ShopRef,
    WriteResult,
)
from schemas.listing import KnownListing
from schemas.plan import Create, Edit, Entry, Toggle, WriteKind


@dataclass
class Applied:
    """What one kind of write did: rows applied, and (SKU, why) of the rows that failed."""

    applied: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Writer:
    """How one kind of write is sent (``send``) and what its confirmed rows change in the store
    (``confirmed``: SKU → stored fields; creates store whole listings instead)."""

    batch: Callable[[ChannelLimits], int]
    send: Callable[[Channel, int, Sequence[Any]], WriteResult]
    confirmed: Callable[[Any], Mapping[str, Any]] | None = None


def _create(channel: Channel, shop_id: int, rows: Sequence[Create]) -> WriteResult:
    return channel.create(shop_id, [NewListing(r.listing, r.stock) for r in rows])


def _edit(channel: Channel, shop_id: int, rows: Sequence[Edit]) -> WriteResult:
    return channel.edit(shop_id, [ListingEdit(r.sku, r.product_id, {f: new for f, (_, new) in r.changes.items()})
                                  for r in rows])


def _toggle(active: bool) -> Callable[[Channel, int, Sequence[Toggle]], WriteResult]:
    def send(channel: Channel, shop_id: int, rows: Sequence[Toggle]) -> WriteResult:
        return channel.set_active(shop_id, [ProductRef(r.sku, r.product_id) for r in rows], active)

    return send


WRITERS: dict[WriteKind, Writer] = {
    WriteKind.EDITS: Writer(lambda lim: lim.edit_batch, _edit,
                            lambda e: {f: new for f, (_, new) in e.changes.items()}),
    WriteKind.CREATES: Writer(lambda lim: lim.create_batch, _create),
    WriteKind.REACTIVATE: Writer(lambda lim: lim.toggle_batch, _toggle(True),
                                 lambda t: {"status": "ACTIVE", "in_catalogue": True}),
    WriteKind.PRICES: Writer(lambda lim: lim.price_batch,
                             lambda ch, shop, rows: ch.set_prices(shop, [SetNumber(r.sku, r.new) for r in rows]),
                             lambda c: {"price": c.new}),
    WriteKind.STOCKS: Writer(lambda lim: lim.stock_batch,
                             lambda ch, shop, rows: ch.set_stock(shop, [SetNumber(r.sku, r.new) for r in rows]),
                             lambda c: {"stock": c.new}),
    WriteKind.DEACTIVATE: Writer(lambda lim: lim.toggle_batch, _toggle(False),
                                 lambda t: {"status": "INACTIVE", "in_catalogue": t.in_catalogue}),
}


def _record(rt: Runtime, shop: ShopRef, writer: Writer, chunk: Sequence[Entry], result: WriteResult) -> None:
    """Store what the channel confirmed of one batch."""
    by_sku = {r.sku: r for r in chunk}
    ok = [by_sku[o.sku] for o in result.applied if o.sku in by_sku]
    if writer.confirmed is not None:
        rt.store.update_listings(shop.shop_id, {r.sku: writer.confirmed(r) for r in ok}, channel=shop.channel)
        return
    ids = {o.sku: o.product_id for o in result.applied}
    rt.store.save_listings([KnownListing.created(shop.shop_id, c.listing, ids.get(c.sku), c.stock, shop.channel)
                            for c in ok])


def apply_writes(rt: Runtime, shop: ShopRef | int, kind: WriteKind, rows: Sequence[Entry]) -> Applied:
    """Send one kind of write in batches; record each confirmed row before the next batch."""
    shop = ShopRef.of(shop)
    writer = WRITERS[WriteKind(kind)]
    channel = rt.channel_of(shop)
    out = Applied()
    for chunk in batched(rows, writer.batch(channel.limits)):
        result = writer.send(channel, shop.shop_id, chunk)
        _record(rt, shop, writer, chunk, result)
        rt.progress.wrote(len(chunk))
        out.applied += len(result.applied)
        out.failed += [(f.sku, f.error or "failed") for f in result.failed]
    return out
