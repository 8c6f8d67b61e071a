"""The state store's tables (SQLAlchemy 2). The schema is under Alembic migrations
(``connectors/state/migrations``): change a model, add a migration."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in and out (SQLite would hand back naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the state store; use UTC-aware datetimes")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class Group(Base):
    """A village group as last configured."""

    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    village: Mapped[str] = mapped_column(String(200), default="")
    regency: Mapped[str] = mapped_column(String(200), default="")
    shop_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Snapshot(Base):
    """One reading of a group's catalogue: when it was recorded and what it held."""

    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)  # stock was counted then
    content_hash: Mapped[str] = mapped_column(String(64))
    rows_in: Mapped[int] = mapped_column(Integer)
    listings: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[bool] = mapped_column(Boolean, default=True)  # False: held by the shrink guard
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


CHANNEL_DEFAULT = "marketplace"


class Listing(Base):
    """A product on a channel as the pipeline last confirmed it (one per channel, shop and SKU)."""

    __tablename__ = "listings"

    channel: Mapped[str] = mapped_column(String(30), primary_key=True, default=CHANNEL_DEFAULT)
    shop_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sku: Mapped[str] = mapped_column(String(50), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    name: Mapped[str] = mapped_column(String(255))
    category_id: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    # The stock last pushed and confirmed; schemas.stock.STOCK_UNKNOWN (-1) once a cancel made the marketplace
    # give units back by itself, until the next correction reads its figure again.
    stock: Mapped[int] = mapped_column(Integer)
    recorded_stock: Mapped[int] = mapped_column(Integer)  # what the catalogue said
    min_order: Mapped[int] = mapped_column(Integer, default=1)
    weight_g: Mapped[float] = mapped_column(Float)
    condition: Mapped[str] = mapped_column(String(8), default="NEW")
    description: Mapped[str] = mapped_column(Text, default="")
    pictures: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(8), default="ACTIVE")  # ACTIVE | INACTIVE
    in_catalogue: Mapped[bool] = mapped_column(Boolean, default=True)
    has_orders: Mapped[bool] = mapped_column(Boolean, default=False)  # name is frozen from then on
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Order(Base):
    """An order as last pulled (upserted by ``channel`` and ``order_id``).

    Its buyer's and recipient's details are emptied ``[orders] keep_buyer_details_days`` after it
    is final (:mod:`connectors.state.retention`); ``buyer_details_removed_at`` says when."""

    __tablename__ = "orders"
    # The retention purge reads only orders whose details are still held: a partial index keeps
    # it small (the orders of the last months and the open ones), on SQLite and PostgreSQL alike.
    __table_args__ = (Index("ix_orders_buyer_retention", "channel", "status", "update_time",
                            sqlite_where=text("buyer_details_removed_at IS NULL"),
                            postgresql_where=text("buyer_details_removed_at IS NULL")),)

    channel: Mapped[str] = mapped_column(String(30), primary_key=True, default=CHANNEL_DEFAULT)
    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    shop_id: Mapped[int] = mapped_column(BigInteger, index=True)
    invoice_ref_num: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[int] = mapped_column(Integer)
    create_time: Mapped[int] = mapped_column(BigInteger, index=True)  # UNIX seconds
    update_time: Mapped[int] = mapped_column(BigInteger)
    buyer_name: Mapped[str] = mapped_column(String(200), default="")
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    recipient_phone: Mapped[str] = mapped_column(String(50), default="")
    recipient_address: Mapped[str] = mapped_column(Text, default="")  # the street address as written
    recipient_district: Mapped[str] = mapped_column(String(200), default="", server_default="")
    recipient_city: Mapped[str] = mapped_column(String(200), default="", server_default="")
    recipient_province: Mapped[str] = mapped_column(String(200), default="", server_default="")
    recipient_postal_code: Mapped[str] = mapped_column(String(20), default="", server_default="")
    shipping_cost: Mapped[int] = mapped_column(BigInteger, default=0)
    total_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    buyer_details_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderItem(Base):
    """One line of an order."""

    __tablename__ = "order_items"
    __table_args__ = (ForeignKeyConstraint(["channel", "order_id"], ["orders.channel", "orders.order_id"],
                                           name="fk_order_items_order"),)

    channel: Mapped[str] = mapped_column(String(30), primary_key=True, default=CHANNEL_DEFAULT)
    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sku: Mapped[str] = mapped_column(String(50), default="", index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[int] = mapped_column(BigInteger)
    total_price: Mapped[int] = mapped_column(BigInteger)


class Cursor(Base):
    """How far an incremental pull has read (e.g. ``orders:479573`` → UNIX seconds)."""

    __tablename__ = "cursors"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Run(Base):
    """A summary of every run: counts in/out, writes by kind, rejects, errors."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow: Mapped[str] = mapped_column(String(50))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="RUNNING")
    summary: Mapped[dict] = mapped_column(JSON, default=dict)


class Lock(Base):
    """A lease on a named resource (``shop:<id>``): one run at a time writes to a shop.

    Held while ``expires_at`` is in the future; the holder renews it (heartbeat), so a holder
    that crashed loses it when the lease runs out (see :mod:`flows.engine.locks`)."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    token: Mapped[str] = mapped_column(String(64))  # this holding, so a stale holder never frees a newer one
    owner: Mapped[str] = mapped_column(String(200))  # who, for the message the next run shows
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PictureUpload(Base):
    """A prepared photo as a channel holds it for a shop: uploaded once, by the source file's sha256
    and the processing version (a new version is a deliberate re-upload)."""

    __tablename__ = "picture_uploads"

    channel: Mapped[str] = mapped_column(String(30), primary_key=True)
    shop_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_path: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShopToken(Base):
    """A shop's tokens on a channel that authorises per shop, sealed (encrypted) with
    ``LAPAK_SECRET_KEY``; the expiry times stay readable for warnings without the key."""

    __tablename__ = "shop_tokens"

    channel: Mapped[str] = mapped_column(String(30), primary_key=True)
    shop_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    sealed: Mapped[str] = mapped_column(Text)
    access_expires: Mapped[int] = mapped_column(BigInteger)
    refresh_expires: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Notice(Base):
    """A group told of a paid order to pack (a new-order message): once per order and group, ever."""

    __tablename__ = "notices"

    channel: Mapped[str] = mapped_column(String(30), primary_key=True)
    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Index("ix_order_items_sku_order", OrderItem.sku, OrderItem.channel, OrderItem.order_id)


class WebhookEvent(Base):
    """A channel's order notification as first received (``lapak webhooks``): its id is kept a few
    days so that a redelivery (at least once, across restarts of the receiver) is acknowledged and
    not acted on twice."""

    __tablename__ = "webhook_events"

    channel: Mapped[str] = mapped_column(String(30), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    shop_id: Mapped[str] = mapped_column(String(30))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
