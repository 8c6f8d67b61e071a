"""Leases on named resources (``shop:<id>``), atomic on SQLite and PostgreSQL alike (see flows/engine/locks.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from connectors.state.models import Lock, utcnow


class Leases:
    """The ``locks`` table."""

    def try_lock(self, name: str, token: str, owner: str, lease_s: float) -> dict | None:
        """Take lock ``name`` for ``token`` when it is free or its lease has run out (one atomic
        upsert on SQLite and PostgreSQL alike). ``None`` when taken; else who holds it
        (``owner``, ``acquired_at``, ``expires_at``)."""
        now = utcnow()
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(Lock).values(name=name, token=token, owner=owner[:200], acquired_at=now,
                                           expires_at=now + timedelta(seconds=lease_s))
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"], where=Lock.__table__.c.expires_at < now,
            set_={c: stmt.excluded[c] for c in ("token", "owner", "acquired_at", "expires_at")})
        with self.session() as s:
            s.execute(stmt)
            held = s.execute(select(Lock.token, Lock.owner, Lock.acquired_at, Lock.expires_at)
                             .where(Lock.name == name)).one()
        if held.token == token:
            return None
        return {"owner": held.owner, "acquired_at": held.acquired_at, "expires_at": held.expires_at}

    def renew_lock(self, name: str, token: str, lease_s: float) -> bool:
        """Extend the lease of a lock this ``token`` holds; ``False`` when it no longer does."""
        with self.session() as s:
            res = s.execute(update(Lock).where(Lock.name == name, Lock.token == token)
                            .values(expires_at=utcnow() + timedelta(seconds=lease_s)))
            return res.rowcount == 1

    def release_lock(self, name: str, token: str) -> None:
        """Free a lock this ``token`` holds (a lock taken over by another run is left alone)."""
        with self.session() as s:
            s.execute(delete(Lock).where(Lock.name == name, Lock.token == token))

    def lock_holder(self, name: str) -> dict | None:
        """Who holds lock ``name`` (``owner``, ``acquired_at``, ``expires_at``), expired or not; ``None`` if free."""
        with self.session() as s:
            row = s.execute(select(Lock.owner, Lock.acquired_at, Lock.expires_at).where(Lock.name == name)).first()
        return dict(row._mapping) if row else None
