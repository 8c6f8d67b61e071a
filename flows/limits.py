"""The rate limit every worker shares: a Prefect global concurrency limit per app and endpoint.

The marketplace counts its rate limit per app (``fs_id``) and endpoint path, over all shops; the
TikTok shape per app key and path template. Each process paces itself
(:class:`connectors.pacing.ItemRateLimiter`), but workers do not see each other's pacing. So in
Prefect runs every grant of a process's pacer also takes its items from a Prefect global
concurrency limit (GCL) shared through the Prefect server and named after the channel, the app
and the endpoint (:func:`connectors.pacing.shared_key`), e.g.
``marketplace-15001-v3-products-fs-15001-create``. A limit that does not exist yet is created
from the configuration's ``rate_limit_per_second`` (:func:`limit_numbers`): nothing for an
operator to create.

- The configuration is the source: a limit whose numbers differ from it is made again from it
  (keep ``lapak.toml`` the same on every worker), one deleted is created again when next needed.
  ``prefect gcl disable NAME`` switches one off: each process then paces itself alone on it.
- Without a Prefect API URL (one process, nothing to share) nothing is installed; when the API
  fails, a warning, and each process paces itself alone for a minute before asking again.

How slots are taken. Prefect's server keeps a rate limit as ``active_slots`` and the time of the
row's last update; ``floor(decay × seconds since that update)`` slots have drained at any moment,
and every update starts that clock again, a refused attempt too (without draining anything). An
attempt refused late in a second throws most of that second away, which is why
``prefect.concurrency.sync.rate_limit`` (attempt; wait the server's Retry-After; attempt again)
gets two workers only 3.9–4.3 items/s out of a 5/s limit. Here a process reads the limit (a read
changes nothing), works out from ``active_slots`` and the time of the last update when its items
fit, sleeps until then, and increments when a read says they fit. What is still refused is two
processes incrementing within the same few milliseconds, which costs those milliseconds. A
process that has seen no other's slots lately goes by what it knows of its own and increments
without reading first: one call per grant.

Two more things keep the marketplace itself from refusing anything. After another process's
slots a process waits a margin more: calls reach the marketplace a little after their slots were
granted, not always equally late, the first calls of a process (connections, code warming up)
latest; after its own slots its pacer spaces its calls. And since a process needs no margin after
its own slots, it would win every time against one waiting after another's: every :data:`TURN`
increments in a row it wakes later once, so a waiting process gets its turn, and the margin is
paid once a turn.
"""

from __future__ import annotations

import atexit
import logging
import math
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from flows.prefect_transport import quick_retry_transport

log = logging.getLogger("lapak.limits")

MARGIN_S = 0.05  # after another process's slots (at most a quarter of 1/rate)
FIRST_MARGIN_S = 0.3  # ... the first time this process waits for a limit (at most 1.5/rate)
TURN = 8  # increments in a row after which a process lets a waiting one go first
YIELD_S = 0.04  # ... by waking this much (and a margin) later than the moment its slots fit
POLL_S = 0.01  # a read said "not yet" when the sums said "now": read again this much later
RESERVE_S = 0.2  # fast limits (one item a call) take this much of their rate at once
TRUST_S = 5.0  # while no other process is seen, a process increments without reading first
RETRY_S = 60.0  # after the Prefect API failed: this process paces itself alone this long


def limit_numbers(rate: float) -> tuple[int, float]:
    """``(limit, slot_decay_per_second)`` of the shared limit for a configured rate: a burst of one
    second's worth (at least one item), as each process's own bucket, refilled at the rate."""
    return max(1, math.floor(rate)), float(rate)


@dataclass
class _Limit:
    """What one process knows of one shared limit."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    rate: float = 1.0  # the configuration's: what the limit is made (or made again) from
    size: int = 1  # the limit's ``limit``: the most one increment may take
    decay: float = 1.0
    active: bool = True
    reserve: int = 0  # slots taken but not yet used (fast limits)
    reserve_until: float = 0.0
    sent: float | None = None  # when this process last sent an increment (its own clock)
    granted: tuple[float, float] | None = None  # its last granted increment: sent, answered
    updated: float = 0.0  # the last update a read saw (server time)
    streak: int = 0  # increments of this process in a row
    waited: bool = False  # this process has waited for another's slots on this limit before
    held: float = 0.0  # slots held as far as this process knows, at ``held_at`` (its own clock)
    held_at: float = 0.0
    trust_until: float = 0.0  # until then no other process was seen: ``held`` is enough to go by
    skew_lo: float = -math.inf  # the server's clock minus this process's lies in [lo, hi]
    skew_hi: float = math.inf

    def skew(self) -> float:
        lo, hi = self.skew_lo, self.skew_hi
        if math.isinf(lo) or math.isinf(hi):
            return min(max(0.0, lo), hi)  # clocks in step, as far as is known
        return (lo + hi) / 2

    def learn_skew(self, updated: float, read_done: float) -> None:
        """A read that finished at ``read_done`` saw the last update at server time ``updated``:
        the read came after it (skew ≥ updated − read_done) and, once this process has sent an
        increment, that update was it or a later one (skew ≤ updated − sent)."""
        lo = updated - read_done
        hi = updated - self.sent if self.sent is not None else math.inf
        if max(lo, self.skew_lo) > min(hi, self.skew_hi):  # a clock was set: start again
            self.skew_lo, self.skew_hi = lo, hi
        else:
            self.skew_lo, self.skew_hi = max(lo, self.skew_lo), min(hi, self.skew_hi)

    def fits(self, n: int, now: float) -> bool:
        """Whether ``n`` slots fit now by what this process knows (never more generous than the
        server: ``held`` was counted at or after the server counted it)."""
        held = self.held - math.floor(self.decay * max(0.0, now - self.held_at) + 1e-9)
        return max(0.0, held) + n <= self.size


class _ApiDown(Exception):
    """The Prefect API failed; the text names only the kind of failure."""


class PrefectRateGate:
    """The shared gate (:data:`connectors.pacing.SharedGate`) over Prefect global concurrency
    limits: ``gate(name, items, rate)`` blocks until ``items`` slots of limit ``name`` are taken.

    One per process (:func:`gate`), thread-safe: one thread at a time per limit talks to the
    server, the others of this process wait their turn behind it.
    """

    def __init__(self, *, margin: float = MARGIN_S, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._limits: dict[str, _Limit] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._alone_until = 0.0
        self._read_s = 0.01  # how long a read takes (a moving average)

    # ------------------------------------------------------------------ the gate

    def __call__(self, name: str, items: int, rate: float) -> None:
        if items < 1 or time.monotonic() < self._alone_until:
            return
        with self._lock:
            lim = self._limits.setdefault(name, _Limit())
        with lim.lock:
            try:
                self._take(name, lim, items, rate)
            except _ApiDown as err:
                self._alone_until = time.monotonic() + RETRY_S
                log.warning("shared rate limit %s: the Prefect API failed (%s); this process paces itself "
                            "alone for %.0f s", name, err, RETRY_S)

    def _take(self, name: str, lim: _Limit, items: int, rate: float) -> None:
        lim.rate = rate
        if lim.reserve and self._clock() < lim.reserve_until:
            used = min(items, lim.reserve)
            lim.reserve -= used
            items -= used
        while items > 0:
            # A fast limit (TikTok's 50 calls a second, one item each) takes a fifth of a second's
            # worth at once: an increment per item would update the row every few milliseconds,
            # each update throwing away the fraction of a slot drained since the one before.
            piece = min(lim.size, max(items, math.ceil(lim.decay * RESERVE_S)))
            if not self._increment(name, lim, piece):
                return
            used = min(items, piece)
            items -= used
            lim.reserve, lim.reserve_until = piece - used, self._clock() + RESERVE_S

    def _increment(self, name: str, lim: _Limit, n: int) -> bool:
        """Take ``n`` slots (at most the limit's size): read, wait until they fit, increment.
        False when the limit has gone or was switched off: then the items go unshared."""
        while True:
            now = self._clock()
            # Alone (no other process's update seen lately), what this process knows is enough:
            # one call per grant. Otherwise, or when that says "not yet", the server is read.
            if not (now < lim.trust_until and lim.streak < TURN and lim.fits(n, now)):
                state = self._read(name, lim)
                if state is None:
                    return False
                n = min(n, lim.size)
                mine = self._mine(lim, state[1])
                if mine or state[0] + n <= lim.size / 2:
                    lim.trust_until = self._clock() + TRUST_S
                wait = self._wait(lim, state, n, mine)
                if wait is not None:
                    wait -= self._read_s  # so that the next read lands at that moment
                    if mine and lim.streak >= TURN:  # a waiting process's turn
                        wait += min(self.margin + YIELD_S, 0.5 / lim.decay)
                        lim.streak = 0
                    self._sleep(max(wait, POLL_S))
                    continue
            lim.sent = self._clock()
            answer = self._call("increment", lambda c, n=n: c.increment_concurrency_slots([name], n, "rate_limit"),
                                expect=(423, 422))
            if answer in (423, 422):  # another process was quicker, or the limit shrank: read again
                lim.trust_until = 0.0
                continue
            if not answer.json():  # deleted since this process last read it: made again on the next read
                lim.trust_until = 0.0
                return False
            now = self._clock()
            lim.granted = (lim.sent, now)
            lim.streak += 1
            lim.held = max(0.0, lim.held - math.floor(lim.decay * max(0.0, now - lim.held_at) + 1e-9)) + n
            lim.held_at = now
            if now < lim.trust_until:
                lim.trust_until = now + TRUST_S
            return True

    def _mine(self, lim: _Limit, updated: float) -> bool:
        """Whether the last update of the limit was this process's own granted increment (another
        process's ends this process's streak)."""
        mine = False
        if lim.granted is not None:
            at = updated - lim.skew()
            mine = lim.granted[0] - 0.01 <= at <= lim.granted[1] + 0.01
        if not mine and updated != lim.updated:
            lim.streak = 0
            lim.trust_until = 0.0
        lim.updated = updated
        return mine

    def _wait(self, lim: _Limit, state: tuple[int, float, float], n: int, mine: bool) -> float | None:
        """Seconds until ``n`` slots fit (and, after another process's slots, a margin), from a
        read (``active_slots`` after decay, the server time of the last update, when the read was
        sent); None when they fit now."""
        active, updated, read_sent = state
        if active + n <= lim.size:
            return None
        # The slots held at the last update. The read is put as early as it can have been: an
        # estimate early by a slot costs one more read, one late by a slot a slot's time.
        skew = lim.skew()
        held = active + math.floor(lim.decay * max(0.0, read_sent + skew - updated) + 1e-9)
        fits_at = updated + (held + n - lim.size) / lim.decay - skew
        if mine:
            margin = 0.0
        elif not lim.waited:  # another process's first calls: slower than later ones to arrive
            margin, lim.waited = min(max(self.margin, FIRST_MARGIN_S), 1.5 / lim.decay), True
        else:
            margin = min(self.margin, 0.25 / lim.decay)
        return fits_at + margin - self._clock()

    # ------------------------------------------------------------------ the server

    def _read(self, name: str, lim: _Limit) -> tuple[int, float, float] | None:
        """The limit now: ``(active_slots, server time of its last update, when the read was
        sent)``; None when switched off. Created from the configured rate when missing (another
        worker may create it at the same moment: then theirs is read), and made again from it
        when its numbers differ (starting empty)."""
        from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
        from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

        size, decay = limit_numbers(lim.rate)
        for _ in range(3):
            began = self._clock()
            found = self._call("read", lambda c: c.read_global_concurrency_limit_by_name(name),
                               missing=ObjectNotFound)
            done = self._clock()
            self._read_s += (min(done - began, 0.5) - self._read_s) / 8
            if found is None:
                # Two workers creating it at once: the second is refused (HTTP 409, or 500 from a
                # server on SQLite) and reads the first one's.
                made = self._call("create", lambda c: c.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(
                    name=name, limit=size, slot_decay_per_second=decay)), missing=ObjectAlreadyExists,
                    expect=(409, 500))
                if made not in (None, 409, 500):
                    log.info("shared rate limit %s created: %d items at once, %g items/s", name, size, decay)
                continue
            lim.active = bool(found.active)
            if not lim.active:
                return None
            if (found.limit, found.slot_decay_per_second) != (size, decay):
                self._call("update", lambda c: c.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(
                    limit=size, slot_decay_per_second=decay, active_slots=0)), missing=ObjectNotFound)
                log.info("shared rate limit %s made again from the configuration: %d items at once, %g items/s "
                         "(it was %d, %g)", name, size, decay, found.limit, found.slot_decay_per_second)
                continue
            lim.size, lim.decay = size, decay
            updated = found.updated.timestamp()
            lim.learn_skew(updated, done)
            lim.held, lim.held_at = float(found.active_slots), done
            return int(found.active_slots), updated, began
        raise _ApiDown("the limit changed under every read")

    def _call(self, what: str, call: Callable[[Any], Any], *, missing: type[Exception] | None = None,
              expect: tuple[int, ...] = ()) -> Any:
        """``call(client)``: its answer; None for the ``missing`` exception; the status for an
        ``expect``-ed HTTP error. Any other failure is :class:`_ApiDown`, naming only its kind
        (the exception's text could quote the request)."""
        from prefect.exceptions import PrefectHTTPStatusError

        try:
            return call(self._client())
        except PrefectHTTPStatusError as err:
            if err.response.status_code in expect:
                return err.response.status_code
            raise _ApiDown(f"{what}: HTTP {err.response.status_code}") from None
        except Exception as err:
            if missing is not None and isinstance(err, missing):
                return None
            raise _ApiDown(f"{what}: {type(err).__name__}") from None

    def _client(self) -> Any:
        """One open client per Prefect API (a new one costs ~100 ms, a call on an open one ~10),
        whose requests a server on SQLite refuses with 503 are repeated within milliseconds."""
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_KEY, PREFECT_API_URL

        key = (str(PREFECT_API_URL.value()), str(PREFECT_API_AUTH_STRING.value() or PREFECT_API_KEY.value() or ""))
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = get_client(sync_client=True, httpx_settings={"transport": quick_retry_transport()})
                client.__enter__()
                self._clients[key] = client
            return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            with suppress(Exception):  # closing at exit: nothing left to tell
                client.__exit__(None, None, None)


_gate: PrefectRateGate | None = None
_gate_lock = threading.Lock()


def gate() -> PrefectRateGate:
    """This process's gate (one for every channel and run: what it learnt of each limit stays)."""
    global _gate
    with _gate_lock:
        if _gate is None:
            _gate = PrefectRateGate()
            atexit.register(_gate.close)
        return _gate


def api_configured() -> bool:
    """A Prefect API that several processes can share is configured (``PREFECT_API_URL``)."""
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def shared_pacing(channel: Any) -> Any:
    """Make ``channel``'s pacer take every grant also from the shared limits, when a Prefect API is
    configured and the channel's connector can share its pacing; returns the same channel. For
    :meth:`flows.engine.runtime.Runtime.open`'s ``channel`` option."""
    target = channel if hasattr(channel, "share_pacing") else getattr(channel, "client", None)
    if target is not None and hasattr(target, "share_pacing") and api_configured():
        target.share_pacing(gate())
    return channel
