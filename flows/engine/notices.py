"""New-order messages: after an order pull, each group with ``notify`` is told, in one message, the
paid orders it has to pack that it was never told of. Plain: the sending is handed in
(``send(block_ref, subject, body)``; :mod:`flows.notify` sends through a Prefect block).

Which orders a group is told of:

- paid and not yet shipped (``schemas.orders.TO_SHIP``): never a cancelled one, so an order
  cancelled before it was told is never told;
- with lines of the group's own (by its shops' listings): groups sharing a shop are each told of
  their own lines only, each once;
- created within the last :data:`RECENT_S` (7 days) of the pull: turning ``notify`` on for a shop
  with a history (or backfilling old months) tells at most the last week's orders still to pack,
  never a flood of old ones. Creation time, not when the pipeline first saw the order: an order
  first seen unpaid and paid days later is still told;
- not yet recorded as told to that group (``notices`` in the state store).

An order is recorded as told once its message was sent; a message that fails leaves its orders
untold, so the next pull tries again (a crash between sending and recording repeats one message:
at least once, never lost). One run tells at a time (a lease, as shops have).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from flows.engine.locks import lock_owner
from flows.engine.orders import ShopIndex
from flows.engine.runtime import Runtime
from schemas.config import GroupConfig
from schemas.notices import ToPack, compose, failure_reason

log = logging.getLogger("lapak.notices")

Send = Callable[[str, str, str], None]
"""``send(block_ref, subject, body)``: deliver one message through the block ``<type>/<name>``; raises on failure."""

RECENT_S = 7 * 86_400
"""Only orders created this recently (before the pull's cut-off) are told."""
LEASE = "notices"
LEASE_S = 300.0


def due_for(rt: Runtime, group: GroupConfig, now: int) -> list[ToPack]:
    """The group's paid orders (its own lines) created since ``now - RECENT_S`` it was never told of, oldest first."""
    due: list[ToPack] = []
    for channel in rt.config.channels:
        if (shop_id := group.shop_on(channel)) is None:
            continue
        index = ShopIndex.of(rt.store.listings(shop_id=shop_id, channel=channel))
        skus = {sku for sku, gid in index.group_of_sku.items() if gid == group.id}
        paid = [o for o in rt.store.orders_for(shop_id, now - RECENT_S, channel=channel) if o.to_ship]
        told = rt.store.told(group.id, channel, [o.order_id for o in paid])
        due += [p for o in paid if o.order_id not in told and (p := ToPack.of(o, skus)) is not None]
    return sorted(due, key=lambda p: (p.create_time, p.channel, p.order_id))


def tell_group(rt: Runtime, group: GroupConfig, orders: list[ToPack], send: Send) -> dict:
    """Send ``group`` one message naming ``orders`` and record them as told; a failure is reported, not raised."""
    message = compose(group.name, orders)
    names = [o.invoice for o in message.told]
    try:
        send(group.notify, message.subject, message.body)
    except Exception as err:
        why = failure_reason(err)
        log.warning("group %s: new-order message through %s not sent (%s); its %d orders are told on the next pull",
                    group.id, group.notify, why, len(names))
        return {"block": group.notify, "sent": 0, "orders": names, "error": why}
    rt.store.record_told(group.id, [(o.channel, o.order_id) for o in message.told])
    log.info("group %s: told of %d new paid orders through %s: %s", group.id, len(names), group.notify,
             ", ".join(names))
    return {"block": group.notify, "sent": len(names), "orders": names, "error": ""}


def notify_groups(rt: Runtime, send: Send, now: int | None = None) -> dict[str, dict]:
    """Tell every group with ``notify`` of its new paid orders (one message each). Returns, per
    group told or failing, ``{"block", "sent", "orders" (invoices), "error"}``; groups with
    nothing new are absent. Never raises for a group: a block or read that fails is its ``error``."""
    now = int(time.time()) if now is None else int(now)
    groups = [g for g in rt.config.groups if g.notify]
    if not groups:
        return {}
    token = uuid.uuid4().hex
    if (holder := rt.store.try_lock(LEASE, token, lock_owner("notify-groups", rt.label), LEASE_S)) is not None:
        log.warning("new-order messages are being sent by %s; this run sends none (the next pull will)",
                    holder["owner"])
        return {}
    try:
        out: dict[str, dict] = {}
        for group in groups:
            try:
                orders = due_for(rt, group, now)
            except Exception as err:
                out[group.id] = {"block": group.notify, "sent": 0, "orders": [],
                                 "error": f"orders not read: {failure_reason(err)}"}
                log.error("group %s: new orders not read for its message: %s", group.id, out[group.id]["error"])
                continue
            if orders:
                out[group.id] = tell_group(rt, group, orders, send)
                rt.store.renew_lock(LEASE, token, LEASE_S)
        return out
    finally:
        rt.store.release_lock(LEASE, token)
