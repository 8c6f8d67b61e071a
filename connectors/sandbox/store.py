"""The sandbox's state in SQLite (SQLAlchemy Core): products, orders, pictures, tokens, counters.

Each public method is one transaction, so a call that is answered 500 after applying
("error_5xx_after") really did apply. Only hashes of access tokens are stored.

:class:`Store` is one class over several modules: the schema in :mod:`~connectors.sandbox.tables`,
products in :mod:`~connectors.sandbox.store_products`, orders in
:mod:`~connectors.sandbox.store_orders`, uploaded pictures in
:mod:`~connectors.sandbox.store_pictures`; tokens and counters are here. The names those modules
define are importable from here too.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from connectors.files import private_file
from connectors.sandbox.store_orders import OrderError, OrderStore
from connectors.sandbox.store_pictures import PictureStore
from connectors.sandbox.store_products import ProductStore, product_info
from connectors.sandbox.tables import (
    CANCEL_CODES,
    COUNTER_FIELDS,
    FIRST_ORDER_ID,
    FIRST_PRODUCT_ID,
    ORDER_STATUSES,
    PAID,
    WIB,
    counters,
    fault_counts,
    metadata,
    order_items,
    orders,
    pictures,
    products,
    tokens,
)

__all__ = [
    "CANCEL_CODES",
    "COUNTER_FIELDS",
    "FIRST_ORDER_ID",
    "FIRST_PRODUCT_ID",
    "ORDER_STATUSES",
    "PAID",
    "WIB",
    "OrderError",
    "Store",
    "counters",
    "fault_counts",
    "metadata",
    "order_items",
    "orders",
    "pictures",
    "product_info",
    "products",
    "tokens",
]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Store(ProductStore, OrderStore, PictureStore):
    """The sandbox state in one SQLite file under the data dir."""

    def __init__(self, db_path: Path) -> None:
        private_file(db_path)  # buyers' names and addresses: the owner's only
        self.engine = create_engine(f"sqlite:///{db_path}")

        @event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL + NORMAL: commits survive a process crash, without an fsync per request.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        metadata.create_all(self.engine)  # creates only the missing tables: older data folders open
        for index in products.indexes:  # and an index added since, on an older data folder's table
            index.create(self.engine, checkfirst=True)

    def close(self) -> None:
        self.engine.dispose()

    # --- tokens -----------------------------------------------------------------------------

    def issue_token(self, client_id: str, ttl: int) -> str:
        """A fresh bearer token valid ``ttl`` seconds; only its hash is kept."""
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as c:
            c.execute(tokens.insert().values(
                token_hash=_hash(token), client_id=client_id, expires_at=time.time() + ttl, revoked=False))
        return token

    def token_state(self, token: str) -> str:
        """``"ok"``, ``"expired"`` (past its time or revoked) or ``"invalid"``."""
        with self.engine.connect() as c:
            row = c.execute(select(tokens).where(tokens.c.token_hash == _hash(token))).first()
        if row is None:
            return "invalid"
        return "expired" if row.revoked or row.expires_at <= time.time() else "ok"

    def revoke_token(self, token: str) -> None:
        with self.engine.begin() as c:
            c.execute(update(tokens).where(tokens.c.token_hash == _hash(token)).values(revoked=True))

    # --- counters ---------------------------------------------------------------------------

    def bump(self, path: str, **counts: int) -> None:
        """Add to one path's counters (``calls``, ``items``, ``http_429``, ``row_429``, ``faults``)."""
        values = {f: counts.get(f, 0) for f in COUNTER_FIELDS}
        stmt = sqlite_insert(counters).values(path=path, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["path"], set_={f: counters.c[f] + stmt.excluded[f] for f in COUNTER_FIELDS})
        with self.engine.begin() as c:
            c.execute(stmt)

    def fault_fired(self, kind: str) -> None:
        stmt = sqlite_insert(fault_counts).values(kind=kind, fired=1)
        with self.engine.begin() as c:
            c.execute(stmt.on_conflict_do_update(index_elements=["kind"],
                                                 set_={"fired": fault_counts.c.fired + 1}))

    def stats(self) -> dict[str, Any]:
        """Counters per path, their totals, and faults fired by kind."""
        with self.engine.connect() as c:
            paths = {r["path"]: {f: r[f] for f in COUNTER_FIELDS}
                     for r in c.execute(select(counters).order_by(counters.c.path)).mappings()}
            fired = dict(c.execute(select(fault_counts.c.kind, fault_counts.c.fired)).tuples().all())
        totals = {f: sum(p[f] for p in paths.values()) for f in COUNTER_FIELDS}
        return {"paths": paths, "totals": totals, "faults_fired": fired}

    def reset_stats(self) -> None:
        with self.engine.begin() as c:
            c.execute(counters.delete())
            c.execute(fault_counts.delete())

