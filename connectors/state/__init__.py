"""The state store (SQLAlchemy 2 + Alembic): groups, catalogue snapshots, listings, orders,
cursors, leases and run summaries. SQLite by default, PostgreSQL by URL."""

from connectors.state.store import StateStore

__all__ = ["StateStore"]
