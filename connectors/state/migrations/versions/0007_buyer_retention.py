"""buyer retention: when an order's buyer details were removed, and the index the purge reads

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 09:00:00.000000

``[orders] keep_buyer_details_days`` after an order is final (finished or cancelled) its buyer's
and recipient's names, phone and address are emptied; ``buyer_details_removed_at`` records when,
and keeps an upsert (a backfill, a late re-read) from bringing them back. No column says when an
order became final: its ``update_time`` (the channel's, which grows on every change) stands for
it, so a late change only keeps the details longer. The partial index (channel, status,
update_time) holds only the orders whose details are still kept (recent and open ones): the
purge's search stays small as years of orders pile up. Rows already stored keep their details
until the first purge (the next order pull).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT = sa.text('buyer_details_removed_at IS NULL')


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('orders', sa.Column('buyer_details_removed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_orders_buyer_retention', 'orders', ['channel', 'status', 'update_time'], unique=False,
                    sqlite_where=KEPT, postgresql_where=KEPT)


def downgrade() -> None:
    """Downgrade schema (details already removed stay removed: the pipeline no longer knows them)."""
    op.drop_index('ix_orders_buyer_retention', table_name='orders')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('buyer_details_removed_at')
