"""One shop's plan: its groups' desired listings against what the shop holds.

:func:`plan_shop_work` is the sync's step per shop (a shop is a channel's: a group may sell on
several). The sync has pulled every shop's new orders first (a stock push must not undo a sale
not pulled yet, on any channel); then, per group, it settles when the catalogue's stock was
recorded, applies the shrink guard, computes the stock rule (units sold on every channel), makes
names unique within the shop and plans (:func:`schemas.plan.plan_shop`). A channel that refuses
price updates on inactive products gets those when the product is activated again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flows.engine.intake import GroupCatalogue, recorded_at
from flows.engine.orders import pull_orders_for_shop
from flows.engine.photos import upload_pictures
from flows.engine.runtime import Runtime
from flows.engine.stock import capped
from schemas.channel import MARKETPLACE, ShopRef
from schemas.config import GroupConfig
from schemas.dates import as_wib
from schemas.listing import KnownListing, Listing
from schemas.naming import taken_names, unique_names
from schemas.plan import Plan, WriteKind, plan_shop
from schemas.skus import sku_prefix
from schemas.stock import stock_to_push

log = logging.getLogger("lapak.sync")

Stored = tuple[Any, Any]
"""A group's last stored snapshot (any) and last accepted one (:meth:`StateStore.last_snapshots`)."""


@dataclass(frozen=True)
class SyncOptions:
    """What an operator asked of a sync."""

    groups: tuple[str, ...] | None = None
    dry_run: bool = False
    accept_shrink: bool = False
    reconcile: bool = False


@dataclass(frozen=True)
class CatalogueSnapshot:
    """One reading of a group's catalogue, as the state store keeps it; ``stored`` is the id and
    acceptance of a stored snapshot with the same content (None when the content is new)."""

    group_id: str
    recorded_at: datetime
    content_hash: str
    rows_in: int
    listings: int
    rejected: int
    stored: tuple[int, bool] | None = None
    previous_at: datetime | None = None  # when the last stored snapshot (any content) was recorded

    def fields(self) -> dict:
        return dict(group_id=self.group_id, recorded_at=self.recorded_at, content_hash=self.content_hash,
                    rows_in=self.rows_in, listings=self.listings, rejected=self.rejected)


@dataclass
class ShopWork:
    """One shop's plan and what it was made from (plain values: it travels between steps)."""

    shop_id: int
    plan: Plan
    groups: list[str]
    channel: str = MARKETPLACE
    held_groups: dict[str, str] = field(default_factory=dict)  # group → why the shrink guard held it
    snapshots: dict[str, CatalogueSnapshot] = field(default_factory=dict)
    desired: list[Listing] = field(default_factory=list)
    known: list[KnownListing] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # group → what an operator should know
    uploads: dict[str, int] = field(default_factory=dict)  # group → photos uploaded for it

    @property
    def shop(self) -> ShopRef:
        return ShopRef(self.channel, self.shop_id)


def reconcile_known(rt: Runtime, shop: ShopRef | int, groups: list[GroupConfig], *, save: bool) -> list[KnownListing]:
    """Read the shop's products back from the channel: the listings of our groups (by SKU prefix)."""
    shop = ShopRef.of(shop)
    shop_id = shop.shop_id
    prefixes = sorted(((sku_prefix(g.id) + "-", g.id) for g in groups), key=lambda p: -len(p[0]))
    rows = []
    for p in rt.channel_of(shop).products(shop_id):
        owner = next((gid for prefix, gid in prefixes if (p.sku or "").startswith(prefix)), None)
        if owner is None or p.sku is None:
            continue  # not ours: another tool's product in a shared shop is left alone
        stock = p.stock or 0
        rows.append(KnownListing(
            shop_id=shop_id, sku=p.sku, group_id=owner, product_id=p.product_id, name=p.name,
            category_id=p.category_id, price=p.price, stock=stock, recorded_stock=stock, min_order=p.min_order,
            weight_g=p.weight_g, condition=p.condition, description=p.description, pictures=p.pictures,
            status=p.status, channel=shop.channel))
    if save and rows:
        rt.store.save_listings(rows)
    return rows


def _known(rt: Runtime, shop: ShopRef, groups: list[GroupConfig], options: SyncOptions) -> list[KnownListing]:
    """What the shop holds: the store's record, or the channel's own read when asked or when the
    store knows nothing of these groups."""
    known = rt.store.listings(shop_id=shop.shop_id, channel=shop.channel)
    ids = {g.id for g in groups}
    if options.reconcile or not any(k.group_id in ids for k in known):
        log.info("shop %s: reading the channel's products back (state %s)", shop,
                 "reconcile requested" if options.reconcile else "has none for these groups")
        read = {k.sku: k for k in reconcile_known(rt, shop, groups, save=not options.dry_run)}
        known = [k for k in known if k.sku not in read] + list(read.values())
    return known


def snapshot_of(rt: Runtime, cat: GroupCatalogue, stored: Stored | None = None) -> CatalogueSnapshot:
    """The catalogue's snapshot: recorded at the date it states (from 00:00 WIB), else its save
    time, else now; the same content as a stored snapshot keeps that one's time (stock was counted
    back then). ``stored``: the group's last snapshots, when already read (else they are read)."""
    recorded, how = recorded_at(cat.stated, cat.saved)
    last = (stored or rt.store.last_snapshots([cat.group.id])[cat.group.id])[0]
    same = last if last is not None and last.content_hash == cat.fingerprint else None
    if same is not None:
        recorded = same.recorded_at
        if cat.stated is None:
            how = "content unchanged since first seen"
    log.info("%s: stock as of %s (%s)", cat.group.id, as_wib(recorded), how)
    return CatalogueSnapshot(group_id=cat.group.id, recorded_at=recorded, content_hash=cat.fingerprint,
                             rows_in=cat.rows_in, listings=len(cat.listings), rejected=cat.rejected,
                             stored=(same.id, same.accepted) if same is not None else None,
                             previous_at=last.recorded_at if last is not None else None)


def _shrunk(rt: Runtime, snap: CatalogueSnapshot, options: SyncOptions, accepted: Any) -> str:
    """Why the shrink guard holds this catalogue's deactivations ("" when it does not); ``accepted``
    is the group's last accepted snapshot."""
    threshold = rt.config.sync.shrink_threshold
    if (accepted is None or accepted.listings == 0 or options.accept_shrink
            or snap.listings >= accepted.listings * (1 - threshold)):
        return ""
    return f"{accepted.listings} → {snap.listings} listings, more than {threshold:.0%} lost"


def _recount_note(cat: GroupCatalogue, snap: CatalogueSnapshot, known: list[KnownListing]) -> str:
    """A recount whose stated date was not brought forward: every sale since that date comes off
    the new figures again. Not wrong in itself (stock added for new production), so a note."""
    if (snap.stored is not None or snap.previous_at is None or cat.stated is None
            or int(snap.previous_at.timestamp()) != int(snap.recorded_at.timestamp())):
        return ""
    before = {k.sku: k.recorded_stock for k in known}
    changed = sum(1 for d in cat.listings if d.sku in before and before[d.sku] != d.stock)
    if not changed:
        return ""
    return (f"stock changed for {changed} product(s) but the catalogue still states {cat.stated.on.isoformat()} "
            f"({cat.stated.where()}): every sale since then is taken off the new figures; if the stock was "
            "counted again, update that date")


def _names(rt: Runtime, desired: list[Listing], known: list[KnownListing]) -> list[Listing]:
    """Desired listings with names unique in the shop, avoiding names other products hold."""
    labels = {g.id: g.village or g.name for g in rt.config.groups}
    wanted = {d.sku: d.name for d in desired}
    taken = taken_names([k for k in known if k.sku not in wanted], labels)
    # A product with an order keeps its name on the marketplace (a rename is refused): that name
    # stays in use, so no other product may be given it (it would be refused on every run).
    taken.update({k.name.casefold(): k.sku for k in known
                  if k.sku in wanted and k.has_orders and k.name != wanted[k.sku]})
    return unique_names(desired, labels, taken)


def pull_before_planning(rt: Runtime, shop: ShopRef) -> dict:
    """The sync's step per shop before any planning: its new orders stored (stock not yet
    corrected: planning pushes the rule, counted over every channel's sales)."""
    cfg = rt.config
    return pull_orders_for_shop(rt, shop, correct=False, lookback_s=int(cfg.orders.lookback_hours * 3600),
                                first_run_s=int(cfg.orders.first_run_days * 86400))


def _prices_when_active(plan: Plan, known: list[KnownListing]) -> None:
    """For a channel that refuses price updates on inactive products: a price change of a
    product that stays inactive waits (the store keeps the old price, so it is planned again,
    after the activation, on the run that activates it)."""
    active_after = {t.sku for t in plan.entries[WriteKind.REACTIVATE]}
    inactive = {k.sku for k in known if not k.active and k.sku not in active_after}
    inactive |= {t.sku for t in plan.entries[WriteKind.DEACTIVATE]}
    prices = plan.entries[WriteKind.PRICES]
    prices[:] = [c for c in prices if c.sku not in inactive]


def plan_shop_work(rt: Runtime, shop: ShopRef | int, catalogues: list[GroupCatalogue], options: SyncOptions,
                   *, pull: bool = True) -> ShopWork:
    """Desired listings of the shop's groups against what the shop holds → a plan.

    ``pull``: store the shop's new orders first (the sync pulls every shop before planning any,
    and passes False)."""
    shop = ShopRef.of(shop)
    cfg, channel = rt.config, rt.channel_of(shop)
    if pull and not options.dry_run:
        pull_before_planning(rt, shop)
    groups = [c.group for c in catalogues]
    known = _known(rt, shop, groups, options)
    work = ShopWork(shop_id=shop.shop_id, plan=Plan(shop.shop_id), groups=sorted(g.id for g in groups),
                    channel=shop.channel)
    desired: list[Listing] = []
    since: dict[str, int] = {}  # SKU → when its group's stock was recorded
    stored = rt.store.last_snapshots(work.groups)  # the shop's groups at once, not a query each
    for cat in catalogues:
        gid = cat.group.id
        snap = work.snapshots[gid] = snapshot_of(rt, cat, stored[gid])
        if why := _shrunk(rt, snap, options, stored[gid][1]):
            work.held_groups[gid] = why
        if note := _recount_note(cat, snap, known):
            log.warning("%s: %s", gid, note)
            work.notes[gid] = note
        listings = cat.listings_on(shop.channel)
        since.update(dict.fromkeys((d.sku for d in listings), int(snap.recorded_at.timestamp())))
        desired += listings
    sold = rt.store.units_sold(since)
    stock = {d.sku: capped(stock_to_push(d.stock, sold.get(d.sku, 0), cfg.stock.safety_buffer), channel.limits)
             for d in desired}
    desired, work.uploads = upload_pictures(rt, shop, desired, upload=not options.dry_run)
    desired = _names(rt, desired, known)
    work.plan = plan_shop(shop.shop_id, desired, known, stock, managed_groups=set(work.groups),
                          hold_deactivation=set(work.held_groups))
    if channel.limits.prices_need_active:
        _prices_when_active(work.plan, known)
    work.desired, work.known = desired, known
    log.info("shop %s: plan %s", shop, work.plan.counts())
    return work
