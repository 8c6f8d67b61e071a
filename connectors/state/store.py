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
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from connectors.state.models import (
    STOCK_UNKNOWN,
    Base,
    Cursor,
    Group,
    Listing,
    Lock,
    Order,
    OrderItem,
    Run,
    Snapshot,
    utcnow,
)

log = logging.getLogger("lapak.state")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Statuses that give an order's units back to stock (../shared/marketplace-api.md, section 4).
CANCELLED = frozenset({0, 3, 5, 6, 10, 15})
# Statuses after which an order no longer changes.
FINISHED = frozenset({700}) | CANCELLED


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (the driver the project installs)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class StateStore:
    """Typed access to the state database. One instance per process; thread-safe sessions."""

    def __init__(self, url: str, *, migrate_schema: bool = True):
        url = normalise_url(url)
        if url.startswith("sqlite:///") and ":memory:" not in url:
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
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
        stmt = dialect.insert(model).values(rows)
        cols = {c for r in rows for c in r} - set(keys)
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in cols})
        s.execute(stmt)

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

    def add_snapshot(self, **fields: Any) -> Snapshot:
        with self.session() as s:
            snap = Snapshot(**fields)
            s.add(snap)
            s.flush()
            return snap

    def accept_snapshot(self, snapshot_id: int) -> None:
        with self.session() as s:
            s.execute(update(Snapshot).where(Snapshot.id == snapshot_id).values(accepted=True))

    # ---- listings -----------------------------------------------------------------------------

    def listings(self, *, shop_id: int | None = None, group_id: str | None = None) -> list[Listing]:
        with self.session() as s:
            q = select(Listing)
            if shop_id is not None:
                q = q.where(Listing.shop_id == shop_id)
            if group_id is not None:
                q = q.where(Listing.group_id == group_id)
            return list(s.scalars(q.order_by(Listing.shop_id, Listing.sku)))

    def listing_rows(self, shop_id: int) -> list[dict]:
        """A shop's listings as plain dicts (no ORM objects: a shop may hold thousands)."""
        with self.session() as s:
            q = select(*Listing.__table__.columns).where(Listing.shop_id == shop_id).order_by(Listing.sku)
            return [dict(r) for r in s.execute(q).mappings()]

    def save_listings(self, rows: list[dict]) -> None:
        """Insert or replace whole listing rows (every column; ``shop_id`` + ``sku`` is the key)."""
        now = utcnow()
        with self.session() as s:
            for i in range(0, len(rows), 500):
                self._upsert(s, Listing, [dict(r, updated_at=now) for r in rows[i:i + 500]], ["shop_id", "sku"])

    def update_listings(self, rows: list[dict]) -> None:
        """Record what the marketplace confirmed for existing listings: each dict has
        ``shop_id``, ``sku`` and only the confirmed fields (a bulk UPDATE by primary key)."""
        if not rows:
            return
        now = utcnow()
        with self.session() as s:
            s.execute(update(Listing), [dict(r, updated_at=now) for r in rows])

    # ---- orders -------------------------------------------------------------------------------

    def upsert_orders(self, orders: list[dict], items: list[dict]) -> tuple[int, int]:
        """Store orders by ``order_id`` (items replaced with the order). Returns (new, changed).

        An order stored as live that is now cancelled gave its units back on the marketplace by
        itself: its listings' ``stock`` becomes ``STOCK_UNKNOWN`` in the same transaction, so the
        next stock correction reads the marketplace's figure again (also after a crash)."""
        if not orders:
            return 0, 0
        ids = [o["order_id"] for o in orders]
        with self.session() as s:
            rows = s.execute(select(Order.order_id, Order.update_time, Order.status, Order.updated_at)
                             .where(Order.order_id.in_(ids))).all()
            known = {r.order_id: r for r in rows}
            new = sum(1 for o in orders if o["order_id"] not in known)
            changed = sum(1 for o in orders if o["order_id"] in known and known[o["order_id"]].update_time != o["update_time"])
            gave_back = {o["order_id"]: o["shop_id"] for o in orders if o["order_id"] in known
                         and known[o["order_id"]].status not in CANCELLED and o["status"] in CANCELLED}
            now = utcnow()
            for o in orders:
                # ``updated_at`` is when the stored order last changed, not when it was last read again.
                k = known.get(o["order_id"])
                same = k is not None and (k.status, k.update_time) == (o["status"], o["update_time"])
                o.setdefault("updated_at", k.updated_at if same else now)
            self._upsert(s, Order, orders, ["order_id"])
            s.query(OrderItem).filter(OrderItem.order_id.in_(ids)).delete(synchronize_session=False)
            if items:
                s.execute(OrderItem.__table__.insert(), items)
            # A product with an order keeps its name (the marketplace refuses a rename).
            skus = {(o["shop_id"], i["sku"]) for o in orders for i in items if i["order_id"] == o["order_id"]}
            for shop_id, sku in skus:
                s.execute(update(Listing).where(Listing.shop_id == shop_id, Listing.sku == sku).values(has_orders=True))
            for shop_id, sku in {(gave_back[i["order_id"]], i["sku"]) for i in items if i["order_id"] in gave_back}:
                s.execute(update(Listing).where(Listing.shop_id == shop_id, Listing.sku == sku)
                          .values(stock=STOCK_UNKNOWN))
        return new, changed

    def order_states(self, order_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """``(status, update_time)`` of the stored orders among ``order_ids`` (unknown ids are absent)."""
        ids = list(dict.fromkeys(int(i) for i in order_ids))
        out: dict[int, tuple[int, int]] = {}
        with self.session() as s:
            for i in range(0, len(ids), 500):  # stay far below any driver's bound-parameter limit
                q = select(Order.order_id, Order.status, Order.update_time).where(Order.order_id.in_(ids[i:i + 500]))
                out.update({oid: (status, updated) for oid, status, updated in s.execute(q)})
        return out

    def open_order_ids(self, shop_id: int) -> list[int]:
        """Orders that can still change status (not finished, not cancelled)."""
        with self.session() as s:
            q = select(Order.order_id).where(Order.shop_id == shop_id, Order.status.not_in(FINISHED))
            return list(s.scalars(q))

    def units_sold(self, shop_id: int, since: dict[str, int]) -> dict[str, int]:
        """Units in non-cancelled orders per SKU, counting orders created at or after ``since[sku]`` (UNIX s).

        An order's ``create_time`` has whole seconds: one created in the same second as the count
        may have come after it, so it counts as sold (the stock pushed errs low, never high)."""
        if not since:
            return {}
        with self.session() as s:
            q = (select(OrderItem.sku, Order.create_time, func.sum(OrderItem.quantity))
                 .join(Order, Order.order_id == OrderItem.order_id)
                 .where(Order.shop_id == shop_id, Order.status.not_in(CANCELLED), OrderItem.sku.in_(list(since)))
                 .group_by(OrderItem.sku, Order.create_time))
            sold: dict[str, int] = {}
            for sku, created, qty in s.execute(q):
                if created >= since[sku]:
                    sold[sku] = sold.get(sku, 0) + int(qty)
            return sold

    def orders_for(self, shop_id: int | None = None, created_from: int | None = None,
                   created_to: int | None = None) -> list[tuple[Order, list[OrderItem]]]:
        with self.session() as s:
            q = select(Order)
            if shop_id is not None:
                q = q.where(Order.shop_id == shop_id)
            if created_from is not None:
                q = q.where(Order.create_time >= created_from)
            if created_to is not None:
                q = q.where(Order.create_time < created_to)
            orders = list(s.scalars(q.order_by(Order.create_time, Order.order_id)))
            items: dict[int, list[OrderItem]] = {}
            if orders:
                for it in s.scalars(select(OrderItem).where(OrderItem.order_id.in_([o.order_id for o in orders]))
                                    .order_by(OrderItem.order_id, OrderItem.line)):
                    items.setdefault(it.order_id, []).append(it)
            return [(o, items.get(o.order_id, [])) for o in orders]

    def order_times_changed_since(self, since: datetime) -> list[tuple[int, int]]:
        """``(shop_id, create_time)`` of every order stored or changed at or after ``since``
        (e.g. to find the order-sheet months a crashed run left unwritten)."""
        with self.session() as s:
            q = select(Order.shop_id, Order.create_time).where(Order.updated_at >= since)
            return [(int(shop), int(t)) for shop, t in s.execute(q)]

    def count_orders(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(Order)) or 0)

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
                                                                 finished_at=datetime.now(timezone.utc)))

    # ---- locks (leases; see flows/locks.py) ---------------------------------------------------

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
