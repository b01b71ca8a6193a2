"""The Celery application behind ``dandi-archive worker``.

Every job of the registry (:mod:`.registry`) is registered under
``dandi_archive.<name>``. Tasks are acknowledged only after they finish, so a worker
killed mid-job has the broker hand the job to another worker; beat runs the sweep that
re-queues anything still lost.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from celery import Celery

from dandi_archive.tasks.registry import JOBS, run_job

if TYPE_CHECKING:
    from dandi_archive.config import Settings
    from dandi_archive.instance import Archive


def make_celery(
    settings: Settings,
    *,
    schedule: dict[str, tuple[float, dict[str, Any]]] | None = None,
    archive_factory: Callable[[], Archive] | None = None,
) -> Celery:
    """The Celery app of this instance. Senders need only ``settings``; a worker also
    gets the periodic ``schedule`` and a factory of the archive its jobs run on, and
    registers every job of the registry (complete once the wiring has been imported)."""
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
            for name, (interval, kwargs) in (schedule or {}).items()
        },
    )
    if archive_factory is None:
        return app
    worker_archive = cache(archive_factory)
    for name in JOBS:

        def task(_name: str = name, **kwargs: Any) -> None:
            run_job(worker_archive(), _name, kwargs)

        app.task(name=f"dandi_archive.{name}")(task)
    return app
