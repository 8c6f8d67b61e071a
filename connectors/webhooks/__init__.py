"""The order-notification receiver of ``lapak webhooks`` (no Prefect here: what a burst becomes is
the sink's business, :mod:`flows.webhooks`).

- :mod:`~connectors.webhooks.signatures` — both channels' signature rules (the sandboxes sign with them);
- :mod:`~connectors.webhooks.notifications` — a notification's fields, from either channel's body;
- :mod:`~connectors.webhooks.receiver` — verify, keep to our shops, dedupe, answer;
- :mod:`~connectors.webhooks.debounce` — one :class:`Burst` per shop per :data:`DEBOUNCE_SECONDS`;
- :mod:`~connectors.webhooks.app` and :mod:`~connectors.webhooks.server` — the ASGI app and uvicorn.
"""

from connectors.webhooks.app import create_app
from connectors.webhooks.debounce import DEBOUNCE_SECONDS, Burst, Debouncer
from connectors.webhooks.notifications import MARKETPLACE, TIKTOK, Notification
from connectors.webhooks.receiver import BODY_MAX, ChannelKeys, Receiver, channel_keys
from connectors.webhooks.server import DEFAULT_HOST, DEFAULT_PORT, bind, is_loopback, running_receiver, serve

__all__ = [
    "BODY_MAX",
    "DEBOUNCE_SECONDS",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "MARKETPLACE",
    "TIKTOK",
    "Burst",
    "ChannelKeys",
    "Debouncer",
    "Notification",
    "Receiver",
    "bind",
    "channel_keys",
    "create_app",
    "is_loopback",
    "running_receiver",
    "serve",
]
