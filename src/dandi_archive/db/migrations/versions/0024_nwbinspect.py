"""nwb_inspections: what the NWB Inspector found in each NWB blob

Revision ID: 0024_nwbinspect
Revises: 0023_helpdesk
Create Date: 2026-12-21 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0024_nwbinspect'
down_revision = '0023_helpdesk'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'nwb_inspections',
        sa.Column('blob_id', sa.Uuid(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column(
            'findings',
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
            nullable=False,
        ),
        sa.Column('inspector_version', sa.String(length=32), nullable=True),
        sa.Column('bytes_read', sa.BigInteger(), nullable=True),
        sa.Column('updated', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['blob_id'], ['asset_blobs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('blob_id'),
    )


def downgrade() -> None:
    op.drop_table('nwb_inspections')
