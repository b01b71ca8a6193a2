"""Whole-draft validation is coalesced: adding many assets queues a bounded number of
draft runs (at most one queued or running per draft), whatever the queue, so a draft
is Valid soon after its last upload instead of after a backlog of one run per asset."""

from __future__ import annotations

from collections import Counter
from typing import Any

from dandi_archive.tasks.registry import run_job

ASSET = {"schemaKey": "Asset", "encodingFormat": "text/plain"}


class HeldQueue:
    """A queue like Celery's (no de-duplication) whose jobs run only when drained."""

    def __init__(self) -> None:
        self.waiting: list[tuple[str, dict[str, Any]]] = []
        self.submitted: Counter[str] = Counter()

    def submit(self, job: str, **kwargs: Any) -> None:
        self.submitted[job] += 1
        self.waiting.append((job, kwargs))

    def drain(self, archive) -> Counter[str]:
        ran: Counter[str] = Counter()
        while self.waiting:
            job, kwargs = self.waiting.pop(0)
            ran[job] += 1
            run_job(archive, job, kwargs)
        return ran

    def shutdown(self) -> None:
        pass


def info(api, dandiset: str) -> dict:
    return api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()


def test_many_assets_cost_a_bounded_number_of_draft_runs(api):
    key = api.make_user()
    queue = HeldQueue()
    api.archive.jobs = queue
    dandiset = api.create_dandiset(key)
    files = 25
    for n in range(files):
        api.add_asset(key, dandiset, f"sub-{n}/file.txt", f"file {n}".encode(), ASSET)
    ran = queue.drain(api.archive)
    assert ran["validate_asset"] >= files
    # One run at creation, one after the assets' validation; the rest coalesced.
    assert queue.submitted["validate_version"] <= 3, queue.submitted
    draft = info(api, dandiset)
    assert draft["status"] == "Valid", draft
    assert draft["asset_validation_errors"] == []
    assert draft["metadata"]["assetsSummary"]["numberOfFiles"] == files


def test_a_change_during_a_run_is_validated_by_a_run_after_it(api):
    key = api.make_user()
    queue = HeldQueue()
    api.archive.jobs = queue
    dandiset = api.create_dandiset(key)
    queue.drain(api.archive)
    assert info(api, dandiset)["status"] == "Valid"

    # An edit queues one run; a second edit while it waits queues none.
    url = f"/api/dandisets/{dandiset}/versions/draft/"
    metadata = info(api, dandiset)["metadata"]
    for description in ("first edit", "second edit"):
        r = api.put(
            url, key, json={"name": "Edited", "metadata": {**metadata, "description": description}}
        )
        assert r.status_code == 200, r.text
    assert [job for job, _ in queue.waiting].count("validate_version") == 1

    # A change that lands while the run is under way: the run drops its verdict and
    # queues the next one itself.
    from dandi_archive.dandisets import metadata as md
    from dandi_archive.dandisets import tasks as dandiset_jobs

    real = md.validate_version_metadata

    def edit_meanwhile(document):
        api.archive.jobs = queue  # the edit's run, if any, is recorded
        r = api.put(
            url, key, json={"name": "Edited", "metadata": {**metadata, "description": "third"}}
        )
        assert r.status_code == 200, r.text
        return real(document)

    queue.waiting.clear()
    version_id = _draft_id(api, dandiset)
    md.validate_version_metadata = edit_meanwhile
    try:
        dandiset_jobs.validate_version(api.archive, version_id)
    finally:
        md.validate_version_metadata = real
    assert [job for job, _ in queue.waiting] == ["validate_version"]
    assert info(api, dandiset)["status"] == "Pending"
    queue.drain(api.archive)
    draft = info(api, dandiset)
    assert draft["status"] == "Valid"
    assert draft["metadata"]["description"] == "third"


def _draft_id(api, dandiset: str) -> int:
    from sqlalchemy import select

    from dandi_archive.db.models import Version

    with api.archive.db.session() as session:
        return session.scalar(
            select(Version.id).where(
                Version.dandiset_id == int(dandiset), Version.version == "draft"
            )
        )
