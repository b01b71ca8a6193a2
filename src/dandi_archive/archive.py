"""The wiring: settings turned into a running :class:`~dandi_archive.instance.Archive` —
database engines, bucket, job queue — and every domain's background jobs registered.

Only entry points (the app, the commands, tests and benchmarks) import this module;
services receive the :class:`Archive` it builds.
"""

from __future__ import annotations

from dandi_archive.assets import tasks as _asset_jobs
from dandi_archive.config import Settings
from dandi_archive.dandisets import tasks as _dandiset_jobs
from dandi_archive.dandisets.downloads import DownloadTally
from dandi_archive.db.session import Database
from dandi_archive.embargo import tasks as _embargo_jobs
from dandi_archive.instance import Archive, JobQueue
from dandi_archive.integrity import tasks as _integrity_jobs
from dandi_archive.mail import tasks as _mail_jobs
from dandi_archive.publishing import tasks as _publishing_jobs
from dandi_archive.standards import tasks as _standards_jobs
from dandi_archive.storage.base import BlobStore
from dandi_archive.zarr import tasks as _zarr_jobs

# Importing a domain's tasks registers its jobs (tasks.registry); all of them, here.
JOB_MODULES = (
    _asset_jobs,
    _dandiset_jobs,
    _embargo_jobs,
    _integrity_jobs,
    _mail_jobs,
    _publishing_jobs,
    _standards_jobs,
    _zarr_jobs,
)

__all__ = ["JOB_MODULES", "Archive", "build_archive", "build_store"]


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
        settings.folder_bucket_name,
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
    downloads = DownloadTally(db, settings.download_count_flush_seconds)
    archive = Archive(settings=settings, db=db, store=store, jobs=jobs, downloads=downloads)
    if isinstance(jobs, InProcessQueue):
        jobs.bind(archive)
    return archive
