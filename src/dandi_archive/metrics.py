"""The archive's Prometheus metrics: the objects every layer counts into.

Defined once here, at the bottom of the layers, so the HTTP middleware and the job
runner (infrastructure) can both count without importing each other. With
``PROMETHEUS_MULTIPROC_DIR`` set *before* the process starts, prometheus-client keeps
the values in files of that folder, one per process, and a scrape of any API process
adds up all of them (:func:`exposition`): several ``serve --workers`` processes, and
Celery workers on the same host, then report as one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

# Request latencies: a page or JSON answer takes milliseconds, a large listing seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

HTTP_REQUESTS = Counter(
    "dandi_archive_http_requests",
    "HTTP requests answered, by method, route template and status",
    ("method", "route", "status"),
)
HTTP_LATENCY = Histogram(
    "dandi_archive_http_request_duration_seconds",
    "Time from a request's arrival to the last byte of its answer",
    ("method", "route", "status"),
    buckets=LATENCY_BUCKETS,
)
JOB_RUNS = Counter(
    "dandi_archive_job_runs",
    "Background jobs finished, by job name and outcome (ok or failed)",
    ("job", "outcome"),
)
JOB_FAILURES = Counter(
    "dandi_archive_job_failures",
    "Background jobs that raised an error (after retrying lost lock conflicts)",
    ("job",),
)
JOB_LATENCY = Histogram(
    "dandi_archive_job_duration_seconds",
    "How long a background job ran",
    ("job",),
    buckets=JOB_BUCKETS,
)


def multiprocess_dir() -> str | None:
    """The folder shared by the processes whose metrics add up, if one is configured."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


class QueueDepth(Collector):
    """The number of jobs waiting, read from the queue at each scrape (a value of now,
    not one kept by any process, so it is never summed across processes)."""

    def __init__(self, measure: Callable[[], int | None], queue: str) -> None:
        self.measure = measure
        self.queue = queue

    def collect(self) -> Iterable[GaugeMetricFamily]:
        depth = self.measure()
        if depth is None:  # the broker cannot say (unreachable): no sample, not a zero
            return []
        family = GaugeMetricFamily(
            "dandi_archive_job_queue_depth",
            "Background jobs waiting to start",
            labels=("queue",),
        )
        family.add_metric((self.queue,), depth)
        return [family]


def exposition(extra: Iterable[Collector] = ()) -> tuple[bytes, str]:
    """The text format of every metric (all processes' in multiprocess mode) and its
    content type."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Default(Collector):
    """The process-wide registry, seen through a registry of one scrape (so per-scrape
    collectors never stay registered globally)."""

    def collect(self) -> Iterable:
        return REGISTRY.collect()
