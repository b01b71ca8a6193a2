"""Browser sessions kept on the server, so that ending one takes effect at once.

The signed cookie holds a random token; the ``web_sessions`` table holds its SHA-256
with the user and an expiry. A cookie counts only while its row exists: sign-out
deletes the row, a new password, a new API key or rejection by an administrator delete
all the user's rows (but the one making the change, for a new key), so a cookie saved
earlier stops working everywhere at once, in every API process.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import inactive_message, is_active
from dandi_archive.db.models import User, WebSession, utcnow
from dandi_archive.errors import PermissionDenied

LIFETIME = timedelta(days=14)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user: User) -> str:
    """A new session of ``user``; returns the token for the cookie."""
    if not is_active(user):
        raise PermissionDenied(inactive_message(user))
    now = utcnow()
    session.execute(
        delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires <= now)
    )
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_hash(token), user_id=user.id, expires=now + LIFETIME))
    session.flush()
    return token


def user_of(session: Session, token: object) -> User | None:
    """The active user of a live session token, else None."""
    if not isinstance(token, str) or not token:
        return None
    row = session.scalar(
        select(WebSession).where(
            WebSession.token_hash == _hash(token), WebSession.expires > utcnow()
        )
    )
    if row is None:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and is_active(user) else None


def started(session: Session, token: object) -> datetime | None:
    """When the person of a live session signed in (an ID token's ``auth_time``)."""
    if not isinstance(token, str) or not token:
        return None
    return session.scalar(select(WebSession.created).where(WebSession.token_hash == _hash(token)))


def end(session: Session, token: object) -> None:
    """Sign-out: this session stops working, wherever its cookie was copied."""
    if isinstance(token, str) and token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))


def end_all(session: Session, user: User, *, keep: object = None) -> None:
    """End every session of ``user`` except the one with token ``keep``."""
    stmt = delete(WebSession).where(WebSession.user_id == user.id)
    if isinstance(keep, str) and keep:
        stmt = stmt.where(WebSession.token_hash != _hash(keep))
    session.execute(stmt)
