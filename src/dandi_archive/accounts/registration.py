"""Accounts with passwords: sign-up, sign-in, and approval of new users by an admin.

Passwords are hashed with Argon2id (argon2-cffi's defaults follow RFC 9106); a hash made
with weaker parameters is upgraded at the next sign-in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import is_active
from dandi_archive.accounts import users, web_sessions
from dandi_archive.db.models import User, UserStatus
from dandi_archive.errors import BadRequest, NotAuthenticated, NotFound, PermissionDenied
from dandi_archive.mail import notices

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
_hasher = PasswordHasher()
# Verified against when the email is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class InvalidFields(BadRequest):
    """Bad input in named fields; ``fields`` maps each field to its problem."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def password_problem(password: str, confirm: str | None) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if confirm is not None and confirm != password:
        return "The two passwords differ."
    return None


def sign_up(session: Session, email: str, name: str, password: str, confirm: str) -> User:
    """A new account, INCOMPLETE until it answers the sign-up questionnaire."""
    email, name = email.strip(), name.strip()
    problems: dict[str, str] = {}
    if "@" not in email or email.startswith("@") or email.endswith("@") or len(email) > 254:
        problems["email"] = "Enter an email address such as jane@example.org."
    elif users.find_by_email(session, email) is not None:
        problems["email"] = "An account with this email exists; sign in instead."
    if not name:
        problems["name"] = "Enter your name as it should appear in citations."
    elif len(name) > 255:
        problems["name"] = "Use at most 255 characters."
    if problem := password_problem(password, confirm):
        problems["password"] = problem
    if problems:
        raise InvalidFields(problems)
    user = users.create_user(session, email, name=name, status=UserStatus.INCOMPLETE)
    user.password_hash = _hasher.hash(password)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    if problem := password_problem(password, None):
        raise InvalidFields({"password": problem})
    user.password_hash = _hasher.hash(password)
    web_sessions.end_all(session, user)  # whoever changes a password wants others out
    session.flush()


def authenticate(session: Session, email: str, password: str) -> User:
    """The user with these credentials, or NotAuthenticated (which never says which was wrong)."""
    user = users.find_by_email(session, email)
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        raise NotAuthenticated("Wrong email or password.") from None
    if user is None or not user.password_hash:
        raise NotAuthenticated("Wrong email or password.")
    if not is_active(user):
        raise PermissionDenied("This account was not approved.")
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return user


# -- approval ------------------------------------------------------------------------------


def require_admin(user: User | None) -> User:
    if user is None:
        raise NotAuthenticated()
    if not user.is_admin:
        raise PermissionDenied("Only administrators can do this.")
    return user


def list_users(session: Session, actor: User | None, limit: int = 500) -> list[User]:
    """Pending accounts first, then the others, newest first."""
    require_admin(actor)
    pending_first = case((User.status == UserStatus.PENDING, 0), else_=1)
    return list(
        session.scalars(select(User).order_by(pending_first, User.created.desc()).limit(limit))
    )


def get_user(session: Session, actor: User | None, user_id: int) -> User:
    """One account, for an administrator deciding about it."""
    require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def list_usernames(session: Session, actor: User | None, *, approved_only: bool) -> list[str]:
    """Upstream's ``GET /api/users/``: every account's public name (upstream's GitHub
    login; ours is the username every other endpoint shows), sorted."""
    require_admin(actor)
    query = select(User.username).order_by(User.username)
    if approved_only:
        query = query.where(User.status == UserStatus.APPROVED)
    return list(session.scalars(query))


MAX_REASON_LENGTH = 2000


def check_reason(reason: str) -> str:
    """The reason given with a rejection, trimmed; BadRequest if too long."""
    reason = reason.strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise BadRequest(f"Give a reason of at most {MAX_REASON_LENGTH} characters.")
    return reason


def set_status(
    archive: Archive,
    session: Session,
    actor: User | None,
    user_id: int,
    status: UserStatus,
    reason: str = "",
) -> User:
    """Approve or reject an account; its owner hears of the decision by mail (a
    rejection with ``reason``, if the administrator gave one)."""
    admin = require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    if user.id == admin.id:
        raise BadRequest("You cannot change the status of your own account.")
    if status not in (UserStatus.APPROVED, UserStatus.REJECTED):
        raise BadRequest("An account can be approved or rejected.")
    reason = check_reason(reason)
    changed = user.status != status
    user.status = status
    if not is_active(user):
        web_sessions.end_all(session, user)  # signed-in browsers are out at once
    session.flush()
    if changed and status == UserStatus.APPROVED:
        notices.account_approved(archive, session, user)
    elif changed:
        notices.account_rejected(archive, session, user, reason)
    return user
