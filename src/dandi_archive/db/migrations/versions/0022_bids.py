"""standard checks: BIDS validator runs over a draft's datasets and their findings

Revision ID: 0022_bids
Revises: 0021_containers
Create Date: 2027-01-05 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0022_bids'
down_revision = '0021_containers'
branch_labels = None
depends_on = None

PATH = sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'standard_checks',
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('standard', sa.String(length=32), nullable=False),
        sa.Column('root', PATH, nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('summary', JSON, nullable=True),
        sa.Column('updated', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('version_id', 'standard', 'root'),
    )
    op.create_table(
        'standard_findings',
        sa.Column(
            'id',
            sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('standard', sa.String(length=32), nullable=False),
        sa.Column('root', PATH, nullable=False),
        sa.Column('path', PATH, nullable=True),
        sa.Column('severity', sa.String(length=16), nullable=False),
        sa.Column('code', sa.String(length=100), nullable=False),
        sa.Column('field', sa.String(length=255), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('standard_findings', schema=None) as batch_op:
        batch_op.create_index(
            'ix_standard_findings_check', ['version_id', 'standard', 'root'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('standard_findings', schema=None) as batch_op:
        batch_op.drop_index('ix_standard_findings_check')
    op.drop_table('standard_findings')
    op.drop_table('standard_checks')
