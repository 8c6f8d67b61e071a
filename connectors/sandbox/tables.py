"""The sandbox's SQLite schema (SQLAlchemy Core tables) and the constants its state obeys."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
    select,
)

CANCEL_CODES = frozenset({0, 3, 5, 6, 10, 15})
PAID = 220
ORDER_STATUSES = frozenset(
    {0, 3, 5, 6, 10, 15, 220, 221, 400, 450, 500, 501, 520, 530, 540, 550, 600, 601, 690, 700}
)
# Distinct id ranges, so a product id passed where an order id belongs finds nothing.
FIRST_PRODUCT_ID = 2_000_001
FIRST_ORDER_ID = 800_000_001
WIB = timezone(timedelta(hours=7))  # invoice dates are Jakarta dates

metadata = MetaData()

products = Table(
    "products", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("shop_id", Integer, nullable=False),
    Column("sku", String, nullable=False),
    Column("name", String, nullable=False),
    Column("name_key", String, nullable=False),  # casefolded: names are unique case-insensitively
    Column("category_id", Integer, nullable=False),
    Column("price", Integer, nullable=False),
    Column("price_currency", String, nullable=False),
    Column("stock", Integer, nullable=False),
    Column("min_order", Integer, nullable=False),
    Column("weight", Float, nullable=False),
    Column("weight_unit", String, nullable=False),
    Column("condition", String, nullable=False),
    Column("description", String, nullable=False),
    Column("pictures", JSON, nullable=False),
    Column("status", String, nullable=False),
    Column("has_order", Boolean, nullable=False),
    Column("create_time", Integer, nullable=False),
    Column("update_time", Integer, nullable=False),
    Index("ux_products_shop_sku", "shop_id", "sku", unique=True),
    Index("ux_products_shop_name", "shop_id", "name_key", unique=True),
    Index("ix_products_shop_id", "shop_id", "id"),  # a shop's pages, without sorting the shop on every page
)

orders = Table(
    "orders", metadata,
    Column("order_id", Integer, primary_key=True, autoincrement=False),
    Column("shop_id", Integer, nullable=False),
    Column("invoice_ref_num", String, nullable=False),
    Column("order_status", Integer, nullable=False),
    Column("create_time", Integer, nullable=False),
    Column("update_time", Integer, nullable=False),
    Column("buyer", JSON, nullable=False),
    Column("recipient", JSON, nullable=False),
    Column("shipping_cost", Integer, nullable=False),
    Index("ix_orders_shop_time", "shop_id", "create_time", "order_id"),
)

order_items = Table(
    "order_items", metadata,
    Column("order_id", Integer, ForeignKey("orders.order_id"), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("product_id", Integer, nullable=False),
    Column("sku", String, nullable=False),
    Column("name", String, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("price", Integer, nullable=False),
)

tokens = Table(
    "tokens", metadata,
    Column("token_hash", String, primary_key=True),
    Column("client_id", String, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("revoked", Boolean, nullable=False),
)

counters = Table(
    "counters", metadata,
    Column("path", String, primary_key=True),
    Column("calls", Integer, nullable=False),
    Column("items", Integer, nullable=False),
    Column("http_429", Integer, nullable=False),
    Column("row_429", Integer, nullable=False),
    Column("faults", Integer, nullable=False),
)

# Uploaded pictures, one row per distinct content (section 5 is content-addressed). Created by
# ``create_all`` like every table, so a data folder from before uploads existed gains it on open.
pictures = Table(
    "pictures", metadata,
    Column("sha256", String, primary_key=True),
    Column("file_path", String, nullable=False),
    Column("format", String, nullable=False),  # "JPEG" or "PNG"
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("shop_id", Integer, nullable=False),  # the shop that first uploaded it
    Column("uploaded_at", Float, nullable=False),  # first upload, UNIX seconds
    Column("last_uploaded_at", Float, nullable=False),
    Column("uploads", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index("ix_pictures_last", "last_uploaded_at"),
)

fault_counts = Table(
    "fault_counts", metadata,
    Column("kind", String, primary_key=True),
    Column("fired", Integer, nullable=False),
)

COUNTER_FIELDS = ("calls", "items", "http_429", "row_429", "faults")


def first_free_id(c: Connection, col: Any, first: int) -> int:
    """The next id of ``col``'s table: one past its largest, and at least ``first``."""
    return max(c.execute(select(func.max(col))).scalar() or 0, first - 1) + 1
