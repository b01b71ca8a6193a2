"""Accounts and API keys."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dandi_archive.accounts import web_sessions
from dandi_archive.db.models import ApiKey, ExternalAccount, User, UserStatus
from dandi_archive.errors import BadRequest, NotFound


def create_user(
    session: Session,
    email: str,
    *,
    name: str = "",
    username: str | None = None,
    admin: bool = False,
    status: UserStatus = UserStatus.APPROVED,
) -> User:
    email = email.strip()
    if "@" not in email:
        raise BadRequest(f"{email!r} is not an email address.")
    if session.scalar(select(User).where(User.email == email)):
        raise BadRequest(f"A user with email {email} already exists.")
    user = User(
        email=email,
        username=username or derive_username(session, name, email),
        name=name,
        is_admin=admin,
        status=status,
    )
    session.add(user)
    session.flush()
    return user


def derive_username(session: Session, name: str, email: str) -> str:
    """A unique username that is not the address: usernames are public (owner lists,
    user search), addresses are not. From the name ("Jane Doe" -> "jane-doe"), else the
    address's local part, with "-2", "-3", ... when taken."""
    base = "user"
    for source in (name, email.partition("@")[0]):
        slug = re.sub(r"[^a-z0-9]+", "-", source.lower()).strip("-")[:100]
        if slug:
            base = slug
            break
    taken = set(
        session.scalars(
            select(User.username).where(or_(User.username == base, User.username.like(f"{base}-%")))
        )
    )
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def find_by_email(session: Session, email: str) -> User | None:
    """The user with this address, whatever its case. An exact comparison, not a LIKE
    pattern: '_' and '%' are ordinary characters of an address."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def get_user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        raise NotFound(f"No user with email {email}.")
    return user


def get_or_create_api_key(session: Session, user: User) -> str:
    key = session.scalar(select(ApiKey).where(ApiKey.user_id == user.id))
    if key is None:
        key = ApiKey(key=secrets.token_hex(20), user_id=user.id)
        session.add(key)
        session.flush()
    return key.key


def regenerate_api_key(session: Session, user: User, *, keep_session: str | None = None) -> str:
    """A new key replaces the old one, and the user's browser sessions end (but the one
    asking, ``keep_session``): whoever replaced a key they fear leaked fears the rest too."""
    old = session.scalar(select(ApiKey).where(ApiKey.user_id == user.id))
    if old is not None:
        session.delete(old)
        session.flush()
    web_sessions.end_all(session, user, keep=keep_session)
    return get_or_create_api_key(session, user)


def user_for_api_key(session: Session, key: str) -> User | None:
    # One query, not the key's row and then its user: this runs on every API request.
    return session.scalar(
        select(User).join(ApiKey, ApiKey.user_id == User.id).where(ApiKey.key == key)
    )


def describe_user(user: User) -> dict[str, object]:
    """The ``/api/users/me/`` shape."""
    return {
        "username": user.username,
        "name": user.name,
        "admin": user.is_admin,
        "status": user.status.value,
    }


def search_users(session: Session, query: str, limit: int = 10) -> list[User]:
    """Approved accounts whose username, name or GitHub login contains ``query`` (any
    case, taken literally), first joined first, as upstream's user search; nothing for
    an empty query."""
    query = query.strip()
    if not query:
        return []
    by_login = select(ExternalAccount.user_id).where(
        ExternalAccount.provider == "github",
        ExternalAccount.login.icontains(query, autoescape=True),
    )
    return list(
        session.scalars(
            select(User)
            .where(
                User.status == UserStatus.APPROVED,
                or_(
                    User.username.icontains(query, autoescape=True),
                    User.name.icontains(query, autoescape=True),
                    User.id.in_(by_login),
                ),
            )
            .order_by(User.created, User.id)
            .limit(limit)
        )
    )
