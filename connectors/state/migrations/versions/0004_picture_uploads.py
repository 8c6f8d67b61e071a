"""picture uploads: each prepared photo uploaded once per channel and shop

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('picture_uploads',
    sa.Column('channel', sa.String(length=30), nullable=False),
    sa.Column('shop_id', sa.BigInteger(), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('file_path', sa.Text(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'shop_id', 'source_sha256', 'version')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('picture_uploads')
