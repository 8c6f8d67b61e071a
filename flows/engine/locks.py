"""One run at a time per shop: leases in the state store.

Two runs writing one shop at once would each plan from what they last knew and both send the
writes (a second create for one product, one run's stock push undoing the other's). A run
therefore holds a lease per shop (``shop:<id>`` in the ``locks`` table) while it plans and
writes. Taking a lease is one atomic ``INSERT … ON CONFLICT DO UPDATE … WHERE expired`` (SQLite
and PostgreSQL alike); a heartbeat thread renews it while the run works, so a run that crashed
stops renewing and its lease simply runs out (``lease_s``) — the next run takes over. A run that
cannot get every shop within ``wait_s`` raises :class:`LockBusy` naming the shop and its holder.

Shops are taken in ascending order, so two runs wanting overlapping shops never wait on each
other in a circle. Lease times are the runners' clocks (UTC): runners on several machines need
clocks within a few seconds of each other, far less than the lease.

    with shop_locks(rt.store, {479573, 479574}, owner=lock_owner("sync-catalogues")):
        ...  # plan and write
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import datetime

from connectors.state import StateStore
from schemas.channel import MARKETPLACE, ShopRef

log = logging.getLogger("lapak.locks")

DEFAULT_WAIT_S = 120.0
"""How long a run waits for a shop another run holds before giving up (``LockBusy``)."""
DEFAULT_LEASE_S = 90.0
"""A lease not renewed for this long is free: how long a crashed run keeps its shops."""
POLL_S = 0.5


def lock_name(shop: ShopRef | int) -> str:
    shop = ShopRef.of(shop)
    return f"shop:{shop.shop_id}" if shop.channel == MARKETPLACE else f"shop:{shop.channel}:{shop.shop_id}"


def lock_owner(what: str, run: str = "") -> str:
    """Who holds a lock, as the next run's message names it: the flow, its run (e.g. the Prefect
    flow run's name and id), the process."""
    return f"{what}{f' ({run})' if run else ''} pid {os.getpid()} on {socket.gethostname()}"


def _when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S UTC") if t else "?"


class LockBusy(RuntimeError):
    """A shop stayed locked by another run for longer than the wait; names the shop and the holder."""

    def __init__(self, shop_id: ShopRef | int, holder: dict | None, waited_s: float) -> None:
        self.shop_id = shop_id
        self.holder = holder or {}
        who = self.holder.get("owner", "another run")
        super().__init__(
            f"shop {shop_id} is busy: {who} has been writing to it since {_when(self.holder.get('acquired_at'))} "
            f"(lease until {_when(self.holder.get('expires_at'))}); waited {waited_s:.1f} s. Nothing was written "
            f"to the shop by this run; it will be done by the next one. / Toko {shop_id} sedang diproses oleh "
            "proses lain; coba lagi nanti.")


class ShopLocks:
    """Leases on a set of shops, taken together (ascending) and renewed until released.

    ``acquire()`` waits up to ``wait_s`` for each shop, then raises :class:`LockBusy` (having
    released what it took). A lease taken over while held (the run stalled for longer than
    ``lease_s``) is dropped from ``held`` and logged as an error.
    """

    def __init__(self, store: StateStore, shop_ids: Iterable[ShopRef | int], owner: str, *,
                 wait_s: float | None = None, lease_s: float | None = None, poll_s: float = POLL_S) -> None:
        # Defaults read now, not at import: a test harness may shorten them.
        lease_s = DEFAULT_LEASE_S if lease_s is None else lease_s
        if lease_s <= 0:
            raise ValueError("lease_s must be positive")
        self.store = store
        self.shop_ids = sorted({ShopRef.of(s) for s in shop_ids})  # one order for every run: no deadlock
        self.owner = owner
        self.wait_s = max(0.0, DEFAULT_WAIT_S if wait_s is None else wait_s)
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.token = uuid.uuid4().hex
        self.held: list[int] = []
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"ShopLocks(shops={[str(s) for s in self.shop_ids]}, owner={self.owner!r}, held={self.held})"

    def acquire(self) -> ShopLocks:
        start = time.monotonic()
        deadline = start + self.wait_s
        try:
            for shop in self.shop_ids:
                told = False
                name = lock_name(shop)
                while (holder := self.store.try_lock(name, self.token, self.owner, self.lease_s)) is not None:
                    if time.monotonic() >= deadline:
                        raise LockBusy(shop, holder, time.monotonic() - start)
                    if not told:
                        log.warning("shop %s is locked by %s; waiting up to %.0f s", shop, holder["owner"],
                                    max(0.0, deadline - time.monotonic()))
                        told = True
                    time.sleep(min(self.poll_s, max(0.0, deadline - time.monotonic())))
                self.held.append(shop)
        except BaseException:
            self.release()
            raise
        self._stop.clear()
        # The heartbeat runs in the run's context, so what it logs reaches the run's page.
        context = contextvars.copy_context()
        self._beat = threading.Thread(target=context.run, args=(self._heartbeat,), name=f"lapak-lock-{self.token[:8]}",
                                      daemon=True)
        self._beat.start()
        return self

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            for shop in list(self.held):
                try:
                    if not self.store.renew_lock(lock_name(shop), self.token, self.lease_s):
                        self.held.remove(shop)
                        log.error("shop %s: this run's lock was taken over (the run stalled for more than %.0f s)",
                                  shop, self.lease_s)
                except Exception as err:  # a database hiccup: try again on the next beat, before the lease ends
                    log.warning("shop %s: lock not renewed (%s); trying again", shop, type(err).__name__)

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None and self._beat is not threading.current_thread():
            self._beat.join(timeout=10)
        self._beat = None
        for shop in reversed(self.held):
            try:
                self.store.release_lock(lock_name(shop), self.token)
            except Exception as err:  # the lease runs out by itself
                log.warning("shop %s: lock not released (%s); it expires within %.0f s", shop,
                            type(err).__name__, self.lease_s)
        self.held = []

    def __enter__(self) -> ShopLocks:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def shop_locks(store: StateStore, shop_ids: Iterable[ShopRef | int], owner: str, wait_s: float | None = None, *,
               lease_s: float | None = None) -> ShopLocks:
    """A context manager holding every shop in ``shop_ids`` for one run (see :class:`ShopLocks`)."""
    return ShopLocks(store, shop_ids, owner, wait_s=wait_s, lease_s=lease_s)
