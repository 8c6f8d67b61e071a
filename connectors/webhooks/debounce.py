"""Per-shop debouncing: a burst of notifications for one shop becomes one :class:`Burst`.

The first notification for a shop opens a window of :data:`DEBOUNCE_SECONDS`; every notification
for that shop inside the window joins it; when it closes, the burst goes to the sink, from one
background thread (the receiver answers at once and never waits for it). A fixed window from
the first notification (not one that slides with every new one) bounds the delay a burst adds
to a pull: at most one window.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from connectors.webhooks.notifications import Notification

log = logging.getLogger("lapak.webhooks")

DEBOUNCE_SECONDS = 0.5
"""How long a shop's first notification waits for the rest of its burst before one pull is asked for.

Short: every second here is a second more before the stock is corrected, and folding a burst into
one pull does not rest on it. Prefect drops a shop's further events for the automation's window
(``NOTIFIED_WINDOW_S``, 5 s) after the one that started a pull, whose cut-off waits that window
out; this window only spares Prefect the events of notifications that come together (a retry, an
order's status changes)."""
ORDER_IDS_MAX = 50
"""The most order ids a burst carries (its count says how many notifications it held)."""


@dataclass
class Burst:
    """The notifications of one shop within one window."""

    channel: str
    shop_id: str
    notifications: int = 0
    order_ids: list[str] = field(default_factory=list)
    first_received: datetime | None = None
    last_received: datetime | None = None

    def add(self, n: Notification) -> None:
        self.notifications += 1
        if n.order_id and n.order_id not in self.order_ids and len(self.order_ids) < ORDER_IDS_MAX:
            self.order_ids.append(n.order_id)
        self.first_received = min(self.first_received or n.received_at, n.received_at)
        self.last_received = max(self.last_received or n.received_at, n.received_at)


Sink = Callable[[Burst], None]


class Debouncer:
    """Collects notifications per shop and hands each closed window's :class:`Burst` to ``sink``.

    The sink runs on this object's thread, in the context (``contextvars``) of whoever created it;
    a sink that raises is logged and the next bursts still go."""

    def __init__(self, sink: Sink, window: float = DEBOUNCE_SECONDS) -> None:
        self.sink, self.window = sink, window
        self._open: dict[tuple[str, str], tuple[float, Burst]] = {}
        self._cond = threading.Condition()
        self._closed = False
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._run,), name="lapak-webhooks-debounce",
                                        daemon=True)
        self._thread.start()

    def add(self, n: Notification) -> None:
        """Let ``n`` join its shop's open burst, or open one."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the debouncer is closed")
            key = (n.channel, n.shop_id)
            if key not in self._open:
                self._open[key] = (time.monotonic() + self.window, Burst(n.channel, n.shop_id))
                self._cond.notify()
            self._open[key][1].add(n)

    def _due(self) -> tuple[list[Burst], float | None]:
        """The bursts whose window has closed, and how long until the next one closes."""
        now = time.monotonic()
        due = [k for k, (deadline, _) in self._open.items() if deadline <= now or self._closed]
        bursts = [self._open.pop(k)[1] for k in due]
        wait = min((d for d, _ in self._open.values()), default=None)
        return bursts, None if wait is None else max(0.0, wait - now)

    def _run(self) -> None:
        while True:
            with self._cond:
                bursts, wait = self._due()
                if not bursts:
                    if self._closed:
                        return
                    self._cond.wait(wait)
                    continue
            for burst in bursts:
                try:
                    self.sink(burst)
                except Exception:
                    log.exception("could not hand on %s shop %s's burst of %d notifications",
                                  burst.channel, burst.shop_id, burst.notifications)

    def close(self, timeout: float = 5.0) -> None:
        """Hand on every open burst now (not waiting for its window), then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout)
