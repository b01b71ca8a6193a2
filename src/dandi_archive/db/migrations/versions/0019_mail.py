"""mail outbox: mails written with the change they tell about, sent by a job

Revision ID: 0019_mail
Revises: 0018_clientsuite
Create Date: 2026-12-13 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0019_mail'
down_revision = '0018_clientsuite'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mail_outbox',
        sa.Column(
            'id',
            sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column(
            'recipients',
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
            nullable=False,
        ),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=100), nullable=True),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('sent', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dedupe_key'),
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_outbox_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_outbox_due'), ['due'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_outbox_sent'), ['sent'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_outbox_sent'))
        batch_op.drop_index(batch_op.f('ix_mail_outbox_due'))
        batch_op.drop_index(batch_op.f('ix_mail_outbox_kind'))
    op.drop_table('mail_outbox')
