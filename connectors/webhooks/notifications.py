"""What a notification says, read from either channel's body (after its signature held).

Only what the receiver needs: which channel and shop, the id to dedupe by, the order concerned.
Both contracts send no buyer data; the order pull reads the order itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MARKETPLACE = "marketplace"
TIKTOK = "tiktok"
CHANNELS = (MARKETPLACE, TIKTOK)
EVENT_ID_MAX = 200
"""The longest event id kept for dedupe (``webhook_events.event_id``); a longer one is refused (400)."""
ORDER_STATUS_CHANGE = 1
"""The TikTok-shaped ``type`` of an order's creation or status change, the one kind this receiver acts on."""


class BadNotification(ValueError):
    """A body that is not a notification of the channel's shape (answered 400)."""


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification: ``shop_id`` as text (the TikTok shape's ids are strings), ``fs_id`` the
    marketplace's app id (None on the other channel), ``relevant`` False for kinds other than an
    order change (acknowledged, not acted on)."""

    channel: str
    event_id: str
    shop_id: str
    order_id: str
    received_at: datetime
    fs_id: int | None = None
    relevant: bool = True


def _object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadNotification("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadNotification("the body is not a JSON object")
    return body


def _text(body: dict[str, Any], key: str, *, digits: bool = False) -> str:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise BadNotification(f"{key} is missing or not a string or number")
    text = str(value).strip()
    if len(text) > EVENT_ID_MAX:
        raise BadNotification(f"{key} is longer than {EVENT_ID_MAX} characters")
    if digits and not (text.isascii() and text.isdigit()):
        raise BadNotification(f"{key} is not a number")
    return text


def parse(channel: str, raw: bytes, received_at: datetime) -> Notification:
    """The notification in ``raw`` as ``channel`` sends it; :class:`BadNotification` when it is not one."""
    body = _object(raw)
    if channel == MARKETPLACE:
        fs_id = _text(body, "fs_id", digits=True)
        return Notification(MARKETPLACE, _text(body, "event_id"), _text(body, "shop_id", digits=True),
                            _text(body, "order_id"), received_at, fs_id=int(fs_id))
    if channel == TIKTOK:
        data = body.get("data")
        kind = body.get("type")
        relevant = kind == ORDER_STATUS_CHANGE
        if relevant and not isinstance(data, dict):
            raise BadNotification("data is missing or not an object")
        return Notification(TIKTOK, _text(body, "tts_notification_id"), _text(body, "shop_id", digits=True),
                            _text(data, "order_id") if relevant else "", received_at, relevant=relevant)
    raise ValueError(f"unknown channel {channel!r}")
