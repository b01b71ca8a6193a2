"""Background jobs of embargoes: lifting one, and ending those whose end date came."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from dandi_archive.embargo import expiry
from dandi_archive.embargo import lifting as embargo
from dandi_archive.tasks.registry import job

if TYPE_CHECKING:
    from dandi_archive.instance import Archive


@job
def unembargo(archive: Archive, dandiset_id: int, user_id: int | None = None) -> None:
    embargo.unembargo(archive, dandiset_id, user_id)


@job
def lift_ended_embargoes(archive: Archive, now: str | None = None) -> None:
    """Periodic: warnings 30 and 7 days ahead, and lifting on the end date. ``now`` (an
    ISO 8601 time, as job arguments are JSON) stands in for the clock."""
    expiry.lift_ended_embargoes(archive, datetime.fromisoformat(now) if now else None)
