"""The embargo outbox: what owners or requesters should be told, kept in a table.

Nothing here sends mail. Every notice is written in the transaction of the change it
is about (so a refused change leaves none), with ``sent`` empty; whatever delivers them
reads :func:`unsent` and calls :func:`mark_sent` once a notice went out.

Kinds, and whom they are for:

- ``access_requested``: a user asked to read the Dandiset (for its owners);
- ``access_accepted`` / ``access_declined``: the owners' answer (for the requester);
- ``embargo_ends_in_30_days`` / ``embargo_ends_in_7_days``: the embargo ends on
  ``about_date`` and the Dandiset then opens to everyone (for its owners);
- ``embargo_lifted``: the embargo ended and the Dandiset is being opened (for its owners).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select

from dandi_archive.db.models import EmbargoNotice
from dandi_archive.db.upsert import dialect_insert

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Kind = Literal[
    "access_requested",
    "access_accepted",
    "access_declined",
    "embargo_ends_in_30_days",
    "embargo_ends_in_7_days",
    "embargo_lifted",
]


def add(
    session: Session,
    dandiset_id: int,
    kind: Kind,
    *,
    user_id: int | None = None,
    about_date: date | None = None,
    details: dict[str, Any] | None = None,
) -> bool:
    """Queue a notice; False if it was queued before. One with an ``about_date`` is
    queued once per Dandiset, kind and date (a job that runs twice, or two at once,
    warns once)."""
    values = {
        "dandiset_id": dandiset_id,
        "kind": kind,
        "user_id": user_id,
        "about_date": about_date,
        "details": details or {},
        "created": datetime.now(UTC),
    }
    stmt = dialect_insert(session, EmbargoNotice).values(**values)
    if about_date is not None:
        stmt = stmt.on_conflict_do_nothing()
    # RETURNING, not rowcount: the drivers do not agree on rowcount of a skipped insert.
    return session.execute(stmt.returning(EmbargoNotice.id)).scalar() is not None


def unsent(session: Session, limit: int = 100) -> list[EmbargoNotice]:
    """Notices not yet delivered, oldest first."""
    return list(
        session.scalars(
            select(EmbargoNotice)
            .where(EmbargoNotice.sent.is_(None))
            .order_by(EmbargoNotice.id)
            .limit(limit)
        )
    )


def mark_sent(session: Session, notice_id: int, when: datetime | None = None) -> None:
    notice = session.get(EmbargoNotice, notice_id, with_for_update=True)
    if notice is not None and notice.sent is None:
        notice.sent = when or datetime.now(UTC)
