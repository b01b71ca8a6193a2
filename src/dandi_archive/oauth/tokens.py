"""Authorization codes and tokens, kept by their SHA-256 (a copy of the database gives
no usable code or token), and what a presented token is worth.

A code lives ten minutes and serves once; presented again it is refused and every token
descending from it is revoked (RFC 6749 4.1.2). Refreshing gives a new access *and*
refresh token and revokes the old pair, so a stolen refresh token works at most once.
A token counts only while its account is active: a rejected person's tokens stop at once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749 import TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import inactive_message, is_active
from dandi_archive.db.models import (
    OAuthAuthorizationCode,
    OAuthToken,
    User,
    utcnow,
)
from dandi_archive.errors import NotAuthenticated, PermissionDenied
from dandi_archive.oauth.claims import API_SCOPE, has_scope
from dandi_archive.oauth.clients import Client

CODE_LIFETIME = timedelta(minutes=10)


def token_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# -- authorization codes -------------------------------------------------------------------


class AuthorizationCode(AuthorizationCodeMixin):
    def __init__(self, row: OAuthAuthorizationCode) -> None:
        self.row = row
        # authlib's PKCE extension reads these two by name.
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())


def save_code(
    session: Session,
    code: str,
    *,
    client: Client,
    user: User,
    redirect_uri: str,
    scope: str,
    data: Any,
    auth_time: datetime | None,
) -> None:
    """Keep a code just given; ``data`` are the request's parameters (nonce, PKCE)."""
    now = utcnow()
    session.add(
        OAuthAuthorizationCode(
            code_hash=token_hash(code),
            client_id=client.get_client_id(),
            user_id=user.id,
            redirect_uri=redirect_uri,
            scope=scope,
            nonce=_short(data.get("nonce"), 255),
            code_challenge=_short(data.get("code_challenge"), 128),
            code_challenge_method=_short(data.get("code_challenge_method"), 16),
            auth_time=auth_time or now,
            expires=now + CODE_LIFETIME,
        )
    )
    session.flush()


def _short(value: object, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def find_code(session: Session, code: str, client: Client) -> AuthorizationCode | None:
    """The unused, unexpired code given to ``client``. A used one is a replay: the tokens
    it gave are revoked, and it stays refused."""
    row = session.scalar(
        select(OAuthAuthorizationCode)
        .where(
            OAuthAuthorizationCode.code_hash == token_hash(code),
            OAuthAuthorizationCode.client_id == client.get_client_id(),
        )
        .with_for_update()  # two exchanges of one code at once: the second waits, then fails
    )
    if row is None:
        return None
    if row.used:
        revoke_grant(session, row.code_hash)
        return None
    if row.expires <= utcnow():
        return None
    return AuthorizationCode(row)


def use_code(session: Session, code: AuthorizationCode) -> None:
    code.row.used = True
    session.flush()


def nonce_was_used(session: Session, client_id: object, nonce: str) -> bool:
    found = session.scalar(
        select(OAuthAuthorizationCode.code_hash).where(
            OAuthAuthorizationCode.client_id == str(client_id),
            OAuthAuthorizationCode.nonce == nonce[:255],
        )
    )
    return found is not None


# -- tokens ---------------------------------------------------------------------------------


class Token(TokenMixin):
    """A token row as found by one of its two values: ``kind`` says which (an access
    token expires within the hour, its refresh token lasts longer)."""

    def __init__(self, row: OAuthToken, kind: str = "access_token") -> None:
        self.row = row
        self.kind = kind
        self.scope = row.scope

    def check_client(self, client: Client) -> bool:
        return self.row.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.row.scope

    def expires_at(self) -> datetime:
        if self.kind == "refresh_token" and self.row.refresh_expires is not None:
            return self.row.refresh_expires
        return self.row.access_expires

    def get_expires_in(self) -> int:
        return int((self.expires_at() - self.row.issued).total_seconds())

    def is_expired(self) -> bool:
        return self.expires_at() <= utcnow()

    def is_revoked(self) -> bool:
        revoked = (
            self.row.refresh_revoked if self.kind == "refresh_token" else self.row.access_revoked
        )
        # An account that may no longer be used has no valid tokens either.
        return revoked or not is_active(self.row.user)

    def is_refresh_usable(self) -> bool:
        expires = self.row.refresh_expires
        return (
            self.row.refresh_token_hash is not None
            and not self.row.refresh_revoked
            and expires is not None
            and expires > utcnow()
            and is_active(self.row.user)
        )

    def get_user(self) -> User:
        return self.row.user

    def get_client(self) -> Client:
        return Client(self.row.client)


def save_token(
    session: Session,
    token: dict[str, Any],
    *,
    client: Client,
    user: User,
    grant_id: str,
    refresh_seconds: int,
) -> None:
    now = utcnow()
    refresh = token.get("refresh_token")
    session.add(
        OAuthToken(
            client_id=client.get_client_id(),
            user_id=user.id,
            grant_id=grant_id,
            scope=token.get("scope", ""),
            access_token_hash=token_hash(token["access_token"]),
            refresh_token_hash=token_hash(refresh) if refresh else None,
            issued=now,
            access_expires=now + timedelta(seconds=int(token["expires_in"])),
            refresh_expires=now + timedelta(seconds=refresh_seconds) if refresh else None,
        )
    )
    session.flush()


def find_token(session: Session, value: object, hint: str | None = None) -> Token | None:
    """The token whose access (or refresh) token is ``value``, whatever its state."""
    if not isinstance(value, str) or not value or len(value) > 512:
        return None
    digest = token_hash(value)
    kinds = {
        "access_token": OAuthToken.access_token_hash,
        "refresh_token": OAuthToken.refresh_token_hash,
    }
    # Without a hint (or with one that is wrong), both kinds are tried (RFC 7009 2.1).
    order = [hint, *(k for k in kinds if k != hint)] if hint in kinds else list(kinds)
    for kind in order:
        row = session.scalar(select(OAuthToken).where(kinds[kind] == digest))
        if row is not None:
            return Token(row, kind)
    return None


def find_token_of_kind(session: Session, value: object, kind: str) -> Token | None:
    """Only an access token where one is due (a refresh token is no bearer credential)."""
    token = find_token(session, value, kind)
    return token if token is not None and token.kind == kind else None


def revoke(token: Token, *, access_only: bool = False) -> None:
    token.row.access_revoked = True
    if not access_only:
        token.row.refresh_revoked = True


def revoke_grant(session: Session, grant_id: str) -> None:
    session.execute(
        update(OAuthToken)
        .where(OAuthToken.grant_id == grant_id)
        .values(access_revoked=True, refresh_revoked=True)
    )


def user_for_access_token(session: Session, value: str) -> User | None:
    """The person an API request with ``Authorization: Bearer <value>`` acts as: None for
    a token that is unknown, expired or revoked; refused when the person may not use the
    archive any more, or when they did not let the application use the API."""
    token = find_token_of_kind(session, value, "access_token")
    if token is None or token.is_expired() or token.row.access_revoked:
        return None
    user = token.get_user()
    if not is_active(user):
        raise NotAuthenticated(inactive_message(user))
    if not has_scope(token.get_scope(), API_SCOPE):
        raise PermissionDenied(
            f"This access token was not granted the {API_SCOPE!r} scope, so it cannot be "
            "used with the archive's API; ask for it when signing in."
        )
    return user
