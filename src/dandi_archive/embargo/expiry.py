"""Embargoes end on their end date: warn the owners before, lift them on the day.

A periodic job (``lift_ended_embargoes``, scheduled with the sweep) looks at every
embargoed Dandiset. Thirty and seven days before its end date it queues a warning in
the embargo outbox (``embargo.notices``, once per end date); on the end date (the
metadata's ``access[0].embargoedUntil``) it starts lifting the embargo, exactly as
an owner's Unembargo does, and queues an ``embargo_lifted`` notice.

Unfinished uploads do not hold an ended embargo up (an owner's own Unembargo asks for
them to be finished first): what they store later is made public when it joins an
asset of the now open Dandiset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from dandi_archive.db.models import Dandiset, EmbargoStatus
from dandi_archive.embargo import notices

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.instance import Archive

# Days before the end date -> the warning queued from that day on (the nearest wins).
WARNINGS: tuple[tuple[int, notices.Kind], ...] = (
    (7, "embargo_ends_in_7_days"),
    (30, "embargo_ends_in_30_days"),
)


@dataclass
class ExpiryRun:
    """What one run did (identifiers), for logs and tests."""

    lifted: list[str] = field(default_factory=list)
    warned: list[tuple[str, str]] = field(default_factory=list)


def warning_due(end: date, today: date) -> notices.Kind | None:
    """The warning an embargo ending on ``end`` calls for ``today``, if any."""
    for days, kind in WARNINGS:
        if end - timedelta(days=days) <= today < end:
            return kind
    return None


def lift_ended_embargoes(archive: Archive, now: datetime | None = None) -> ExpiryRun:
    """Warn about embargoes ending soon and lift those that ended, as of ``now``."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    run = ExpiryRun()
    with archive.db.session(write=True) as session:
        candidates = session.scalars(
            select(Dandiset.id).where(
                Dandiset.embargo_status == EmbargoStatus.EMBARGOED,
                Dandiset.embargo_end_date.is_not(None),
                Dandiset.embargo_end_date <= today + timedelta(days=max(d for d, _ in WARNINGS)),
            )
        ).all()
    for dandiset_id in candidates:
        # One transaction each: a Dandiset that fails to lift does not hold up the others.
        with archive.db.session(write=True) as session:
            _one(archive, session, dandiset_id, today, run)
    return run


def _one(archive: Archive, session: Session, dandiset_id: int, today: date, run: ExpiryRun) -> None:
    dandiset = session.get(Dandiset, dandiset_id, with_for_update=True)
    if dandiset is None or dandiset.embargo_status != EmbargoStatus.EMBARGOED:
        return  # lifted or deleted meanwhile
    end = dandiset.embargo_end_date
    if end is None:
        return
    if end <= today:
        dandiset.embargo_status = EmbargoStatus.UNEMBARGOING
        notices.add(archive, session, dandiset.id, "embargo_lifted", about_date=end)
        archive.defer(session, "unembargo", dandiset_id=dandiset.id)
        run.lifted.append(dandiset.identifier)
        return
    kind = warning_due(end, today)
    if kind is not None and notices.add(
        archive, session, dandiset.id, kind, about_date=end, details={"ends": end.isoformat()}
    ):
        run.warned.append((dandiset.identifier, kind))
