"""What a burst of order notifications becomes: one Prefect event for the shop, which the automation
``lapak serve`` creates turns into that shop's order pull.

The event (the automation matches exactly this; ``lapak.config`` keeps two configurations served
from one Prefect server apart)::

    event    = "lapak.orders.notified"
    resource = {"prefect.resource.id": "lapak.shop.<channel>.<shop id>", "lapak.channel": <channel>,
                "lapak.shop_id": "<shop id>", "lapak.config": "<absolute path of lapak.toml>"}
    payload  = {"notifications": n, "order_ids": [... at most 50], "first_received": iso, "last_received": iso}

Prefect's events worker sends each event over its websocket as soon as it is queued (no batching
to wait for); its connection is opened when the receiver starts, not on the first burst.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.config import app_secret, client_secret, load_config
from connectors.state import StateStore
from connectors.state.webhooks import WebhookEvents
from connectors.webhooks import DEBOUNCE_SECONDS, Burst, Debouncer, Receiver, channel_keys, create_app

log = logging.getLogger("lapak.webhooks")

EVENT = "lapak.orders.notified"


def resource_id(channel: str, shop_id: str | int) -> str:
    """The ``prefect.resource.id`` of a shop's notifications."""
    return f"lapak.shop.{channel}.{shop_id}"


def notified_event(burst: Burst, config_path: str | Path) -> dict[str, Any]:
    """The keyword arguments of :func:`prefect.events.emit_event` for ``burst``."""
    return dict(
        event=EVENT,
        resource={"prefect.resource.id": resource_id(burst.channel, burst.shop_id), "lapak.channel": burst.channel,
                  "lapak.shop_id": str(burst.shop_id), "lapak.config": str(Path(config_path).resolve())},
        payload={"notifications": burst.notifications, "order_ids": list(burst.order_ids),
                 "first_received": burst.first_received.isoformat() if burst.first_received else None,
                 "last_received": burst.last_received.isoformat() if burst.last_received else None},
    )


class PrefectSink:
    """Emits one :data:`EVENT` per burst to the Prefect API of this process's settings
    (``PREFECT_API_URL``, with ``PREFECT_API_AUTH_STRING`` for an authenticated server)."""

    def __init__(self, config_path: str | Path) -> None:
        self.config_path = str(Path(config_path).resolve())

    def __call__(self, burst: Burst) -> None:
        from prefect.events import emit_event

        sent = emit_event(**notified_event(burst, self.config_path))
        orders = ", ".join(burst.order_ids[:5]) + (" …" if len(burst.order_ids) > 5 else "")
        if sent is None:
            log.error("%s shop %s: %d notifications (orders %s), but no Prefect API to tell: no pull asked for",
                      burst.channel, burst.shop_id, burst.notifications, orders)
            return
        log.info("%s shop %s: %d notification(s) (orders %s) -> %s", burst.channel, burst.shop_id,
                 burst.notifications, orders, EVENT)


def start_events() -> None:
    """Open the events worker's connection to the Prefect API now, so the first burst does not wait for it."""
    from prefect.events.worker import EventsWorker

    EventsWorker.instance()


def flush_events(timeout: float = 5.0) -> None:
    """Send what Prefect's workers still hold (at the receiver's stop), waiting ``timeout`` s at most."""
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all(timeout=timeout, at_exit=False)


@dataclass
class Webhooks:
    """A configuration's receiver, its ASGI app and what to close."""

    receiver: Receiver
    app: Any
    store: StateStore
    config_path: str

    def close(self) -> None:
        """Hand on the open bursts, then close the state store."""
        try:
            self.receiver.close()
        finally:
            self.store.close()


def open_webhooks(config_path: str | Path, *, sink: Callable[[Burst], None] | None = None,
                  window: float = DEBOUNCE_SECONDS) -> Webhooks:
    """Read the configuration and its secrets, open the state store (migrating it) and build the
    receiver; ``sink`` (default :class:`PrefectSink`) gets each shop's burst."""
    path = str(Path(config_path).resolve())
    config = load_config(path)
    secret = client_secret(config.marketplace).get_secret_value()
    tiktok_secret = app_secret(config.tiktok).get_secret_value() if config.tiktok is not None else None
    store = StateStore(config.state_url)
    try:
        events = WebhookEvents(store)
        events.prune()
    except BaseException:
        store.close()
        raise
    debouncer = Debouncer(sink or PrefectSink(path), window)
    receiver = Receiver(channel_keys(config, secret, tiktok_secret), events, debouncer)
    return Webhooks(receiver=receiver, app=create_app(receiver), store=store, config_path=path)
