"""The state store (SQLAlchemy 2 + Alembic): groups, catalogue snapshots, listings, orders,
cursors and run summaries. SQLite by default, PostgreSQL by URL."""

from connectors.state.store import CANCELLED, FINISHED, StateStore

__all__ = ["CANCELLED", "FINISHED", "StateStore"]
