"""Access requests: an approved user asks to read an embargoed Dandiset, and one of its
owners accepts (the user becomes a reader) or declines.

Asking again while a request is pending changes nothing and answers the same request;
asking after a decline re-opens it. Each step is an audit event and a notice in the
embargo outbox (``embargo.notices``), which is where mail would be sent from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from dandi_archive.access.permissions import (
    may_be_granted_read_access,
    require_may_request_access,
    require_owner,
)
from dandi_archive.audit import events as audit
from dandi_archive.dandisets.dandisets import get_dandiset
from dandi_archive.db.models import AccessRequest, AccessRequestStatus, Dandiset, User
from dandi_archive.embargo import notices, readers
from dandi_archive.errors import BadRequest, NotFound

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.instance import Archive

MAX_MESSAGE = 2000


def request_access(
    archive: Archive, session: Session, user: User | None, identifier: str, message: str | None
) -> AccessRequest:
    """Ask the owners for read access (idempotent while the request is pending)."""
    if message is not None and not isinstance(message, str):
        raise BadRequest("message must be a string.")
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise BadRequest(f"The message is {len(message)} characters; at most {MAX_MESSAGE}.")
    # Locked: two requests at once by the same user make one row, not a conflict.
    dandiset = get_dandiset(session, identifier, lock="change")
    requester = require_may_request_access(session, dandiset, user)
    existing = session.scalar(
        select(AccessRequest)
        .where(AccessRequest.dandiset_id == dandiset.id, AccessRequest.user_id == requester.id)
        .with_for_update(of=AccessRequest)  # not the requester's account row
    )
    if existing is not None and existing.status == AccessRequestStatus.PENDING:
        return existing
    if existing is None:
        existing = AccessRequest(dandiset_id=dandiset.id, user_id=requester.id)
        session.add(existing)
    existing.message = message
    existing.status = AccessRequestStatus.PENDING
    existing.created = datetime.now(UTC)
    existing.decided = existing.decided_by = None
    session.flush()
    audit.request_access(session, dandiset.id, requester, existing.id, message)
    notices.add(
        archive,
        session,
        dandiset.id,
        "access_requested",
        user_id=requester.id,
        details={"request_id": existing.id, "message": message},
    )
    return existing


def own_request(session: Session, dandiset: Dandiset, user: User | None) -> AccessRequest | None:
    """The caller's own request for this Dandiset, if any (for its page)."""
    if user is None:
        return None
    return session.scalar(
        select(AccessRequest).where(
            AccessRequest.dandiset_id == dandiset.id, AccessRequest.user_id == user.id
        )
    )


def pending_requests(session: Session, dandiset: Dandiset) -> list[AccessRequest]:
    return list(
        session.scalars(
            select(AccessRequest)
            .where(
                AccessRequest.dandiset_id == dandiset.id,
                AccessRequest.status == AccessRequestStatus.PENDING,
            )
            .order_by(AccessRequest.created, AccessRequest.id)
        )
    )


def list_requests(
    session: Session, user: User | None, identifier: str, status: str | None = "pending"
) -> list[AccessRequest]:
    """The Dandiset's requests (pending ones unless another ``status`` is asked), for
    its owners."""
    dandiset = get_dandiset(session, identifier)
    require_owner(session, dandiset, user)
    stmt = select(AccessRequest).where(AccessRequest.dandiset_id == dandiset.id)
    if status is not None:
        try:
            stmt = stmt.where(AccessRequest.status == AccessRequestStatus(status))
        except ValueError:
            choices = ", ".join(s.value for s in AccessRequestStatus)
            raise BadRequest(f"Unknown status {status!r}; use one of: {choices}.") from None
    return list(session.scalars(stmt.order_by(AccessRequest.created, AccessRequest.id)))


def decide(
    archive: Archive,
    session: Session,
    user: User | None,
    identifier: str,
    request_id: int,
    *,
    accept: bool,
) -> AccessRequest:
    """An owner accepts (the requester becomes a reader) or declines a pending request."""
    dandiset = get_dandiset(session, identifier, lock=True)
    owner = require_owner(session, dandiset, user)
    request = session.get(AccessRequest, request_id, with_for_update={"of": AccessRequest})
    if request is None or request.dandiset_id != dandiset.id:
        raise NotFound(f"Dandiset {dandiset.identifier} has no access request {request_id}.")
    if request.status != AccessRequestStatus.PENDING:
        raise BadRequest(f"This request was already {request.status.value}.")
    requester = request.user
    if accept:
        if not may_be_granted_read_access(requester):
            raise BadRequest(
                f"{requester.username}'s account is no longer approved; it cannot be given "
                "read access. Decline the request instead."
            )
        readers.grant(session, dandiset, owner, requester)
    request.status = AccessRequestStatus.ACCEPTED if accept else AccessRequestStatus.DECLINED
    request.decided = datetime.now(UTC)
    request.decided_by = owner.id
    kind = "accept_access_request" if accept else "decline_access_request"
    audit.decide_access_request(session, dandiset.id, owner, kind, request.id, requester)
    notices.add(
        archive,
        session,
        dandiset.id,
        "access_accepted" if accept else "access_declined",
        user_id=requester.id,
        details={"request_id": request.id},
    )
    if accept:
        audit.read_access(session, dandiset.id, owner, "grant_read_access", [requester])
    return request
