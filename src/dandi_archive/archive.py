"""The running instance: settings, database, bucket and job queue, wired together once.

Everything else receives an :class:`Archive` instead of building its own engines or
clients, so tests and commands can hand in a differently configured one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from dandi_archive.config import Settings
from dandi_archive.db.session import Database, after_commit
from dandi_archive.storage.base import BlobStore
from dandi_archive.tasks.queue import JobQueue


@dataclass
class Archive:
    settings: Settings
    db: Database
    store: BlobStore
    jobs: JobQueue

    def defer(self, session: Session, job: str, **kwargs: Any) -> None:
        """Queue a background job once ``session`` commits (never if it rolls back)."""
        after_commit(session, lambda _s: self.jobs.submit(job, **kwargs))

    def close(self) -> None:
        self.jobs.shutdown()
        self.db.dispose()


def build_store(settings: Settings) -> BlobStore:
    if settings.s3_bucket:
        from dandi_archive.storage.s3 import S3Store

        return S3Store(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )
    from dandi_archive.storage.folder import FolderStore
    from dandi_archive.storage.signing import UrlSigner

    return FolderStore(
        settings.bucket_dir,
        settings.data_dir / "multipart",
        settings.public_url,
        UrlSigner(settings.signing_key),
    )


def build_archive(settings: Settings, *, run_jobs_in_process: bool | None = None) -> Archive:
    """Connect to the configured engines. Jobs run in-process unless a broker is set."""
    from dandi_archive.tasks.queue import CeleryQueue, InProcessQueue

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    store = build_store(settings)
    in_process = not settings.broker_url if run_jobs_in_process is None else run_jobs_in_process
    jobs: JobQueue = (
        InProcessQueue(settings.in_process_workers) if in_process else CeleryQueue(settings)
    )
    archive = Archive(settings=settings, db=db, store=store, jobs=jobs)
    if isinstance(jobs, InProcessQueue):
        jobs.bind(archive)
    return archive
