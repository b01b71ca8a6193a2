"""``/healthz`` says which part is unreachable; ``/metrics`` counts requests and jobs."""

from __future__ import annotations

import re
import shutil

import boto3
import pytest
from fastapi.testclient import TestClient

from dandi_archive.app import create_app
from dandi_archive.archive import build_archive

from ..conftest import make_settings


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = rf"^{re.escape(name)}\{{{re.escape(wanted)}\}} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_healthz_ok(api):
    r = api.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "checks": {"database": {"status": "ok"}, "storage": {"status": "ok"}},
    }
    assert r.headers["cache-control"] == "no-store"


def test_healthz_503_when_the_bucket_is_gone(api):
    store = api.archive.store
    if api.archive.settings.s3_bucket:
        s3 = boto3.resource(
            "s3",
            endpoint_url=api.archive.settings.s3_endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        bucket = s3.Bucket(api.archive.settings.s3_bucket)
        bucket.objects.all().delete()
        bucket.delete()
    else:
        shutil.rmtree(store.root)
    r = api.get("/healthz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "failing"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["storage"]["status"] == "failing"
    assert "bucket" in body["checks"]["storage"]["detail"]


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_healthz_503_when_the_database_is_unreachable(backend, tmp_path, request):
    settings = make_settings(backend, tmp_path / "data", request)
    settings = settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path}/no/such/folder/archive.sqlite3"}
    )
    archive = build_archive(settings, run_jobs_in_process=True)
    try:
        r = TestClient(create_app(archive)).get("/healthz")
    finally:
        archive.close()
    assert r.status_code == 503
    assert r.json()["checks"]["database"] == {
        "status": "failing",
        "detail": "the database cannot be reached",
    }
    assert r.json()["checks"]["storage"] == {"status": "ok"}


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
@pytest.mark.parametrize(
    ("broker", "healthy"), [("redis://127.0.0.1:6379/0", True), ("redis://127.0.0.1:9/0", False)]
)
def test_healthz_checks_the_broker(backend, tmp_path, request, broker, healthy):
    settings = make_settings(backend, tmp_path / "data", request, broker_url=broker)
    archive = build_archive(settings)  # a broker: jobs go to Celery
    try:
        r = TestClient(create_app(archive)).get("/healthz")
    finally:
        archive.close()
    assert r.status_code == (200 if healthy else 503)
    expected = (
        {"status": "ok"}
        if healthy
        else {
            "status": "failing",
            "detail": "the broker cannot be reached",
        }
    )
    assert r.json()["checks"]["broker"] == expected


def test_metrics_count_requests_by_route_template(api, owner, dandiset):
    before = api.get("/metrics").text
    for _ in range(3):
        assert api.get(f"/api/dandisets/{dandiset}/", owner).status_code == 200
    assert api.request("HEAD", f"/api/dandisets/{dandiset}/").status_code == 200
    assert api.get("/api/dandisets/999999/").status_code == 404
    assert api.get("/no/such/page/at/all").status_code == 404
    r = api.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    after = r.text

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    route = "/api/dandisets/{dandiset_id}/"
    requests = "dandi_archive_http_requests_total"
    assert delta(requests, method="GET", route=route, status="200") == 3
    assert delta(requests, method="HEAD", route=route, status="200") == 1
    assert delta(requests, method="GET", route=route, status="404") == 1
    assert delta(requests, method="GET", route="<unmatched>", status="404") == 1
    # Paths as sent never become labels: no series per URL.
    assert f"/{dandiset}/" not in after and "/no/such/page" not in after
    latency = "dandi_archive_http_request_duration_seconds_count"
    assert delta(latency, method="GET", route=route, status="200") == 3
    assert sample(after, "dandi_archive_job_queue_depth", queue="dandi-archive") >= 0
    assert "# TYPE dandi_archive_job_queue_depth gauge" in after


def test_metrics_count_job_runs_and_failures(api):
    before = api.get("/metrics").text
    api.archive.jobs.submit("sweep")
    api.wait_for_jobs()
    api.archive.jobs.submit("sweep", no_such_argument=1)  # the job raises a TypeError
    api.wait_for_jobs()
    after = api.get("/metrics").text

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("dandi_archive_job_runs_total", job="sweep", outcome="ok") >= 1
    assert delta("dandi_archive_job_runs_total", job="sweep", outcome="failed") == 1
    assert delta("dandi_archive_job_failures_total", job="sweep") == 1
    assert delta("dandi_archive_job_duration_seconds_count", job="sweep") >= 2
