"""The Celery application behind ``dandi-archive worker``.

Every job of :mod:`.jobs` is registered under ``dandi_archive.<name>``. Tasks are
acknowledged only after they finish, so a worker killed mid-job has the broker hand
the job to another worker; beat runs the sweep that re-queues anything still lost.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from celery import Celery

if TYPE_CHECKING:
    from dandi_archive.archive import Archive
    from dandi_archive.config import Settings


@cache
def _worker_archive() -> Archive:
    from dandi_archive.archive import build_archive
    from dandi_archive.config import Settings

    return build_archive(Settings(), run_jobs_in_process=False)


def make_celery(settings: Settings) -> Celery:
    from dandi_archive.tasks.jobs import JOBS, periodic_jobs, run_job

    app = Celery("dandi_archive", broker=settings.broker_url)
    app.conf.update(
        task_default_queue=settings.queue,
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        beat_schedule={
            name: {"task": f"dandi_archive.{name}", "schedule": interval, "kwargs": kwargs}
            for name, (interval, kwargs) in periodic_jobs(settings).items()
        },
    )
    for name in JOBS:

        def task(_name: str = name, **kwargs: Any) -> None:
            run_job(_worker_archive(), _name, kwargs)

        app.task(name=f"dandi_archive.{name}")(task)
    return app
