"""Which group was told of which paid order (new-order messages, :mod:`flows.engine.notices`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from connectors.state.models import Notice, utcnow


class Notices:
    """The ``notices`` table: one row per order and group told, ever."""

    def told(self, group_id: str, channel: str, order_ids: Iterable[int]) -> set[int]:
        """The orders among ``order_ids`` (of ``channel``) ``group_id`` was already told of."""
        ids = list(dict.fromkeys(int(i) for i in order_ids))
        out: set[int] = set()
        with self.session() as s:
            for i in range(0, len(ids), 500):  # far below any driver's bound-parameter limit
                q = select(Notice.order_id).where(Notice.group_id == group_id, Notice.channel == channel,
                                                  Notice.order_id.in_(ids[i:i + 500]))
                out.update(s.scalars(q))
        return out

    def record_told(self, group_id: str, orders: Iterable[tuple[str, int]], sent_at: datetime | None = None) -> None:
        """Record ``group_id`` as told of ``orders`` (``(channel, order_id)``); one told already stays as it was."""
        when = sent_at or utcnow()
        rows = [dict(channel=ch, order_id=int(oid), group_id=group_id, sent_at=when)
                for ch, oid in dict.fromkeys(orders)]
        if not rows:
            return
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(Notice).values(rows).on_conflict_do_nothing(
            index_elements=["channel", "order_id", "group_id"])
        with self.session() as s:
            s.execute(stmt)

    def notices(self, group_id: str | None = None) -> list[tuple[str, int, str, datetime]]:
        """``(channel, order_id, group_id, sent_at)`` of every order told (to ``group_id``), oldest first."""
        q = select(Notice.channel, Notice.order_id, Notice.group_id, Notice.sent_at)
        if group_id is not None:
            q = q.where(Notice.group_id == group_id)
        with self.session() as s:
            return [tuple(r) for r in s.execute(q.order_by(Notice.sent_at, Notice.channel, Notice.order_id))]
