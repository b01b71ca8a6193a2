"""dandiset stars: users' stars on Dandisets

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

import dandi_archive.db.models


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dandiset_stars',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('dandiset_id', sa.Integer(), nullable=False),
        sa.Column('created', dandi_archive.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['dandiset_id'], ['dandisets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'dandiset_id'),
    )
    with op.batch_alter_table('dandiset_stars', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_dandiset_stars_dandiset_id'), ['dandiset_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('dandiset_stars', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dandiset_stars_dandiset_id'))
    op.drop_table('dandiset_stars')
