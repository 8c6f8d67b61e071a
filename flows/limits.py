"""A per-shop Prefect global concurrency limit around marketplace writes, shared by every worker.

Each process's marketplace client paces itself (``rate_limit_per_second`` and the
``X-Ratelimit-*`` headers), but runs on several workers do not see each other's pacing. A
Prefect global concurrency limit named ``marketplace-shop-<shop_id>`` does: every write batch
for the shop first takes one slot per item from it, on the Prefect server, so all workers
together stay within it.

- With a slot decay (``prefect gcl create marketplace-shop-479573 --limit 50
  --slot-decay-per-second 5``) it is a *rate* limit: at most ``limit`` items at once and
  ``decay`` items per second on average, counted across all workers.
- Without a decay it caps how many write batches for the shop are in flight at once.
- When no such limit exists (one machine, the tests, the demo) nothing is asked of the server
  beyond a look-up a minute: the client's own pacing is enough.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from schemas.channel import Channel, ListingEdit, NewListing, ProductRef, SetNumber, WriteResult

LIMIT_PREFIX = "marketplace-shop-"
RECHECK_S = 60.0  # a limit created or changed while a run is going is noticed within this

_known: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()


def limit_name(shop_id: int, channel: str = "marketplace") -> str:
    """The global concurrency limit that paces writes to ``shop_id`` of ``channel``
    (``marketplace-shop-<id>``, ``tiktok-shop-<id>``: shop ids are each channel's own)."""
    return f"{channel}-shop-{int(shop_id)}"


def _lookup(name: str) -> Any:
    """The limit (GlobalConcurrencyLimitResponse) or None; remembered for RECHECK_S seconds."""
    now = time.monotonic()
    with _lock:
        hit = _known.get(name)
        if hit is not None and now - hit[0] < RECHECK_S:
            return hit[1]
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            found = client.read_global_concurrency_limit_by_name(name)
    except ObjectNotFound:
        found = None
    with _lock:
        _known[name] = (now, found)
    return found


def forget() -> None:
    """Look every limit up again on next use (after creating or changing one)."""
    with _lock:
        _known.clear()


@contextmanager
def marketplace_slots(shop_id: int, items: int, channel: str = "marketplace") -> Iterator[None]:
    """Hold the shop's share of the marketplace while ``items`` items are written.

    Rate limit (slot decay): takes ``items`` slots before the batch is sent, in pieces no larger
    than the limit; they drain at the decay rate. Plain limit: holds one slot while the batch is
    sent. No limit, or an inactive one: does nothing.
    """
    name = limit_name(shop_id, channel)
    found = _lookup(name) if items > 0 else None
    if found is None or not found.active:
        yield
        return
    from prefect.concurrency.sync import concurrency, rate_limit

    with ExitStack() as held:
        try:
            if found.slot_decay_per_second > 0:
                left = int(items)
                while left > 0:
                    take = min(left, max(int(found.limit), 1))  # more than the limit is refused
                    rate_limit(name, occupy=take, strict=True)
                    left -= take
            else:
                held.enter_context(concurrency(name, occupy=1, strict=True))
        except Exception:
            forget()  # deleted or shrunk since it was looked up: look again next time
            raise
        yield


class PacedChannel:
    """A channel whose writes first take the shop's slots (:func:`marketplace_slots`); reads and
    everything else go straight to the channel."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self.name = channel.name
        self.limits = channel.limits

    def __getattr__(self, name: str) -> Any:
        return getattr(self._channel, name)

    def __repr__(self) -> str:
        return f"PacedChannel({self._channel!r})"

    def _paced(self, shop_id: int, items: int, call: Callable[[], Any]) -> Any:
        with marketplace_slots(shop_id, items, self.name):
            return call()

    def create(self, shop_id: int, rows: Sequence[NewListing]) -> WriteResult:
        return self._paced(shop_id, len(rows), lambda: self._channel.create(shop_id, rows))

    def edit(self, shop_id: int, rows: Sequence[ListingEdit]) -> WriteResult:
        return self._paced(shop_id, len(rows), lambda: self._channel.edit(shop_id, rows))

    def set_prices(self, shop_id: int, rows: Sequence[SetNumber]) -> WriteResult:
        return self._paced(shop_id, len(rows), lambda: self._channel.set_prices(shop_id, rows))

    def set_stock(self, shop_id: int, rows: Sequence[SetNumber]) -> WriteResult:
        return self._paced(shop_id, len(rows), lambda: self._channel.set_stock(shop_id, rows))

    def set_active(self, shop_id: int, rows: Sequence[ProductRef], active: bool) -> WriteResult:
        return self._paced(shop_id, len(rows), lambda: self._channel.set_active(shop_id, rows, active))

    def upload_picture(self, shop_id: int, data: bytes, filename: str) -> str:
        return self._paced(shop_id, 1, lambda: self._channel.upload_picture(shop_id, data, filename))
