"""What every service and job receives: one archive instance's settings, database,
bucket and job queue (built by :mod:`dandi_archive.archive`, the wiring).

Services take an :class:`Archive` instead of building their own engines or clients,
so tests and commands can hand in a differently configured one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from dandi_archive.config import Settings
from dandi_archive.db.session import Database, after_commit
from dandi_archive.storage.base import BlobStore


class JobQueue(Protocol):
    """Where background jobs go: in-process threads or Celery (see dandi_archive.tasks)."""

    def submit(self, job: str, **kwargs: Any) -> None: ...

    def depth(self) -> int | None:
        """Jobs waiting to start, or None if that cannot be known now."""
        ...

    def problem(self) -> str | None:
        """Why jobs cannot be queued right now (for health checks), or None."""
        ...

    def shutdown(self) -> None: ...


class Tally(Protocol):
    """Counts kept in memory and written in batches (see dandisets.downloads)."""

    def add(self, keys: Iterable[int]) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class Archive:
    settings: Settings
    db: Database
    store: BlobStore
    jobs: JobQueue
    downloads: Tally

    def defer(self, session: Session, job: str, **kwargs: Any) -> None:
        """Queue a background job once ``session`` commits (never if it rolls back)."""
        after_commit(session, lambda _s: self.jobs.submit(job, **kwargs))

    def close(self) -> None:
        self.downloads.close()
        self.jobs.shutdown()
        self.db.dispose()
