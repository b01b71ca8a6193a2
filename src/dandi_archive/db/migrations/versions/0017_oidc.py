"""oauth provider: clients, authorization codes, tokens, the ID-token signing key; GitHub logins

Revision ID: 0017_oidc
Revises: 0016_reviewers
Create Date: 2026-12-12 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import dandi_archive.db.models


revision = '0017_oidc'
down_revision = '0016_reviewers'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
UTC = dandi_archive.db.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN (not batch mode): SQLite keeps the table as it is.
    op.add_column('external_accounts', sa.Column('login', sa.String(length=255), nullable=True))
    op.create_table(
        'oauth_clients',
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('redirect_uris', JSON, nullable=False),
        sa.Column('trusted', sa.Boolean(), nullable=False),
        sa.Column('created', UTC, nullable=False),
        sa.PrimaryKeyConstraint('client_id'),
    )
    op.create_table(
        'oauth_authorization_codes',
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('redirect_uri', sa.Text(), nullable=False),
        sa.Column('scope', sa.Text(), nullable=False),
        sa.Column('nonce', sa.String(length=255), nullable=True),
        sa.Column('code_challenge', sa.String(length=128), nullable=True),
        sa.Column('code_challenge_method', sa.String(length=16), nullable=True),
        sa.Column('auth_time', UTC, nullable=False),
        sa.Column('expires', UTC, nullable=False),
        sa.Column('used', sa.Boolean(), nullable=False),
        sa.Column('created', UTC, nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['oauth_clients.client_id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('code_hash'),
    )
    op.create_index(
        'ix_oauth_authorization_codes_client_id', 'oauth_authorization_codes', ['client_id']
    )
    op.create_index(
        'ix_oauth_authorization_codes_user_id', 'oauth_authorization_codes', ['user_id']
    )
    op.create_table(
        'oauth_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('grant_id', sa.String(length=64), nullable=False),
        sa.Column('scope', sa.Text(), nullable=False),
        sa.Column('access_token_hash', sa.String(length=64), nullable=False),
        sa.Column('refresh_token_hash', sa.String(length=64), nullable=True),
        sa.Column('issued', UTC, nullable=False),
        sa.Column('access_expires', UTC, nullable=False),
        sa.Column('refresh_expires', UTC, nullable=True),
        sa.Column('access_revoked', sa.Boolean(), nullable=False),
        sa.Column('refresh_revoked', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['oauth_clients.client_id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('access_token_hash'),
        sa.UniqueConstraint('refresh_token_hash'),
    )
    op.create_index('ix_oauth_tokens_client_id', 'oauth_tokens', ['client_id'])
    op.create_index('ix_oauth_tokens_user_id', 'oauth_tokens', ['user_id'])
    op.create_index('ix_oauth_tokens_grant_id', 'oauth_tokens', ['grant_id'])
    op.create_table(
        'oauth_signing_keys',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('kid', sa.String(length=64), nullable=False),
        sa.Column('private_jwk', JSON, nullable=False),
        sa.Column('created', UTC, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kid'),
    )


def downgrade() -> None:
    op.drop_table('oauth_signing_keys')
    op.drop_index('ix_oauth_tokens_grant_id', table_name='oauth_tokens')
    op.drop_index('ix_oauth_tokens_user_id', table_name='oauth_tokens')
    op.drop_index('ix_oauth_tokens_client_id', table_name='oauth_tokens')
    op.drop_table('oauth_tokens')
    op.drop_index('ix_oauth_authorization_codes_user_id', table_name='oauth_authorization_codes')
    op.drop_index('ix_oauth_authorization_codes_client_id', table_name='oauth_authorization_codes')
    op.drop_table('oauth_authorization_codes')
    op.drop_table('oauth_clients')
    op.drop_column('external_accounts', 'login')
