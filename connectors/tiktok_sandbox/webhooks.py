"""Order notifications (contract §7), sent from one background thread.

On an order's creation and every status change the sandbox POSTs
``{"type": 1, "tts_notification_id", "shop_id", "timestamp", "data": {"order_id",
"order_status", "is_on_hold_order", "update_time"}}`` to the webhook target set through
``/admin/webhook``, signed in ``Authorization`` by :func:`connectors.tiktok.signing.webhook_signature`.
An attempt that gets no 2xx within the timeout is retried (3 times by default, waiting
``backoff``, ``2 × backoff``, …). Deliveries go one at a time, in order; the counters say
how many were queued, attempted, delivered and given up.
"""

from __future__ import annotations

import json
import queue
import secrets
import threading
import time
from typing import Any

import requests

from connectors.tiktok.signing import webhook_signature
from connectors.tiktok_sandbox.limits import Stats

ORDER_STATUS_CHANGE = 1


def notification(shop_id: str, order: dict[str, Any], now: int) -> dict[str, Any]:
    """The body of an ORDER_STATUS_CHANGE notification for ``order`` (contract shape)."""
    return {"type": ORDER_STATUS_CHANGE, "tts_notification_id": str(7_000_000_000_000_000_000 + secrets.randbits(60)),
            "shop_id": shop_id, "timestamp": now,
            "data": {"order_id": order["id"], "order_status": order["status"],
                     "is_on_hold_order": order["status"] == "ON_HOLD", "update_time": order["update_time"]}}


class WebhookSender:
    """A queue and the daemon thread that drains it."""

    def __init__(self, app_key: str, app_secret: str, stats: Stats, *, timeout: float, retries: int,
                 backoff: float) -> None:
        self._key, self._secret = app_key, app_secret
        self._stats = stats
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._http = requests.Session()
        self._http.trust_env = False  # a seller URL on loopback must not go through a proxy
        self._thread = threading.Thread(target=self._run, name="tiktok-sandbox-webhooks", daemon=True)
        self._thread.start()

    def send(self, url: str, body: dict[str, Any]) -> None:
        """Queue one notification to ``url``."""
        self._stats.webhook("queued")
        self._queue.put((url, json.dumps(body, separators=(",", ":")).encode()))

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            self._deliver(*job)

    def _deliver(self, url: str, raw: bytes) -> None:
        headers = {"Content-Type": "application/json", "Authorization": webhook_signature(self._key, self._secret, raw)}
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            self._stats.webhook("attempts")
            try:
                if 200 <= self._http.post(url, data=raw, headers=headers, timeout=self.timeout).status_code < 300:
                    self._stats.webhook("delivered")
                    return
            except requests.RequestException:
                pass
        self._stats.webhook("failed")

    def stop(self, timeout: float = 2.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)
        self._http.close()

