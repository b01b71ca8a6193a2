"""Who may read and who may change a Dandiset.

The rule, by the state of the caller's account (kept here and nowhere else):

- **rejected** (an administrator refused or deactivated it): no access of any kind. Its
  API key answers 401 ("this account is not active"), its browser sessions are ended and
  refused, and it owns nothing: a rejected former owner is anonymous to its Dandisets.
- **pending / incomplete** (not yet approved): reads like an anonymous caller, and may
  call ``/api/users/me/`` (as upstream). Ownership does not count until approval.
- **approved**: reads open Dandisets, and embargoed ones it owns; changes what it owns.
- **admin** (and not rejected): reads and changes everything.

Signing in to other applications with the archive (its OAuth/OIDC provider) is for
approved accounts only: ``require_may_sign_in_elsewhere``.

Open Dandisets are readable by anyone. Embargoed ones only by their (approved) owners
and admins: anonymous callers get 401 (so clients know to log in), others 403.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from dandi_archive.db.models import Dandiset, DandisetOwner, EmbargoStatus, User, UserStatus
from dandi_archive.errors import NotAuthenticated, PermissionDenied


def is_active(user: User) -> bool:
    """Whether the account may be used at all (API key, browser session)."""
    return user.status != UserStatus.REJECTED


def inactive_message(user: User) -> str:
    return (
        f"This account is not active (status {user.status.value}): an administrator "
        "rejected or deactivated it, so its API key and sign-ins no longer work."
    )


def owns(dandiset_id: Any, user_id: Any) -> ColumnElement[bool]:
    """SQL: ``user_id`` owns the Dandiset *and* its account is approved, so ownership
    ends with approval. Either side may be a value, a column or a bound parameter."""
    return (
        exists()
        .where(
            DandisetOwner.dandiset_id == dandiset_id,
            DandisetOwner.user_id == user_id,
            User.id == DandisetOwner.user_id,
            User.status == UserStatus.APPROVED,
        )
        .correlate_except(DandisetOwner, User)
    )


def visible_to_user(user_id: Any) -> ColumnElement[bool]:
    """What a signed-in user who is not an admin may list: open Dandisets and their own
    embargoed ones. ``user_id`` may be a value or a bound parameter."""
    return or_(Dandiset.embargo_status == EmbargoStatus.OPEN, owns(Dandiset.id, user_id))


def is_owner(session: Session, dandiset_id: int, user: User | None) -> bool:
    if user is None or not is_active(user):
        return False
    if user.is_admin:
        return True
    return bool(session.scalar(select(owns(dandiset_id, user.id))))


def require_approved(user: User | None) -> User:
    if user is None:
        raise NotAuthenticated()
    if not user.is_approved:
        raise PermissionDenied(
            f"Your account is {user.status.value.lower()}; an administrator must approve it "
            "before you can make changes."
        )
    return user


def require_may_sign_in_elsewhere(user: User | None) -> User:
    """Only approved accounts (and admins) are vouched for to other applications: they
    get authorization codes and tokens; others are told why not, in words for people."""
    if user is None:
        raise NotAuthenticated("Sign in to the archive first.")
    if not is_active(user):
        raise PermissionDenied(inactive_message(user))
    if user.is_approved:
        return user
    if user.status == UserStatus.INCOMPLETE:
        raise PermissionDenied(
            "Your account is not complete yet: answer the sign-up questions, then an "
            "administrator approves it. Until then you cannot sign in to other applications."
        )
    raise PermissionDenied(
        "Your account is waiting for an administrator's approval. Once it is approved you "
        "can sign in to other applications with it."
    )


def require_readable(session: Session, dandiset: Dandiset, user: User | None) -> None:
    if dandiset.embargo_status == EmbargoStatus.OPEN:
        return
    if user is None:
        raise NotAuthenticated(
            f"Dandiset {dandiset.identifier} is embargoed; log in as one of its owners."
        )
    if not is_owner(session, dandiset.id, user):
        raise PermissionDenied(f"Dandiset {dandiset.identifier} is embargoed; you do not own it.")


def require_owner(session: Session, dandiset: Dandiset, user: User | None) -> User:
    user = require_approved(user)
    if not is_owner(session, dandiset.id, user):
        require_readable(session, dandiset, user)
        raise PermissionDenied(f"You do not own Dandiset {dandiset.identifier}.")
    return user
