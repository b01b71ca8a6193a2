"""Metrics of several processes add up: ``serve --workers 2`` and a Celery worker
sharing ``PROMETHEUS_MULTIPROC_DIR``, scraped through whichever process answers."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.fixture
def multiproc_dir(tmp_path, monkeypatch):
    """Set before the archive's processes start (the live archive copies os.environ)."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    return folder


def count(text: str, route: str) -> float:
    found = re.search(
        rf'^dandi_archive_http_requests_total\{{method="GET",route="{re.escape(route)}",'
        rf'status="200"\}} (\S+)$',
        text,
        re.MULTILINE,
    )
    return float(found.group(1)) if found else 0.0


@pytest.mark.parametrize("live_archive", ["postgres-s3-redis"], indirect=True)
def test_every_scrape_counts_the_requests_of_all_processes(multiproc_dir, live_archive):
    url = live_archive.url
    with httpx.Client() as client:
        before = count(client.get(f"{url}/metrics").text, "/api/stats/")
        for _ in range(40):  # new connections: spread over both server processes
            assert httpx.get(f"{url}/api/stats/").status_code == 200
        scrapes = [httpx.get(f"{url}/metrics").text for _ in range(6)]
    assert len(list(multiproc_dir.glob("*.db"))) >= 2  # files of more than one process
    for text in scrapes:
        assert count(text, "/api/stats/") - before == 40
        assert "dandi_archive_job_queue_depth" in text
