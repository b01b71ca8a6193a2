"""server-side web sessions; usernames that are not e-mail addresses

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00.000000
"""

import re

from alembic import op
import sqlalchemy as sa
import dandi_archive.db.models


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _base_username(name: str, email: str) -> str:
    # The same rule as services.users.derive_username, frozen here so that later changes
    # of the service do not change what this migration did.
    for source in (name, email.partition('@')[0]):
        slug = re.sub(r'[^a-z0-9]+', '-', source.lower()).strip('-')[:100]
        if slug:
            return slug
    return 'user'


def _rename_email_usernames() -> None:
    """Usernames are shown to anyone; replace every one that is an e-mail address."""
    bind = op.get_bind()
    users = sa.table(
        'users',
        sa.column('id', sa.Integer),
        sa.column('username', sa.String),
        sa.column('name', sa.String),
        sa.column('email', sa.String),
    )
    rows = bind.execute(sa.select(users.c.id, users.c.username, users.c.name, users.c.email)).all()
    taken = {row.username for row in rows}
    for row in rows:
        if '@' not in row.username:
            continue
        base = _base_username(row.name or '', row.email or row.username)
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f'{base}-{n}'
        taken.add(candidate)
        bind.execute(sa.update(users).where(users.c.id == row.id).values(username=candidate))


def upgrade() -> None:
    op.create_table(
        'web_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created', dandi_archive.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires', dandi_archive.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)
    _rename_email_usernames()


def downgrade() -> None:
    # Usernames stay as they are: the old ones (addresses) are not kept anywhere.
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))
    op.drop_table('web_sessions')
