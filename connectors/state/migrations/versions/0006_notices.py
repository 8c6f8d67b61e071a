"""notices: which group was told of which paid order, when

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00.000000

A group with ``notify`` is told once of each new paid order with lines of its own. Keyed by the
order (channel, order id) and the group: groups sharing a shop are each told of their own lines.
No foreign key to ``orders`` (a later rebuild of that table, as 0005 did, would have to carry it)
nor to ``groups`` (an order pull may run before the sync that records them).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('notices',
    sa.Column('channel', sa.String(length=30), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('group_id', sa.String(length=40), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'order_id', 'group_id', name='pk_notices')
    )


def downgrade() -> None:
    """Downgrade schema (the next pulls would tell every recent paid order again)."""
    op.drop_table('notices')
