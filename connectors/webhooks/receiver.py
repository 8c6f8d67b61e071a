"""The receiver's decisions, apart from HTTP: verify, read, keep to our shops, dedupe, debounce.

What each outcome answers (the channel retries anything but a 2xx):

=====  ======================================================================================
401    a missing or wrong signature; on the marketplace also a timestamp more than 300 s off
400    a signed body that is not a notification of the channel's shape (not JSON, fields missing)
404    a channel this configuration does not have
413    a body over :data:`BODY_MAX` bytes (answered by the app, before anything is read)
200    everything else, at once: a new notification (handed to the per-shop debouncer), a
       duplicate (``"duplicate": true``), or one acknowledged and ignored (``"ignored": why``): a
       shop, or an ``fs_id``, that is not this configuration's, or a kind that is not an order
       change. Ignoring rather than refusing: a refusal would only be redelivered for a day.
=====  ======================================================================================

Dedupe keeps ids in the state store (:class:`~connectors.state.webhooks.WebhookEvents`), so a
redelivery after a restart is still recognised. A store that is slow (another run holding SQLite's
write lock) or down never delays the answer past :data:`DEDUPE_WAIT_S`: the notification then goes
on as new, because one pull too many costs little and a notification lost costs a 15-minute wait.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.state.webhooks import WebhookEvents
from connectors.webhooks.debounce import Debouncer
from connectors.webhooks.notifications import MARKETPLACE, TIKTOK, BadNotification, Notification, parse
from connectors.webhooks.signatures import marketplace_refusal, tiktok_refusal

log = logging.getLogger("lapak.webhooks")

BODY_MAX = 64 * 1024
"""The largest body read (bytes); both contracts' notifications are a few hundred."""
DEDUPE_WAIT_S = 2.0
"""How long the answer waits for the state store to say whether a notification is new."""
PRUNE_EVERY_S = 3600.0
"""How often seen ids older than :data:`connectors.state.webhooks.KEEP` are forgotten."""


@dataclass(frozen=True)
class Answer:
    """What to answer: an HTTP status and a small JSON body."""

    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class ChannelKeys:
    """What verifies one channel's notifications and which shops are ours there. Never printed."""

    secret: str = field(repr=False)
    shops: frozenset[str]
    app_key: str = ""            # tiktok: signed along with the body
    fs_id: int | None = None     # marketplace: the app's id, which every notification names


class Receiver:
    """Both channels' notifications for one configuration; thread-safe."""

    def __init__(self, keys: Mapping[str, ChannelKeys], events: WebhookEvents, debouncer: Debouncer, *,
                 dedupe_wait: float = DEDUPE_WAIT_S) -> None:
        self.keys = dict(keys)
        self.events = events
        self.debouncer = debouncer
        self.dedupe_wait = dedupe_wait
        self._pruned = 0.0
        self._prune_lock = threading.Lock()

    def check(self, channel: str, raw: bytes, headers: Mapping[str, str], client: str = "?") -> Notification | Answer:
        """The notification in a request, or the answer that refuses or ignores it."""
        keys = self.keys.get(channel)
        if keys is None:
            return Answer(404, {"error": f"channel {channel} is not configured here"})
        if channel == MARKETPLACE:
            why = marketplace_refusal(keys.secret, headers.get("x-mp-timestamp"), headers.get("x-mp-signature"), raw)
        else:
            why = tiktok_refusal(keys.app_key, keys.secret, raw, headers.get("authorization"))
        if why:
            log.warning("refused a %s notification from %s: %s (401)", channel, client, why)
            return Answer(401, {"error": why})
        try:
            n = parse(channel, raw, datetime.now(UTC))
        except BadNotification as err:
            log.warning("refused a signed %s notification from %s: %s (400)", channel, client, err)
            return Answer(400, {"error": str(err)})
        ignored = self._ignored(n, keys)
        if ignored:
            log.warning("acknowledged and ignored %s notification %s: %s", channel, n.event_id, ignored)
            return Answer(200, {"ok": True, "ignored": ignored})
        return n

    @staticmethod
    def _ignored(n: Notification, keys: ChannelKeys) -> str:
        if not n.relevant:
            return "not an order status change"
        if keys.fs_id is not None and n.fs_id != keys.fs_id:
            return f"fs_id {n.fs_id} is not this configuration's ({keys.fs_id})"
        if n.shop_id not in keys.shops:
            return f"shop {n.shop_id} is not in this configuration"
        return ""

    def first_seen(self, n: Notification) -> bool:
        """Record ``n`` in the state store; False when it was seen before (blocking: call it off the loop)."""
        new = self.events.first_seen(n.channel, n.event_id, n.shop_id, n.received_at)
        self._prune_now_and_then()
        return new

    def forward(self, n: Notification, new: bool | None) -> Answer:
        """Hand a new notification (``new`` None: the store could not say) to the debouncer; the answer."""
        if new is False:
            log.debug("duplicate %s notification %s (shop %s)", n.channel, n.event_id, n.shop_id)
            return Answer(200, {"ok": True, "duplicate": True})
        self.debouncer.add(n)
        log.debug("%s notification %s: shop %s, order %s", n.channel, n.event_id, n.shop_id, n.order_id)
        return Answer(200, {"ok": True})

    def _prune_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._pruned < PRUNE_EVERY_S or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._pruned = now
            if gone := self.events.prune():
                log.info("forgot %d notification ids older than the dedupe window", gone)
        finally:
            self._prune_lock.release()

    def close(self) -> None:
        """Hand on the open bursts now and stop the debouncer."""
        self.debouncer.close()


def channel_keys(config: Any, client_secret: str, app_secret: str | None) -> dict[str, ChannelKeys]:
    """Each configured channel's keys and shops, from a :class:`~schemas.config.LapakConfig`."""
    keys = {MARKETPLACE: ChannelKeys(client_secret, frozenset(str(g.shop_id) for g in config.groups),
                                     fs_id=config.marketplace.fs_id)}
    if config.tiktok is not None and app_secret:
        keys[TIKTOK] = ChannelKeys(app_secret, frozenset(g.tiktok_shop_id for g in config.groups if g.tiktok_shop_id),
                                   app_key=config.tiktok.app_key)
    return keys
