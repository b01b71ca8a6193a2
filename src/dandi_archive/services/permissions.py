"""Who may read and who may change a Dandiset.

Open Dandisets are readable by anyone. Embargoed ones only by their owners and admins:
anonymous callers get 401 (so clients know to log in), others 403. Changing anything
needs an approved account that owns the Dandiset (or an admin account).
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..db.models import Dandiset, DandisetOwner, EmbargoStatus, User
from .errors import NotAuthenticated, PermissionDenied


def is_owner(session: Session, dandiset_id: int, user: User | None) -> bool:
    if user is None:
        return False
    if user.is_admin:
        return True
    return bool(
        session.scalar(
            select(
                exists().where(
                    DandisetOwner.dandiset_id == dandiset_id, DandisetOwner.user_id == user.id
                )
            )
        )
    )


def require_approved(user: User | None) -> User:
    if user is None:
        raise NotAuthenticated()
    if not user.is_approved:
        raise PermissionDenied(
            f"Your account is {user.status.value.lower()}; an administrator must approve it "
            "before you can make changes."
        )
    return user


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
