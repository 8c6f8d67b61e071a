"""Which order notifications the receiver has seen (``webhook_events``): dedupe across restarts."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from connectors.state.models import WebhookEvent, utcnow
from connectors.state.store import StateStore

KEEP = timedelta(days=3)
"""How long a seen id is kept: beyond the first channel's 24 hours of retries, with room to spare."""


class WebhookEvents:
    """The ``webhook_events`` table of one state store; thread-safe as the store is."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        # SQLite takes one writer at a time and makes the others sleep and retry: queueing them on a
        # lock here instead hands the write lock on at once (several times the throughput under load).
        self._writer = threading.Lock() if store.engine.dialect.name == "sqlite" else contextlib.nullcontext()

    def first_seen(self, channel: str, event_id: str, shop_id: str, received_at: datetime | None = None) -> bool:
        """Record the event; True when it is new, False when ``(channel, event_id)`` was seen before."""
        dialect = postgresql if self.store.engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(WebhookEvent).values(channel=channel, event_id=event_id, shop_id=str(shop_id),
                                                   received_at=received_at or utcnow())
        stmt = stmt.on_conflict_do_nothing(index_elements=["channel", "event_id"]).returning(WebhookEvent.event_id)
        with self._writer, self.store.session() as s:  # RETURNING, not rowcount: psycopg reports -1 here
            return s.execute(stmt).first() is not None

    def prune(self, keep: timedelta = KEEP, now: datetime | None = None) -> int:
        """Forget the events received more than ``keep`` ago; returns how many."""
        cutoff = (now or utcnow()) - keep
        with self.store.session() as s:
            return s.execute(delete(WebhookEvent).where(WebhookEvent.received_at < cutoff)).rowcount

    def seen(self, channel: str | None = None) -> list[tuple[str, str, str, datetime]]:
        """``(channel, event_id, shop_id, received_at)`` of every event kept, oldest first."""
        q = select(WebhookEvent.channel, WebhookEvent.event_id, WebhookEvent.shop_id, WebhookEvent.received_at)
        if channel is not None:
            q = q.where(WebhookEvent.channel == channel)
        with self.store.session() as s:
            return [tuple(r) for r in s.execute(q.order_by(WebhookEvent.received_at, WebhookEvent.event_id))]
