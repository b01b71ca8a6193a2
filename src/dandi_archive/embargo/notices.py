"""What owners or requesters of an embargoed Dandiset are told, kept in a table.

Every notice is written in the transaction of the change it is about (so a refused
change leaves none) and handed at once to the mail outbox of that same transaction
(:mod:`dandi_archive.mail`), which sends it after commit; ``sent`` records the hand-over.
The table also keeps each warning once per end date, however often the check runs.

Kinds, and whom they are for:

- ``access_requested``: a user asked to read the Dandiset (for its owners);
- ``access_accepted`` / ``access_declined``: the owners' answer (for the requester);
- ``embargo_ends_in_30_days`` / ``embargo_ends_in_7_days``: the embargo ends on
  ``about_date`` and the Dandiset then opens to everyone (for its owners);
- ``embargo_lifted``: the embargo ended and the Dandiset is being opened (for its owners;
  no mail of its own: the unembargo tells the owners when the Dandiset is open).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select

from dandi_archive.access.permissions import is_active
from dandi_archive.dandisets.dandisets import draft_of
from dandi_archive.db.models import Dandiset, EmbargoNotice, User
from dandi_archive.db.upsert import dialect_insert
from dandi_archive.mail import notices as mail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.instance import Archive

Kind = Literal[
    "access_requested",
    "access_accepted",
    "access_declined",
    "embargo_ends_in_30_days",
    "embargo_ends_in_7_days",
    "embargo_lifted",
]


def add(
    archive: Archive,
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
    notice_id = session.execute(stmt.returning(EmbargoNotice.id)).scalar()
    if notice_id is None:
        return False
    notice = session.get(EmbargoNotice, notice_id)
    assert notice is not None
    _mail(archive, session, notice)
    notice.sent = datetime.now(UTC)
    return True


def _mail(archive: Archive, session: Session, notice: EmbargoNotice) -> None:
    """Put the notice's mails in the outbox of this transaction."""
    dandiset = session.get(Dandiset, notice.dandiset_id)
    user = session.get(User, notice.user_id) if notice.user_id is not None else None
    if dandiset is None or notice.kind == "embargo_lifted":
        return
    name = draft_of(session, dandiset).name
    owners = [owner for owner in dandiset.owners if is_active(owner)]
    if notice.kind == "access_requested" and user is not None:
        message = str(notice.details.get("message") or "")
        mail.access_requested(archive, session, dandiset, name, owners, user, message)
    elif notice.kind in ("access_accepted", "access_declined") and user is not None:
        accepted = notice.kind == "access_accepted"
        mail.access_answered(archive, session, dandiset, name, user, accepted)
    elif notice.kind.startswith("embargo_ends_in_") and notice.about_date is not None:
        ends = notice.about_date.isoformat()
        mail.embargo_ends_soon(archive, session, dandiset, name, owners, ends)


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
