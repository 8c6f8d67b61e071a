"""Rate limit and counters of the TikTok sandbox.

The limit (contract §3): requests per second per app per path template (a product id in a
path is one template), a token bucket with a burst equal to the rate — the first sandbox's
:class:`~connectors.sandbox.ratelimit.Bucket`, counting one per request. The counters live in
memory (a restart zeroes them) behind a lock, since webhook deliveries count from their thread.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from typing import Any

from connectors.sandbox.ratelimit import Bucket

_EPS = 1e-9


class RateLimiter:
    """Buckets keyed by path template; ``rate=None`` lets everything through."""

    def __init__(self, rate: float | None) -> None:
        self.set_rate(rate)

    def set_rate(self, rate: float | None) -> None:
        """Change the rate; every bucket starts full again."""
        self.rate = rate if rate and rate > 0 else None
        self._buckets: dict[str, Bucket] = {}

    def _bucket(self, template: str) -> Bucket | None:
        if self.rate is None:
            return None
        if template not in self._buckets:
            self._buckets[template] = Bucket(self.rate, time.monotonic())
        return self._buckets[template]

    def take(self, template: str) -> float:
        """Take one request; 0 when granted, else the seconds until one is there."""
        b = self._bucket(template)
        if b is None or b.take(1, time.monotonic()):
            return 0.0
        return (1 - b.tokens) / b.rate

    def headers(self, template: str) -> dict[str, str]:
        b = self._bucket(template)
        if b is None:
            return {"X-RateLimit-Limit": "0", "X-RateLimit-Remaining": "1000000"}
        b.refill(time.monotonic())
        return {"X-RateLimit-Limit": f"{b.rate:g}", "X-RateLimit-Remaining": str(math.floor(b.tokens + _EPS))}


def retry_after(seconds: float) -> str:
    """``Retry-After`` in whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


class Stats:
    """Calls and 429s per path template, creates per shop and seller_sku, webhook deliveries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.paths: dict[str, dict[str, int]] = defaultdict(lambda: {"calls": 0, "http_429": 0, "http_5xx": 0})
            self.creates: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            self.webhooks = {"queued": 0, "attempts": 0, "delivered": 0, "failed": 0}
            self.faults: dict[str, int] = defaultdict(int)

    def call(self, template: str, status: int) -> None:
        with self._lock:
            p = self.paths[template]
            p["calls"] += 1
            p["http_429"] += status == 429
            p["http_5xx"] += status >= 500

    def created(self, shop_id: str, seller_sku: str) -> None:
        with self._lock:
            self.creates[shop_id][seller_sku] += 1

    def webhook(self, what: str) -> None:
        with self._lock:
            self.webhooks[what] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            paths = {k: dict(v) for k, v in sorted(self.paths.items())}
            return {"paths": paths,
                    "totals": {k: sum(p[k] for p in paths.values()) for k in ("calls", "http_429", "http_5xx")},
                    "creates": {s: dict(v) for s, v in self.creates.items()},
                    "webhooks": dict(self.webhooks), "faults_fired": dict(self.faults)}
