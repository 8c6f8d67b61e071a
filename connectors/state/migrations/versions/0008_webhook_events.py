"""webhook events: the ids of order notifications received, for dedupe across restarts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:00:00.000000

``lapak webhooks`` acknowledges a notification once per (channel, event id): both channels
deliver at least once (the first retries for up to 24 hours). Rows older than a few days are
pruned by the receiver (``received_at`` is indexed for that). The shop id is text: the second
channel's ids are strings.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('webhook_events',
    sa.Column('channel', sa.String(length=30), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('shop_id', sa.String(length=30), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'event_id', name='pk_webhook_events')
    )
    op.create_index('ix_webhook_events_received_at', 'webhook_events', ['received_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema (a redelivery of an event already seen would then ask for one more pull)."""
    op.drop_index('ix_webhook_events_received_at', table_name='webhook_events')
    op.drop_table('webhook_events')
