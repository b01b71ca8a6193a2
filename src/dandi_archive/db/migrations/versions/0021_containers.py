"""asset_blobs.container: what a blob's bytes are (container images recognised)

Revision ID: 0021_containers
Revises: 0020_transfer
Create Date: 2026-12-22 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0021_containers'
down_revision = '0020_transfer'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'asset_blobs',
        sa.Column(
            'container',
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
            nullable=True,
        ),
    )


def downgrade() -> None:
    op.drop_column('asset_blobs', 'container')
