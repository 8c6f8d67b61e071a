"""The state store: what the pipeline knows about groups, catalogues, listings, orders and runs.

SQLite by default, PostgreSQL by URL; the schema is brought to the latest Alembic revision
when the store opens. Writes are small transactions so a crash loses at most the row being
confirmed (and a re-run converges: every marketplace write the pipeline makes is safe to
repeat or is looked up before it is repeated).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, make_url, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from connectors.files import private_sqlite
from connectors.state.leases import Leases
from connectors.state.listings import Listings
from connectors.state.models import Base, Cursor, Group, Run, Snapshot, utcnow
from connectors.state.notices import Notices
from connectors.state.orders import Orders
from connectors.state.uploads import Uploads

log = logging.getLogger("lapak.state")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (the driver the project installs)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL and in-memory SQLite."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:") \
            or parsed.query.get("mode") == "memory":
        return None
    return Path(database)


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class StateStore(Listings, Orders, Leases, Uploads, Notices):
    """Typed access to the state database. Thread-safe: one instance serves a whole run."""

    def __init__(self, url: str, *, migrate_schema: bool = True):
        url = normalise_url(url)
        if (db_file := sqlite_file(url)) is not None:
            # Buyers' names, phones and addresses: the owner's only. Made 0600 (its missing
            # folders 0700) before SQLite opens it, so its -wal and -shm files are 0600 too.
            private_sqlite(db_file)
        self.engine = create_engine(url, future=True, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        if migrate_schema:
            migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:  # never the password of a PostgreSQL URL
        return f"StateStore({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as s:
            yield s

    def close(self) -> None:
        self.engine.dispose()

    # ---- upserts that work on SQLite and PostgreSQL -------------------------------------------

    def _upsert(self, s: Session, model: type[Base], rows: list[dict], keys: list[str]) -> None:
        if not rows:
            return
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        names = list(rows[0])
        if any(list(r) != names for r in rows):  # rows naming different columns: one statement of them all
            stmt = dialect.insert(model).values(rows)
            cols = {c for r in rows for c in r} - set(keys)
            s.execute(stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in cols}))
            return
        # Rows alike: one statement, compiled once (and cached), sent with the rows as its
        # parameters — not thousands of parameters rendered into one statement each time.
        stmt = dialect.insert(model.__table__)
        s.execute(stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in names
                                                                        if c not in keys}), rows)

    # ---- groups and snapshots -----------------------------------------------------------------

    def upsert_groups(self, groups: Iterable[Any]) -> None:
        rows = [dict(id=g.id, name=g.name, village=g.village, regency=g.regency, shop_id=g.shop_id,
                     updated_at=utcnow()) for g in groups]
        with self.session() as s:
            self._upsert(s, Group, rows, ["id"])

    def last_snapshot(self, group_id: str, *, accepted_only: bool = True) -> Snapshot | None:
        with self.session() as s:
            q = select(Snapshot).where(Snapshot.group_id == group_id)
            if accepted_only:
                q = q.where(Snapshot.accepted.is_(True))
            return s.scalars(q.order_by(Snapshot.id.desc()).limit(1)).first()

    def last_snapshots(self, group_ids: Iterable[str]) -> dict[str, tuple[Snapshot | None, Snapshot | None]]:
        """Per group: its last snapshot (of any acceptance) and its last accepted one, for many groups
        in a few queries (a shop's groups at once)."""
        ids = list(dict.fromkeys(group_ids))
        out: dict[str, list[Snapshot | None]] = {gid: [None, None] for gid in ids}
        with self.session() as s:
            for i in range(0, len(ids), 500):
                for accepted_only in (False, True):
                    last = select(func.max(Snapshot.id)).where(Snapshot.group_id.in_(ids[i:i + 500]))
                    if accepted_only:
                        last = last.where(Snapshot.accepted.is_(True))
                    for snap in s.scalars(select(Snapshot).where(Snapshot.id.in_(last.group_by(Snapshot.group_id)))):
                        out[snap.group_id][accepted_only] = snap
        return {gid: (any_, accepted) for gid, (any_, accepted) in out.items()}

    def add_snapshot(self, **fields: Any) -> Snapshot:
        with self.session() as s:
            snap = Snapshot(**fields)
            s.add(snap)
            s.flush()
            return snap

    def accept_snapshot(self, snapshot_id: int) -> None:
        with self.session() as s:
            s.execute(update(Snapshot).where(Snapshot.id == snapshot_id).values(accepted=True))

    # ---- cursors and runs ---------------------------------------------------------------------

    def cursor(self, name: str) -> int | None:
        with self.session() as s:
            c = s.get(Cursor, name)
            return c.value if c else None

    def set_cursor(self, name: str, value: int) -> None:
        with self.session() as s:
            self._upsert(s, Cursor, [dict(name=name, value=int(value), updated_at=utcnow())], ["name"])

    def start_run(self, flow: str) -> int:
        with self.session() as s:
            run = Run(flow=flow, started_at=utcnow(), status="RUNNING", summary={})
            s.add(run)
            s.flush()
            return run.id

    def finish_run(self, run_id: int, status: str, summary: dict) -> None:
        with self.session() as s:
            s.execute(update(Run).where(Run.id == run_id).values(status=status, summary=summary,
                                                                 finished_at=datetime.now(UTC)))

    def runs(self, flow: str | None = None) -> list[Run]:
        with self.session() as s:
            q = select(Run)
            if flow:
                q = q.where(Run.flow == flow)
            return list(s.scalars(q.order_by(Run.id)))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
