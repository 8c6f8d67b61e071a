"""channels: listings, orders and order lines keyed by channel; per-shop tokens, sealed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 11:00:00.000000

A second channel lists the same SKUs on its own shops and numbers its orders on its own: a
listing is (channel, shop, SKU), an order (channel, order id). Rows already stored are the first
marketplace's. Titles on the second channel may have 255 characters. The keyed tables are
rebuilt (new table, copy, swap), the one way that changes a primary key alike on SQLite and
PostgreSQL.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _channel() -> sa.Column:
    return sa.Column('channel', sa.String(length=30), nullable=False, server_default='marketplace')


def _when() -> sa.Column:
    return sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False)


LISTING_COLUMNS = ['shop_id', 'sku', 'group_id', 'product_id', 'name', 'category_id', 'price', 'stock',
                   'recorded_stock', 'min_order', 'weight_g', 'condition', 'description', 'pictures', 'status',
                   'in_catalogue', 'has_orders', 'updated_at']
ORDER_COLUMNS = ['order_id', 'shop_id', 'invoice_ref_num', 'status', 'create_time', 'update_time', 'buyer_name',
                 'recipient_name', 'recipient_phone', 'recipient_address', 'recipient_district', 'recipient_city',
                 'recipient_province', 'recipient_postal_code', 'shipping_cost', 'total_amount', 'first_seen_at',
                 'updated_at']
ITEM_COLUMNS = ['order_id', 'line', 'product_id', 'sku', 'name', 'quantity', 'price', 'total_price']


def _listings_table() -> None:
    op.create_table('listings_v5',
    _channel(),
    sa.Column('shop_id', sa.BigInteger(), nullable=False),
    sa.Column('sku', sa.String(length=50), nullable=False),
    sa.Column('group_id', sa.String(length=40), nullable=False),
    sa.Column('product_id', sa.BigInteger(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('category_id', sa.BigInteger(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('recorded_stock', sa.Integer(), nullable=False),
    sa.Column('min_order', sa.Integer(), nullable=False),
    sa.Column('weight_g', sa.Float(), nullable=False),
    sa.Column('condition', sa.String(length=8), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('pictures', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('in_catalogue', sa.Boolean(), nullable=False),
    sa.Column('has_orders', sa.Boolean(), nullable=False),
    _when(),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name='fk_listings_group'),
    sa.PrimaryKeyConstraint('channel', 'shop_id', 'sku', name='pk_listings')
    )


def _order_tables() -> None:
    op.create_table('orders_v5',
    _channel(),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('shop_id', sa.BigInteger(), nullable=False),
    sa.Column('invoice_ref_num', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('create_time', sa.BigInteger(), nullable=False),
    sa.Column('update_time', sa.BigInteger(), nullable=False),
    sa.Column('buyer_name', sa.String(length=200), nullable=False),
    sa.Column('recipient_name', sa.String(length=200), nullable=False),
    sa.Column('recipient_phone', sa.String(length=50), nullable=False),
    sa.Column('recipient_address', sa.Text(), nullable=False),
    sa.Column('recipient_district', sa.String(length=200), nullable=False, server_default=''),
    sa.Column('recipient_city', sa.String(length=200), nullable=False, server_default=''),
    sa.Column('recipient_province', sa.String(length=200), nullable=False, server_default=''),
    sa.Column('recipient_postal_code', sa.String(length=20), nullable=False, server_default=''),
    sa.Column('shipping_cost', sa.BigInteger(), nullable=False),
    sa.Column('total_amount', sa.BigInteger(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    _when(),
    sa.PrimaryKeyConstraint('channel', 'order_id', name='pk_orders')
    )
    op.create_table('order_items_v5',
    _channel(),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.BigInteger(), nullable=True),
    sa.Column('sku', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('total_price', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['channel', 'order_id'], ['orders_v5.channel', 'orders_v5.order_id'],
                            name='fk_order_items_order'),
    sa.PrimaryKeyConstraint('channel', 'order_id', 'line', name='pk_order_items')
    )


def _copy(old: str, new: str, columns: list[str]) -> None:
    cols = ", ".join(columns)
    op.execute(f"INSERT INTO {new} (channel, {cols}) SELECT 'marketplace', {cols} FROM {old}")


def upgrade() -> None:
    """Upgrade schema."""
    _listings_table()
    _copy('listings', 'listings_v5', LISTING_COLUMNS)
    op.drop_table('listings')
    op.rename_table('listings_v5', 'listings')
    op.create_index('ix_listings_group_id', 'listings', ['group_id'], unique=False)

    _order_tables()
    _copy('orders', 'orders_v5', ORDER_COLUMNS)
    _copy('order_items', 'order_items_v5', ITEM_COLUMNS)
    op.drop_table('order_items')
    op.drop_table('orders')
    op.rename_table('orders_v5', 'orders')
    op.rename_table('order_items_v5', 'order_items')
    op.create_index('ix_orders_create_time', 'orders', ['create_time'], unique=False)
    op.create_index('ix_orders_shop_id', 'orders', ['shop_id'], unique=False)
    op.create_index('ix_order_items_sku', 'order_items', ['sku'], unique=False)
    op.create_index('ix_order_items_sku_order', 'order_items', ['sku', 'channel', 'order_id'], unique=False)

    op.create_table('shop_tokens',
    sa.Column('channel', sa.String(length=30), nullable=False),
    sa.Column('shop_id', sa.String(length=30), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=False),
    sa.Column('access_expires', sa.BigInteger(), nullable=False),
    sa.Column('refresh_expires', sa.BigInteger(), nullable=False),
    _when(),
    sa.PrimaryKeyConstraint('channel', 'shop_id', name='pk_shop_tokens')
    )


def downgrade() -> None:
    """Not reversible without losing the second channel's rows: restore a backup of the database."""
    raise NotImplementedError("0005 cannot be undone in place; restore a backup of the state database")
