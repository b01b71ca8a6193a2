"""What an application learns about a person, by scope, and how the consent page says it.

``openid`` gives who the person is on the archive: ``sub`` (the account's number, never
reused for someone else), ``preferred_username``, ``name`` and ``groups`` (``approved``,
``admin``). ``email`` adds the address (never an undeliverable ``….invalid`` one made
for an ORCID sign-in). ``archive`` lets the application call the archive's API as the
person, with their permissions. ``profile`` and ``groups`` are accepted for clients that
ask for them and add nothing ``openid`` does not give.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oidc.core import UserInfo

from dandi_archive.db.models import User

SCOPES = ("openid", "profile", "email", "groups", "archive")
API_SCOPE = "archive"
DEFAULT_SCOPE = "openid"

# What the consent page lists, in this order, for the scopes asked.
DESCRIPTIONS = {
    "openid": "your username and name on this archive, and whether your account is approved "
    "(or an administrator's)",
    "email": "your e-mail address",
    "archive": "use this archive's API as you: read what you may read, and change the "
    "Dandisets you own",
}


def allowed_scope(scope: str | None) -> str:
    """The scopes of a request that the archive knows, in its order (unknown ones were
    refused before as ``invalid_scope``); ``openid`` when none were asked."""
    asked = set(scope_to_list(scope) or [])
    return list_to_scope([s for s in SCOPES if s in asked]) or DEFAULT_SCOPE


def has_scope(scope: str | None, wanted: str) -> bool:
    return wanted in (scope_to_list(scope) or [])


def descriptions(scope: str | None) -> list[str]:
    asked = set(scope_to_list(scope) or [])
    return [text for name, text in DESCRIPTIONS.items() if name in asked]


def groups(user: User) -> list[str]:
    found = ["approved"] if user.is_approved else []
    return [*found, "admin"] if user.is_admin else found


def user_info(user: User, scope: str | None) -> UserInfo:
    """The claims of the ID token and of ``/oauth/userinfo`` for ``scope``."""
    info = UserInfo(
        sub=str(user.id),
        preferred_username=user.username,
        name=user.name or user.username,
        groups=groups(user),
    )
    if has_scope(scope, "email") and not user.email.lower().endswith(".invalid"):
        info["email"] = user.email
        info["email_verified"] = bool(user.email_verified)
    return info
