"""Who may read and who may change a Dandiset.

The rule, by the state of the caller's account (kept here and nowhere else):

- **rejected** (an administrator refused or deactivated it): no access of any kind. Its
  API key answers 401 ("this account is not active"), its browser sessions are ended and
  refused, and it owns nothing: a rejected former owner is anonymous to its Dandisets.
- **pending / incomplete** (not yet approved): reads like an anonymous caller, and may
  call ``/api/users/me/`` (as upstream). Ownership does not count until approval.
- **approved**: reads open Dandisets, embargoed ones it owns, and embargoed ones whose
  owners granted it read access (a *reader*: a reviewer or collaborator); changes what
  it owns, and nothing of what it only reads.
- **admin** (and not rejected): reads and changes everything.

Signing in to other applications with the archive (its OAuth/OIDC provider) is for
approved accounts only: ``require_may_sign_in_elsewhere``.

Open Dandisets are readable by anyone. Embargoed ones only by their (approved) owners,
their (approved) readers and admins: anonymous callers get 401 (so clients know to log
in), others 403. Read access is granted only to approved accounts, and asked for only
by approved accounts that cannot read the Dandiset yet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from dandi_archive.db.models import (
    Dandiset,
    DandisetOwner,
    DandisetReader,
    EmbargoStatus,
    User,
    UserStatus,
)
from dandi_archive.errors import BadRequest, NotAuthenticated, PermissionDenied


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


def reads(dandiset_id: Any, user_id: Any) -> ColumnElement[bool]:
    """SQL: an owner granted ``user_id`` read access *and* its account is approved.
    Either side may be a value, a column or a bound parameter."""
    return (
        exists()
        .where(
            DandisetReader.dandiset_id == dandiset_id,
            DandisetReader.user_id == user_id,
            User.id == DandisetReader.user_id,
            User.status == UserStatus.APPROVED,
        )
        .correlate_except(DandisetReader, User)
    )


def visible_to_user(user_id: Any) -> ColumnElement[bool]:
    """What a signed-in user who is not an admin may list: open Dandisets, their own
    embargoed ones and those they were let read. ``user_id`` may be a value or a bound
    parameter."""
    return or_(
        Dandiset.embargo_status == EmbargoStatus.OPEN,
        owns(Dandiset.id, user_id),
        reads(Dandiset.id, user_id),
    )


def is_owner(session: Session, dandiset_id: int, user: User | None) -> bool:
    if user is None or not is_active(user):
        return False
    if user.is_admin:
        return True
    return bool(session.scalar(select(owns(dandiset_id, user.id))))


def is_reader(session: Session, dandiset_id: int, user: User | None) -> bool:
    """Whether an owner let this (active, approved) user read the Dandiset."""
    if user is None or not is_active(user):
        return False
    return bool(session.scalar(select(reads(dandiset_id, user.id))))


def may_read(session: Session, dandiset: Dandiset, user: User | None) -> bool:
    """Whether the caller may read the Dandiset: its metadata, assets, Zarrs and bytes."""
    if dandiset.embargo_status == EmbargoStatus.OPEN:
        return True
    return is_owner(session, dandiset.id, user) or is_reader(session, dandiset.id, user)


def may_be_granted_read_access(user: User) -> bool:
    """Only approved accounts may be made readers (an admin reads everything anyway)."""
    return user.status == UserStatus.APPROVED and not user.is_admin


def require_may_request_access(session: Session, dandiset: Dandiset, user: User | None) -> User:
    """An approved account that cannot read this embargoed Dandiset yet may ask to."""
    user = require_approved(user)
    if dandiset.embargo_status == EmbargoStatus.UNEMBARGOING:
        raise BadRequest(
            f"Dandiset {dandiset.identifier}'s embargo is being lifted: it opens to everyone "
            "in a moment."
        )
    if dandiset.embargo_status != EmbargoStatus.EMBARGOED:
        raise BadRequest(
            f"Dandiset {dandiset.identifier} is not embargoed: anyone can read it, there is "
            "no access to request."
        )
    if may_read(session, dandiset, user):
        raise BadRequest(f"You can already read Dandiset {dandiset.identifier}.")
    return user


def may_request_access(session: Session, dandiset: Dandiset, user: User | None) -> bool:
    """Whether to offer this caller a "Request access" button (see above)."""
    try:
        require_may_request_access(session, dandiset, user)
    except (BadRequest, NotAuthenticated, PermissionDenied):
        return False
    return True


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
            f"Dandiset {dandiset.identifier} is embargoed; log in as one of its owners or readers."
        )
    if not may_read(session, dandiset, user):
        raise PermissionDenied(
            f"Dandiset {dandiset.identifier} is embargoed; you do not own it and its "
            "owners have not given you read access (you may request it on its page)."
        )


def require_owner(session: Session, dandiset: Dandiset, user: User | None) -> User:
    user = require_approved(user)
    if not is_owner(session, dandiset.id, user):
        require_readable(session, dandiset, user)
        raise PermissionDenied(f"You do not own Dandiset {dandiset.identifier}.")
    return user
