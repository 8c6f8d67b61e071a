"""The order pull of chosen shops that a shop's order notification starts (``lapak webhooks`` →
a Prefect event → the automation ``lapak serve`` keeps → a ``pull-orders`` run with ``shops``).

Prefect's trigger fires on a shop's first notification and folds into that run every further
notification of the shop within :data:`NOTIFIED_WINDOW_S` of it (a burst is one pull). Those
orders are covered because the run's cut-off is never earlier than the first notification plus
the window (:func:`cutoff`; the run waits for it when it starts sooner, which it seldom does:
starting a run takes longer). A run that finds its shop already pulled past that point (a later
run, a scheduled pull) has nothing to add and does nothing (:func:`already_pulled`).

Shops are named as run parameters name them: ``tiktok:7494001``, ``marketplace:479573``, or a
bare id for the first marketplace (``479573``, as summaries show it).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable

from flows.engine.orders import cursor_name
from flows.engine.runtime import Runtime
from schemas.channel import MARKETPLACE, ShopRef

log = logging.getLogger("lapak.orders")

NOTIFIED_WINDOW_S = 5
"""A shop's notifications within this many seconds of the one that started its pull are covered by it."""


def shop_name(shop: ShopRef) -> str:
    """``channel:id``, as a run's ``shops`` parameter names a shop."""
    return f"{shop.channel}:{shop.shop_id}"


def chosen_shops(rt: Runtime, names: Iterable[str]) -> list[ShopRef]:
    """The configured shops ``names`` names (``tiktok:7494001``, ``marketplace:479573``, ``479573``);
    an unknown or unconfigured one is an error naming it and the shops there are."""
    configured = rt.shops()
    out: set[ShopRef] = set()
    for name in names:
        channel, _, shop_id = str(name).strip().rpartition(":")
        if not shop_id.isdigit():
            raise ValueError(f"shop {name!r} is not a shop: write <channel>:<shop id>, e.g. tiktok:7494001")
        shop = ShopRef(channel or MARKETPLACE, int(shop_id))
        if shop not in configured:
            known = ", ".join(shop_name(s) for s in sorted(configured))
            raise ValueError(f"shop {name!r} is not configured (configured shops: {known})")
        out.add(shop)
    return sorted(out)


def sharing_a_group(rt: Runtime, shops: Iterable[ShopRef]) -> list[ShopRef]:
    """Every shop, on every channel, selling for a group that sells through one of ``shops`` (them
    included): where a sale in ``shops`` changes the stock to show."""
    configured = rt.shops()
    groups = {g.id for shop in shops for g in configured.get(shop, [])}
    return sorted(s for s, gs in configured.items() if any(g.id in groups for g in gs))


def cutoff(notified_at: float) -> int:
    """The earliest cut-off of a pull a notification at ``notified_at`` (UNIX time) started."""
    return math.ceil(notified_at + NOTIFIED_WINDOW_S)


def already_pulled(rt: Runtime, shops: Iterable[ShopRef], notified_at: float) -> bool:
    """Whether every one of ``shops`` was pulled up to :func:`cutoff` (its cursor is there)."""
    due = cutoff(notified_at)
    return all((rt.store.cursor(cursor_name(shop)) or 0) >= due for shop in shops)


def wait_for_cutoff(notified_at: float) -> int:
    """Sleep until :func:`cutoff` has passed (seldom needed); the cut-off to pull up to."""
    due = cutoff(notified_at)
    if (left := due - time.time()) > 0:
        log.info("orders: waiting %.1f s for the end of the notification's %d s window", left, NOTIFIED_WINDOW_S)
        time.sleep(left)
    return max(due, int(time.time()))
