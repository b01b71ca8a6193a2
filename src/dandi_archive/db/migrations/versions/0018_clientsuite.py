"""zarr changes awaiting a late upload: kept across an ingest until their URL expires

Revision ID: 0018_clientsuite
Revises: 0017_oidc
Create Date: 2026-12-14 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0018_clientsuite'
down_revision = '0017_oidc'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('zarr_changes', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('awaiting', sa.Boolean(), server_default=sa.text('false'), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('zarr_changes', schema=None) as batch_op:
        batch_op.drop_column('awaiting')
