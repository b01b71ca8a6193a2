"""transfers: copies of an embedded archive into this database, resumable

Revision ID: 0020_transfer
Revises: 0019_mail
Create Date: 2026-12-20 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0020_transfer'
down_revision = '0019_mail'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'transfers',
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('started', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rows_copied', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('source'),
    )


def downgrade() -> None:
    op.drop_table('transfers')
