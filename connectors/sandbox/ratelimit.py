"""Token buckets per endpoint path, counting items: a bulk call of 25 rows costs 25.

The burst equals the rate (at least one item). The server answers from one event loop, so
the buckets need no lock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

_EPS = 1e-9
UNLIMITED_REMAINING = 1_000_000


def _seconds(s: float) -> str:
    # Rounded up: a client that waits exactly this long must find the item there.
    return f"{math.ceil(s * 1000) / 1000:.3f}"


class Bucket:
    """One path's bucket: ``rate`` items/s, holding at most ``capacity``."""

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.stamp = now

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def take(self, n: int, now: float) -> int:
        """Take up to ``n`` whole items; return how many were granted (0 = limited)."""
        self.refill(now)
        granted = min(n, math.floor(self.tokens + _EPS))
        self.tokens -= granted
        return granted

    def headers(self, now: float) -> dict[str, str]:
        self.refill(now)
        reset = 0.0 if self.tokens + _EPS >= 1 else (1 - self.tokens) / self.rate
        full = max(0.0, (self.capacity - self.tokens) / self.rate)
        return {
            "X-Ratelimit-Limit": f"{self.rate:g} req/s (burst {self.capacity:g})",
            "X-Ratelimit-Remaining": str(math.floor(self.tokens + _EPS)),
            "X-Ratelimit-Reset-After": _seconds(reset),
            "X-Ratelimit-Full-Reset-After": _seconds(full),
        }


class RateLimiter:
    """Buckets keyed by request path; ``rate=None`` lets everything through."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.set_rate(rate)

    def set_rate(self, rate: float | None) -> None:
        """Change the rate; every bucket starts full again."""
        self.rate = rate if rate and rate > 0 else None
        self._buckets: dict[str, Bucket] = {}

    def _bucket(self, path: str) -> Bucket | None:
        if self.rate is None:
            return None
        b = self._buckets.get(path)
        if b is None:
            b = self._buckets[path] = Bucket(self.rate, self._clock())
        return b

    def take(self, path: str, n: int) -> int:
        """Grant up to ``n`` items on ``path``."""
        b = self._bucket(path)
        return n if b is None else b.take(n, self._clock())

    def headers(self, path: str) -> dict[str, str]:
        """The four ``X-Ratelimit-*`` headers for a response on ``path``."""
        b = self._bucket(path)
        if b is None:
            return {"X-Ratelimit-Limit": "unlimited", "X-Ratelimit-Remaining": str(UNLIMITED_REMAINING),
                    "X-Ratelimit-Reset-After": "0.000", "X-Ratelimit-Full-Reset-After": "0.000"}
        return b.headers(self._clock())
