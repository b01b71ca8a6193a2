"""Reading the audit history: one Dandiset's (for those who may read it) and the
administrators' feed of asset events (upstream's ``/api/audit/events/asset``)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, func, or_, select

from dandi_archive.access.permissions import is_owner, require_readable
from dandi_archive.audit.events import ACCESS_KINDS, ASSET_KINDS, KINDS
from dandi_archive.db.models import AuditEvent, Dandiset, User
from dandi_archive.errors import BadRequest, NotAuthenticated, NotFound, PermissionDenied

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def public_record(event: AuditEvent) -> dict[str, Any]:
    """An event as shown: the actor by username and name, never by address."""
    return {
        "id": event.id,
        "dandiset_id": event.dandiset_id,
        "timestamp": event.created,
        "record_type": event.kind,
        "user": {"username": event.username, "name": event.user_name} if event.username else None,
        "details": event.details,
    }


def _require_admin(user: User | None, what: str) -> User:
    if user is None:
        raise NotAuthenticated()
    if not user.is_admin:
        raise PermissionDenied(f"Only administrators can see {what}.")
    return user


def dandiset_history(
    session: Session, user: User | None, dandiset_id: int, kind: str | None
) -> Select:
    """Events of a Dandiset, newest first. A deleted Dandiset's history (its embargo is
    no longer known) is shown to administrators only."""
    dandiset = session.get(Dandiset, dandiset_id)
    if dandiset is not None:
        require_readable(session, dandiset, user)
    elif user is None or not user.is_admin:
        raise NotFound(f"Dandiset {dandiset_id:06d} does not exist.")
    stmt = select(AuditEvent).where(AuditEvent.dandiset_id == dandiset_id)
    if not is_owner(session, dandiset_id, user):
        # Who was let read it, and who asked to, is for its owners (and admins) to see.
        stmt = stmt.where(AuditEvent.kind.not_in(ACCESS_KINDS))
    if kind is not None:
        if kind not in KINDS:
            raise BadRequest(f"Unknown kind {kind!r}; use one of: {', '.join(KINDS)}.")
        stmt = stmt.where(AuditEvent.kind == kind)
    return stmt.order_by(AuditEvent.created.desc(), AuditEvent.id.desc())


def count(session: Session, stmt: Select) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


# -- the administrators' asset feed --------------------------------------------------------


@dataclass
class Cursor:
    """A position in the feed: after (or, going back, before) this event."""

    created: datetime
    id: int
    backwards: bool = False

    def encode(self) -> str:
        raw = json.dumps({"t": self.created.isoformat(), "i": self.id, "b": self.backwards})
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = json.loads(base64.urlsafe_b64decode(text.encode()))
            return cls(datetime.fromisoformat(raw["t"]), int(raw["i"]), bool(raw["b"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise BadRequest("Invalid cursor.") from None


@dataclass
class FeedPage:
    events: list[AuditEvent]
    next: Cursor | None
    previous: Cursor | None


def asset_feed(
    session: Session,
    user: User | None,
    *,
    before: datetime | None,
    after: datetime | None,
    reverse_order: bool,
    cursor: str | None,
    page_size: int,
) -> FeedPage:
    """Asset events by time (newest first with ``reverse_order``), keyset-paginated."""
    _require_admin(user, "the audit feed")
    stmt = select(AuditEvent).where(AuditEvent.kind.in_(ASSET_KINDS))
    if before is not None:
        stmt = stmt.where(AuditEvent.created <= before)
    if after is not None:
        stmt = stmt.where(AuditEvent.created >= after)
    position = Cursor.decode(cursor) if cursor else None
    backwards = position.backwards if position else False
    descending = reverse_order != backwards
    if position is not None:
        later = or_(
            AuditEvent.created > position.created,
            and_(AuditEvent.created == position.created, AuditEvent.id > position.id),
        )
        earlier = or_(
            AuditEvent.created < position.created,
            and_(AuditEvent.created == position.created, AuditEvent.id < position.id),
        )
        stmt = stmt.where(earlier if descending else later)
    keys = (AuditEvent.created, AuditEvent.id)
    stmt = stmt.order_by(*(k.desc() if descending else k.asc() for k in keys))
    rows = list(session.scalars(stmt.limit(page_size + 1)))
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()
    if not rows:
        return FeedPage([], None, None)
    first, last = rows[0], rows[-1]
    has_next = more if not backwards else True
    has_previous = more if backwards else position is not None
    return FeedPage(
        rows,
        Cursor(last.created, last.id) if has_next else None,
        Cursor(first.created, first.id, backwards=True) if has_previous else None,
    )


def feed_record(event: AuditEvent) -> dict[str, Any]:
    """Upstream's shape of an asset event (no metadata, no actor)."""
    return {
        "id": event.id,
        "dandiset_id": event.dandiset_id,
        "timestamp": event.created,
        "record_type": event.kind,
        "details": event.details,
    }
