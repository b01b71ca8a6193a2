"""helpdesk: users' questions to the administrators and their answers

Revision ID: 0023_helpdesk
Revises: 0022_bids
Create Date: 2026-12-27 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0023_helpdesk'
down_revision = '0022_bids'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'help_requests',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('dandiset_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('answered', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answered_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['dandiset_id'], ['dandisets.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['answered_by'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_help_requests_user_id'), ['user_id'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_help_requests_dandiset_id'), ['dandiset_id'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_help_requests_created'), ['created'], unique=False)
        batch_op.create_index(batch_op.f('ix_help_requests_answered'), ['answered'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_help_requests_answered'))
        batch_op.drop_index(batch_op.f('ix_help_requests_created'))
        batch_op.drop_index(batch_op.f('ix_help_requests_dandiset_id'))
        batch_op.drop_index(batch_op.f('ix_help_requests_user_id'))
    op.drop_table('help_requests')
