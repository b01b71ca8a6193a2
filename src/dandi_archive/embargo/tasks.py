"""Background jobs of embargoes: lifting one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dandi_archive.embargo import lifting as embargo
from dandi_archive.tasks.registry import job

if TYPE_CHECKING:
    from dandi_archive.instance import Archive


@job
def unembargo(archive: Archive, dandiset_id: int, user_id: int | None = None) -> None:
    embargo.unembargo(archive, dandiset_id, user_id)
