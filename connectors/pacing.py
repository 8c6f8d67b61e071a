"""Item pacing: a token bucket per endpoint path, kept in step with ``X-Ratelimit-*`` headers.

Shared by every channel's connector. The first marketplace counts every item of a bulk payload
as one request and limits per path, so the limiter counts items, not calls (the TikTok-shaped
channel counts calls per path template: one item each). Its own rate (the configured ``rate_limit_per_second``)
is a ceiling; what the server reports can only make it more careful: a lower ``Limit``, a
smaller ``Remaining`` or a ``Reset-After`` when the bucket is empty. Items handed out but not
yet answered are tracked, so a response that was computed before those items reached the
server does not make the limiter over-generous when several threads share a path.

That is one process's pacing. Several processes writing for one app (workers of a Prefect work
pool) share the server's limit without seeing each other's buckets: a *shared gate* injected from
outside (:meth:`ItemRateLimiter.share`, e.g. ``flows.limits`` backed by a Prefect global
concurrency limit) is asked for every grant, keyed per app and endpoint (:func:`shared_key`), and
blocks until the items may go for every process together; the local bucket is taken after it.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_NUMBER = r"(\d+(?:\.\d+)?)"
_LIMIT_RATE = re.compile(_NUMBER + r"\s*(?:[a-z]+)?\s*(?:/\s*(s|sec|second|m|min|minute))?", re.I)
_LIMIT_BURST = re.compile(r"burst\s*[:=]?\s*" + _NUMBER, re.I)
_LIMIT_WINDOW = re.compile(r";\s*w\s*=\s*" + _NUMBER, re.I)
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.]+")
_PLAIN = re.compile(r"[A-Za-z0-9_.-]{1,40}")

SharedGate = Callable[[str, int, float], None]
"""``gate(key, items, rate)``: block until ``items`` may go on ``key`` for every process sharing
it; ``rate`` is the configured items per second (the limit to create when the key has none)."""


def name_part(text: str) -> str:
    """An app id as a part of a shared key: itself when short and plain (letters, digits, ``_``,
    ``.``, ``-``), else ``h`` and 12 hex digits of its SHA-256 (never a slug another id could share)."""
    return text if _PLAIN.fullmatch(text) else "h" + hashlib.sha256(text.encode()).hexdigest()[:12]


def shared_key(scope: str, path: str) -> str:
    """The key shared by every process for ``path`` (an endpoint path or template) under ``scope``
    (channel and app, e.g. ``marketplace-15001``): readable, stable, and a valid Prefect limit
    name. ``/v3/products/fs/15001/create`` → ``marketplace-15001-v3-products-fs-15001-create``."""
    slug = _NOT_NAME.sub("-", path).strip("-")
    return f"{scope}-{slug}" if slug else scope


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RateLimitInfo:
    """What one response's ``X-Ratelimit-*`` headers say; any part may be missing."""

    rate: float | None = None  # items per second, from X-Ratelimit-Limit
    burst: float | None = None
    remaining: float | None = None
    reset_after: float | None = None
    full_reset_after: float | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimitInfo | None:
        """Parse leniently; ``None`` when the response carries no rate-limit header at all."""
        get = headers.get  # requests' headers are case-insensitive
        limit = get("X-Ratelimit-Limit")
        remaining = _float(get("X-Ratelimit-Remaining"))
        reset_after = _float(get("X-Ratelimit-Reset-After"))
        full_reset = _float(get("X-Ratelimit-Full-Reset-After"))
        if limit is None and remaining is None and reset_after is None and full_reset is None:
            return None
        rate, burst = parse_limit(limit) if limit else (None, None)
        return cls(rate, burst, remaining, reset_after, full_reset)


def parse_limit(text: str) -> tuple[float | None, float | None]:
    """``"5 req/s (burst 5)"`` → ``(5.0, 5.0)``; also ``"100"``, ``"100;w=60"``, ``"300 req/min"``."""
    m = _LIMIT_RATE.search(text)
    if not m:
        return None, None
    rate = float(m.group(1))
    if m.group(2) and m.group(2).lower().startswith("m"):
        rate /= 60.0
    w = _LIMIT_WINDOW.search(text)
    if w and float(w.group(1)) > 0:
        rate /= float(w.group(1))
    b = _LIMIT_BURST.search(text)
    burst = float(b.group(1)) if b else None
    return (rate if rate > 0 else None), burst


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    stamp: float
    inflight: int = 0


class ItemRateLimiter:
    """Thread-safe token buckets, one per key (endpoint path), refilled at ``rate`` items/s;
    optionally also a shared gate (:meth:`share`) that every grant passes."""

    def __init__(
        self,
        rate_per_second: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be > 0")
        self.rate = float(rate_per_second)
        # One second's worth by default: a full batch goes out at once, yet the long-run rate holds.
        self.burst = float(burst) if burst else max(1.0, self.rate)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._gate: SharedGate | None = None
        self._scope = ""

    def share(self, gate: SharedGate | None, scope: str) -> None:
        """Let every grant also pass ``gate``, keyed ``shared_key(scope, key)`` (``None``: this
        process's pacing alone again). The local buckets keep working as before; the gate only
        ever makes a grant wait longer."""
        self._gate, self._scope = gate, scope

    def _bucket(self, key: str, now: float) -> _Bucket:
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = _Bucket(self.rate, self.burst, self.burst, now)
        elif now > b.stamp:
            b.tokens = min(b.capacity, b.tokens + (now - b.stamp) * b.rate)
            b.stamp = now
        return b

    def acquire(self, key: str, want: int, *, partial: bool = True) -> int:
        """Block until items may be sent on ``key``; return how many were granted.

        With ``partial`` the grant is what the bucket holds, up to ``want`` (at least one,
        and a full ``want`` whenever the bucket could ever hold it). Without it exactly
        ``want`` is taken, possibly leaving the bucket in debt: a repeat of a call already
        sized must not be split. With a shared gate, its items are taken from the gate first.
        """
        if want < 1:
            raise ValueError("want must be >= 1")
        gate = self._gate
        if gate is not None:
            # The shared limit first, for as many items as this bucket will grant: its wait and
            # this bucket's refill then overlap instead of adding up.
            if partial:
                with self._lock:
                    want = min(want, max(1, math.floor(self._bucket(key, self._clock()).capacity)))
            gate(shared_key(self._scope, key), want, self.rate)
        return self._take(key, want, partial)

    def _take(self, key: str, want: int, partial: bool) -> int:
        while True:
            with self._lock:
                now = self._clock()
                b = self._bucket(key, now)
                need = min(want, max(1, math.floor(b.capacity)))
                if b.tokens + 1e-9 >= need:
                    grant = min(want, max(need, math.floor(b.tokens + 1e-9))) if partial else want
                    b.tokens -= grant
                    b.inflight += grant
                    return grant
                wait = (need - b.tokens) / b.rate
            self._sleep(max(wait, 1e-4))

    def release(self, key: str, items: int, info: RateLimitInfo | None = None, *, throttled: bool = False) -> None:
        """Items granted on ``key`` got an answer; learn from its headers.

        ``throttled`` says the server refused some items (HTTP 429 or row-level
        ``ERR_TOO_MANY_REQUEST``): without headers to go by, the bucket is emptied.
        """
        with self._lock:
            now = self._clock()
            b = self._bucket(key, now)
            b.inflight = max(0, b.inflight - items)
            if info is not None:
                if info.rate:
                    b.rate = min(self.rate, info.rate)
                if info.burst:
                    b.capacity = max(1.0, min(self.burst, info.burst))
                if info.remaining is not None:
                    # Items still in flight were not counted in this answer's Remaining.
                    server = info.remaining - b.inflight
                    if info.remaining <= 0 and info.reset_after:
                        server = 1.0 - info.reset_after * b.rate - b.inflight
                    b.tokens = min(b.tokens, server)
                    throttled = False
                elif info.reset_after and throttled:
                    b.tokens = min(b.tokens, 1.0 - info.reset_after * b.rate - b.inflight)
                    throttled = False
            if throttled:
                b.tokens = min(b.tokens, 0.0)
            b.tokens = min(b.tokens, b.capacity)

    def snapshot(self) -> dict[str, dict[str, float]]:
        """Current rate, capacity and tokens per key (for logs and benchmarks)."""
        with self._lock:
            now = self._clock()
            return {
                k: {"rate": b.rate, "capacity": b.capacity, "tokens": round(b.tokens, 3)}
                for k, b in ((k, self._bucket(k, now)) for k in list(self._buckets))
            }
