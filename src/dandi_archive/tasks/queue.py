"""Where background jobs run.

:class:`InProcessQueue` runs them on a small thread pool inside the serving process
(the embedded default); :class:`CeleryQueue` sends them to Celery workers over Redis or
RabbitMQ. Both take the same job names and keyword arguments, so services never know
which one they talk to. Jobs are idempotent: running one twice is harmless.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dandi_archive.config import Settings
    from dandi_archive.instance import Archive

log = logging.getLogger(__name__)

BROKER_TIMEOUT = 3.0  # seconds; a health check or a scrape must answer while it is down


def _queue_missing(exc: Exception) -> bool:
    """A passive declare of a queue that does not exist (AMQP 404, kombu's NotFound)."""
    return getattr(exc, "code", None) == 404 or type(exc).__name__ in ("NotFound", "ChannelError")


class InProcessQueue:
    """A thread pool that skips a job identical to one still waiting to start."""

    def __init__(self, workers: int = 2) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="dandi-job")
        self._lock = threading.Condition()
        self._waiting: set[tuple[str, tuple[tuple[str, Any], ...]]] = set()
        self._running = 0
        self._archive: Archive | None = None
        self._stop = threading.Event()

    def bind(self, archive: Archive) -> None:
        self._archive = archive

    def submit(self, job: str, **kwargs: Any) -> None:
        key = (job, tuple(sorted(kwargs.items())))
        with self._lock:
            if key in self._waiting or self._stop.is_set():
                return
            self._waiting.add(key)
        self._executor.submit(self._run, key, job, kwargs)

    def _run(self, key: tuple, job: str, kwargs: dict[str, Any]) -> None:
        from dandi_archive.tasks.registry import run_job

        with self._lock:
            # Leave the waiting set before starting: a change made while this job runs
            # must be able to queue another run.
            self._waiting.discard(key)
            self._running += 1
        try:
            assert self._archive is not None, "InProcessQueue.bind() was not called"
            run_job(self._archive, job, kwargs)
        except Exception:
            log.exception("job %s(%s) failed", job, kwargs)
        finally:
            with self._lock:
                self._running -= 1
                self._lock.notify_all()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no job waits or runs (for tests, benchmarks and shutdown)."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._waiting and not self._running, timeout)

    def start_schedule(self, schedule: dict[str, tuple[float, dict[str, Any]]]) -> None:
        """Submit each job of ``schedule`` (name -> (interval, kwargs)) periodically."""
        for job, (interval, kwargs) in schedule.items():

            def loop(job: str = job, interval: float = interval, kwargs: dict = kwargs) -> None:
                while not self._stop.wait(interval):
                    self.submit(job, **kwargs)

            threading.Thread(target=loop, name=f"dandi-{job}", daemon=True).start()

    def depth(self) -> int | None:
        """Jobs waiting to start in this process."""
        with self._lock:
            return len(self._waiting)

    def problem(self) -> str | None:
        return "stopped" if self._stop.is_set() else None

    def shutdown(self) -> None:
        self._stop.set()
        self._executor.shutdown(wait=True, cancel_futures=True)


class CeleryQueue:
    """Sends jobs to Celery workers (``dandi-archive worker``)."""

    def __init__(self, settings: Settings) -> None:
        from dandi_archive.tasks.celery_app import make_celery

        self.app = make_celery(settings)
        self.queue = settings.queue

    def submit(self, job: str, **kwargs: Any) -> None:
        self.app.send_task(f"dandi_archive.{job}", kwargs=kwargs)

    def depth(self) -> int | None:
        """Messages waiting in the broker's queue; None when the broker cannot say."""
        try:
            with self.app.connection_for_read(connect_timeout=BROKER_TIMEOUT) as conn:
                conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
                declared = conn.default_channel.queue_declare(queue=self.queue, passive=True)
                return int(declared.message_count)
        except Exception as exc:
            if _queue_missing(exc):
                return 0  # no worker has declared it yet, so nothing was ever queued
            log.debug("queue depth unknown: %s", exc)
            return None

    def problem(self) -> str | None:
        """Why the broker cannot take jobs right now, or None."""
        try:
            with self.app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as conn:
                conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
        except Exception as exc:
            log.warning("broker unreachable: %s", exc)
            return "the broker cannot be reached"
        return None

    def shutdown(self) -> None:
        pass
