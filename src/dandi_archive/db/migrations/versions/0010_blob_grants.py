"""blob grants: Dandisets into which a blob's bytes were uploaded

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 19:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'blob_grants',
        sa.Column('blob_id', sa.Uuid(), nullable=False),
        sa.Column('dandiset_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['blob_id'], ['asset_blobs.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['dandiset_id'], ['dandisets.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('blob_id', 'dandiset_id'),
    )
    with op.batch_alter_table('blob_grants', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_blob_grants_dandiset_id'), ['dandiset_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('blob_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blob_grants_dandiset_id'))
    op.drop_table('blob_grants')
