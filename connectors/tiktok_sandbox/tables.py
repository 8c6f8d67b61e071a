"""The TikTok sandbox's SQLite schema (SQLAlchemy Core). Rows keep their queryable columns as
columns and the rest of the contract's shape in a JSON ``doc``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
)

FIRST_PRODUCT_ID = 1_729_400_000_000_000_001
FIRST_SKU_ID = 1_729_500_000_000_000_001
FIRST_ORDER_ID = 577_000_000_000_000_001

metadata = MetaData()

products = Table(
    "products", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("shop_id", String, nullable=False, index=True),
    Column("seller_sku", String, nullable=False),
    Column("sku_id", BigInteger, nullable=False, unique=True),
    Column("status", String, nullable=False),
    Column("create_time", Integer, nullable=False),
    Column("update_time", Integer, nullable=False),
    Column("doc", JSON, nullable=False),
    UniqueConstraint("shop_id", "seller_sku"),
)

images = Table(
    "images", metadata,
    Column("uri", String, primary_key=True),
    Column("shop_id", String, nullable=False),
    Column("sha256", String, nullable=False),
    Column("format", String, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("use_case", String, nullable=False),
    Column("created", Integer, nullable=False),
)

orders = Table(
    "orders", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("shop_id", String, nullable=False, index=True),
    Column("status", String, nullable=False),
    Column("create_time", Integer, nullable=False),
    Column("update_time", Integer, nullable=False),
    Column("doc", JSON, nullable=False),
)

tokens = Table(
    "tokens", metadata,
    Column("token_hash", String, primary_key=True),
    Column("kind", String, nullable=False),  # "access" | "refresh"
    Column("shop_id", String, nullable=False, index=True),
    Column("expires_at", Float, nullable=False),
)

idempotency = Table(
    "idempotency", metadata,
    Column("shop_id", String, primary_key=True),
    Column("key", String, primary_key=True),
    Column("created", Integer, nullable=False),
    Column("result", JSON, nullable=False),
)

kv = Table(
    "kv", metadata,
    Column("key", String, primary_key=True),
    Column("value", JSON),
)


def next_id(c: Connection, col: Column, first: int) -> int:
    """One past the largest id in ``col`` (``first`` in an empty table)."""
    top = c.execute(select(func.max(col))).scalar()
    return first if top is None else int(top) + 1
