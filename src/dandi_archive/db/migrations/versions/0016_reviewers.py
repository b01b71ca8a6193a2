"""reviewers: read access to embargoed Dandisets, access requests, embargo notices

Revision ID: 0016_reviewers
Revises: 0015
Create Date: 2026-12-12 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0016_reviewers'
down_revision = '0015'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'dandiset_readers',
        sa.Column('dandiset_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('granted_by', sa.Integer(), nullable=True),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['dandiset_id'], ['dandisets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['granted_by'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('dandiset_id', 'user_id'),
    )
    with op.batch_alter_table('dandiset_readers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dandiset_readers_user_id'), ['user_id'], unique=False)

    op.create_table(
        'access_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dandiset_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column(
            'status',
            sa.Enum(
                'pending',
                'accepted',
                'declined',
                name='access_request_status',
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['dandiset_id'], ['dandisets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decided_by'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dandiset_id', 'user_id'),
    )
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_access_requests_dandiset_id'), ['dandiset_id'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_access_requests_user_id'), ['user_id'], unique=False)

    op.create_table(
        'embargo_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dandiset_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('about_date', sa.Date(), nullable=True),
        sa.Column('details', JSON, nullable=False),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['dandiset_id'], ['dandisets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dandiset_id', 'kind', 'about_date'),
    )
    with op.batch_alter_table('embargo_notices', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_embargo_notices_dandiset_id'), ['dandiset_id'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_embargo_notices_sent'), ['sent'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('embargo_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_embargo_notices_sent'))
        batch_op.drop_index(batch_op.f('ix_embargo_notices_dandiset_id'))
    op.drop_table('embargo_notices')
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_requests_user_id'))
        batch_op.drop_index(batch_op.f('ix_access_requests_dandiset_id'))
    op.drop_table('access_requests')
    with op.batch_alter_table('dandiset_readers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dandiset_readers_user_id'))
    op.drop_table('dandiset_readers')
