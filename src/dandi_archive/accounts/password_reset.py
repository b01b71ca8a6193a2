"""Forgotten passwords: a mail with a link that sets a new one.

The link carries a token signed with the instance's key (itsdangerous) that names the
account and a fingerprint of its current password hash, and expires after
``DANDI_ARCHIVE_PASSWORD_RESET_HOURS``. Setting a password changes the hash, so the
link works once: used (or made stale by any other change of the password), it stops
working. Asking for a link never tells whether an address has an account.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from dandi_archive.access.permissions import is_active
from dandi_archive.accounts import registration, users
from dandi_archive.db.models import User
from dandi_archive.errors import BadRequest
from dandi_archive.mail import notices

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.config import Settings
    from dandi_archive.instance import Archive

RESET_PATH = "/password/reset"
_SALT = "dandi-archive password reset"


class InvalidResetLink(BadRequest):
    """A link that is not (or no longer) good; the page says why and what to do."""


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.signing_key, salt=_SALT)


def _fingerprint(password_hash: str) -> str:
    # The hash is salted, so this tells nothing of the password; it only changes with it.
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def _may_reset(user: User | None) -> bool:
    return user is not None and bool(user.password_hash) and is_active(user)


def request_reset(archive: Archive, session: Session, email: str) -> None:
    """Mail a link to the account with this address, if it has a password; otherwise do
    nothing. Either way the caller answers the same."""
    user = users.find_by_email(session, email)
    if not _may_reset(user):
        return
    assert user is not None and user.password_hash is not None
    token = make_token(archive.settings, user)
    link = f"{archive.settings.webui_url}{RESET_PATH}?token={token}"
    notices.password_reset(archive, session, user, link)


def make_token(settings: Settings, user: User) -> str:
    assert user.password_hash is not None
    return _serializer(settings).dumps({"u": user.id, "p": _fingerprint(user.password_hash)})


def user_for_token(settings: Settings, session: Session, token: str) -> User:
    """The account whose password this token may set, or InvalidResetLink."""
    hours = settings.password_reset_hours
    try:
        data: Any = _serializer(settings).loads(token, max_age=hours * 3600)
    except SignatureExpired:
        raise InvalidResetLink(
            f"This link has expired: a link to set a new password works for {hours:g} "
            "hour(s). Ask for a new one."
        ) from None
    except BadSignature:
        raise InvalidResetLink(
            "This link is not valid. Check that you opened the whole link from the mail, "
            "or ask for a new one."
        ) from None
    user_id = data.get("u") if isinstance(data, dict) else None
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not _may_reset(user) or not _same(user, data.get("p")):
        raise InvalidResetLink(
            "This link was already used, or the password changed since it was sent. "
            "Ask for a new one if you still need it."
        )
    return user


def _same(user: User, fingerprint: object) -> bool:
    return isinstance(fingerprint, str) and hmac.compare_digest(
        _fingerprint(user.password_hash or ""), fingerprint
    )


def reset_password(
    archive: Archive, session: Session, token: str, password: str, confirm: str
) -> User:
    """Set the password the token allows (which also ends every browser session)."""
    user = user_for_token(archive.settings, session, token)
    if problem := registration.password_problem(password, confirm):
        raise registration.InvalidFields({"password": problem})
    registration.set_password(session, user, password)
    return user
