"""Readers of an embargoed Dandiset: users its owners let read it (reviewers,
collaborators) without letting them change anything.

Owners replace the list as a whole (the shape of the owners list). Only approved
accounts can be readers; what a reader may do is decided in ``access.permissions``.
Lifting the embargo drops the list: an open Dandiset is read by everyone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from dandi_archive.access.permissions import may_be_granted_read_access, require_owner
from dandi_archive.audit import events as audit
from dandi_archive.dandisets.dandisets import get_dandiset
from dandi_archive.db.models import (
    AccessRequest,
    AccessRequestStatus,
    Dandiset,
    DandisetOwner,
    DandisetReader,
    EmbargoStatus,
    User,
)
from dandi_archive.embargo import notices
from dandi_archive.errors import BadRequest

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.instance import Archive


def readers(session: Session, dandiset: Dandiset) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(DandisetReader, DandisetReader.user_id == User.id)
            .where(DandisetReader.dandiset_id == dandiset.id)
            .order_by(User.id)
        )
    )


def list_readers(session: Session, user: User | None, identifier: str) -> list[User]:
    """The readers, for the owners (readers are not shown each other)."""
    dandiset = get_dandiset(session, identifier)
    require_owner(session, dandiset, user)
    return readers(session, dandiset)


def _usernames(entries: Any) -> list[str]:
    if not isinstance(entries, list):
        raise BadRequest('Give the readers as a list of {"username": ...} objects.')
    names: list[str] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("username"), str):
            raise BadRequest("Each reader must be an object with a string 'username'.")
        if entry["username"] not in names:
            names.append(entry["username"])
    return names


def _grantable(session: Session, dandiset: Dandiset, names: list[str]) -> list[User]:
    """The users named, all of whom may become readers; else a 400 naming who may not."""
    found = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    missing = [n for n in names if n not in found]
    if missing:
        raise BadRequest(f"No such user: {', '.join(missing)}.")
    unapproved = [n for n in names if not may_be_granted_read_access(found[n])]
    if unapproved:
        raise BadRequest(
            "Only approved accounts can be given read access (administrators read "
            f"everything already): {', '.join(unapproved)}."
        )
    owner_ids = set(
        session.scalars(
            select(DandisetOwner.user_id).where(DandisetOwner.dandiset_id == dandiset.id)
        )
    )
    owning = [n for n in names if found[n].id in owner_ids]
    if owning:
        raise BadRequest(f"Already owners of Dandiset {dandiset.identifier}: {', '.join(owning)}.")
    return [found[n] for n in names]


def set_readers(
    archive: Archive, session: Session, user: User | None, identifier: str, entries: Any
) -> list[User]:
    """Replace the readers of an embargoed Dandiset (an empty list revokes everyone)."""
    dandiset = get_dandiset(session, identifier, lock=True)
    owner = require_owner(session, dandiset, user)
    if dandiset.embargo_status != EmbargoStatus.EMBARGOED:
        raise BadRequest(
            f"Dandiset {dandiset.identifier} is not embargoed: everyone can read it, so it "
            "has no readers to choose."
        )
    wanted = _grantable(session, dandiset, _usernames(entries))
    before = readers(session, dandiset)
    before_ids, wanted_ids = {u.id for u in before}, {u.id for u in wanted}
    added = [u for u in wanted if u.id not in before_ids]
    removed = [u for u in before if u.id not in wanted_ids]
    if removed:
        session.execute(
            delete(DandisetReader).where(
                DandisetReader.dandiset_id == dandiset.id,
                DandisetReader.user_id.in_([u.id for u in removed]),
            )
        )
    for reader in added:
        session.add(DandisetReader(dandiset_id=dandiset.id, user_id=reader.id, granted_by=owner.id))
    session.flush()
    audit.read_access(session, dandiset.id, owner, "grant_read_access", added)
    audit.read_access(session, dandiset.id, owner, "revoke_read_access", removed)
    _settle_requests(archive, session, dandiset, owner, added)
    return readers(session, dandiset)


def grant(session: Session, dandiset: Dandiset, owner: User, reader: User) -> None:
    """Add one reader (the Dandiset is locked, the owner and reader checked)."""
    exists = session.get(DandisetReader, (dandiset.id, reader.id))
    if exists is None:
        session.add(DandisetReader(dandiset_id=dandiset.id, user_id=reader.id, granted_by=owner.id))
        session.flush()


def _settle_requests(
    archive: Archive, session: Session, dandiset: Dandiset, owner: User, added: list[User]
) -> None:
    """Pending requests of users just made readers are answered: accepted."""
    if not added:
        return
    pending = session.scalars(
        select(AccessRequest).where(
            AccessRequest.dandiset_id == dandiset.id,
            AccessRequest.user_id.in_([u.id for u in added]),
            AccessRequest.status == AccessRequestStatus.PENDING,
        )
    )
    for request in pending:
        request.status = AccessRequestStatus.ACCEPTED
        request.decided = datetime.now(UTC)
        request.decided_by = owner.id
        notices.add(
            archive,
            session,
            dandiset.id,
            "access_accepted",
            user_id=request.user_id,
            details={"request_id": request.id},
        )


def drop_all(session: Session, dandiset_id: int) -> None:
    """The Dandiset opened: readers and unanswered requests no longer mean anything."""
    session.execute(delete(DandisetReader).where(DandisetReader.dandiset_id == dandiset_id))
    session.execute(
        delete(AccessRequest).where(
            AccessRequest.dandiset_id == dandiset_id,
            AccessRequest.status == AccessRequestStatus.PENDING,
        )
    )
