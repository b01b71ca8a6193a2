"""The job registry: every background job by name, and how one is run.

Jobs live with their domain (``<domain>/tasks.py``) and register here with :func:`job`.
Each takes the archive and JSON-friendly keyword arguments, opens its own short
transactions, and does nothing if its work is already done, so running one twice is
harmless. Queues (:mod:`.queue`) only know names; the wiring (``archive.py``) imports
every domain's tasks so that the registry is complete wherever jobs run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_random_exponential

from dandi_archive import metrics
from dandi_archive.db.locking import is_transient

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

log = logging.getLogger(__name__)

JOBS: dict[str, Callable[..., None]] = {}


def job(fn: Callable[..., None]) -> Callable[..., None]:
    JOBS[fn.__name__] = fn
    return fn


# A job that lost a lock conflict was rolled back whole; being idempotent, it is simply
# run again, after a randomised pause so that the two contenders do not meet again.
_retry_transient = retry(
    retry=retry_if_exception(is_transient),
    wait=wait_random_exponential(multiplier=0.05, max=2),
    stop=stop_after_attempt(6),
    reraise=True,
    before_sleep=lambda state: log.info(
        "job retried after a lock conflict (attempt %d)", state.attempt_number
    ),
)


def run_job(archive: Archive, name: str, kwargs: dict[str, Any]) -> None:
    """Run one job (retrying lost lock conflicts), counted in the metrics by outcome."""
    started = time.perf_counter()
    try:
        _retry_transient(JOBS[name])(archive, **kwargs)
    except Exception:
        metrics.JOB_FAILURES.labels(name).inc()
        metrics.JOB_RUNS.labels(name, "failed").inc()
        raise
    finally:
        metrics.JOB_LATENCY.labels(name).observe(time.perf_counter() - started)
    metrics.JOB_RUNS.labels(name, "ok").inc()
