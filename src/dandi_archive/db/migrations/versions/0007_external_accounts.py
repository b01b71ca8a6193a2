"""external accounts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 21:30:00.000000
"""

from alembic import op
import sqlalchemy as sa
import dandi_archive.db.models


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'external_accounts',
        sa.Column('provider', sa.String(length=32), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created', dandi_archive.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('provider', 'subject'),
    )
    with op.batch_alter_table('external_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_accounts_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('external_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_accounts_user_id'))
    op.drop_table('external_accounts')
