"""Order notifications of the first marketplace (../shared/marketplace-api.md §6), sent from one
background thread.

When an order is placed (status 220) and whenever its status changes, the sandbox POSTs
``{"event_id", "fs_id", "shop_id", "order_id", "order_status", "update_time"}`` to the target set
through ``PUT /admin/webhook``, with ``X-Mp-Timestamp`` and ``X-Mp-Signature``
(:func:`connectors.webhooks.signatures.marketplace_signature`, keyed with the client secret), each
attempt signed anew with a fresh timestamp. An attempt without a 2xx within ``timeout`` is retried
(``retries`` times, waiting ``backoff``, ``2 × backoff``, …: a sandbox's short version of the
contract's 24 hours). Deliveries go one at a time, in order. The target is kept in a file under the
data dir (it survives a restart); the counters are in memory.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from connectors.webhooks.signatures import marketplace_signature

TARGET_FILE = "webhook-url"


def notification(fs_id: int, order: dict[str, Any]) -> dict[str, Any]:
    """The body of a notification about ``order`` (the contract's order shape), with a fresh event id."""
    return {"event_id": uuid.uuid4().hex, "fs_id": fs_id, "shop_id": order["shop_id"], "order_id": order["order_id"],
            "order_status": order["order_status"], "update_time": order["update_time"]}


class WebhookSender:
    """The webhook target, a queue and the daemon thread that drains it."""

    def __init__(self, data_dir: Path, client_secret: str, *, timeout: float = 5.0, retries: int = 3,
                 backoff: float = 1.0) -> None:
        self._target = Path(data_dir) / TARGET_FILE
        self._secret = client_secret
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.counts = {"queued": 0, "attempts": 0, "delivered": 0, "failed": 0}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._http = requests.Session()
        self._http.trust_env = False  # a receiver on loopback must not go through a proxy
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str | None:
        try:
            return self._target.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def set_url(self, url: str | None) -> None:
        if url:
            self._target.write_text(url, encoding="utf-8")
        else:
            self._target.unlink(missing_ok=True)

    def notify(self, fs_id: int, order: dict[str, Any]) -> None:
        """Queue a notification about ``order`` when a target is set."""
        if (url := self.url) is not None:
            self._count("queued")
            self._queue.put((url, json.dumps(notification(fs_id, order), separators=(",", ":")).encode()))

    def stats(self) -> dict[str, int]:
        """Notifications queued, attempts made, delivered and given up (since the sandbox started)."""
        with self._lock:
            return dict(self.counts)

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            self._deliver(*job)

    def _deliver(self, url: str, raw: bytes) -> None:
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            self._count("attempts")
            stamp = str(int(time.time()))
            headers = {"Content-Type": "application/json", "X-Mp-Timestamp": stamp,
                       "X-Mp-Signature": marketplace_signature(self._secret, stamp, raw)}
            try:
                if 200 <= self._http.post(url, data=raw, headers=headers, timeout=self.timeout).status_code < 300:
                    self._count("delivered")
                    return
            except requests.RequestException:
                pass
        self._count("failed")

    def stop(self, timeout: float = 2.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)
        self._http.close()
