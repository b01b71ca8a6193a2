"""Concurrent changes: no 5xx, no deadlock, and an archive that holds together afterwards.

Requests go through the ASGI app from several threads at once; sync routes run on the
server's thread pool, so their transactions really overlap on PostgreSQL (on the
embedded default SQLite serialises them). Deadlocks are counted by PostgreSQL itself
(``pg_stat_database.deadlocks``), so one that was retried away still fails the test.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from dandi_archive.integrity import consistency

from ..helpers import DANDISET_METADATA


def deadlocks(api) -> int:
    if api.archive.db.is_sqlite:
        return 0
    time.sleep(1.2)  # PostgreSQL publishes a backend's statistics at most once a second
    with api.archive.db.engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return conn.scalar(
            text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        )


def run_together(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def assert_no_server_errors(responses: list[httpx.Response]) -> Counter:
    statuses = Counter(r.status_code for r in responses)
    errors = [r.text for r in responses if r.status_code >= 500]
    assert not errors, (statuses, errors[:3])
    return statuses


@pytest.fixture
def settled(api, caplog):
    """After the test: jobs done without failing, no deadlock, the archive consistent."""
    deadlocks_before = deadlocks(api)
    with caplog.at_level(logging.ERROR, logger="dandi_archive"):
        yield
        api.wait_for_jobs()
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures == []
    assert consistency.check(api.archive, settled=True) == []
    assert deadlocks(api) == deadlocks_before


def test_add_and_delete_the_same_asset_at_once(api, settled):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    assets = f"/api/dandisets/{dandiset}/versions/draft/assets/"
    responses = []
    for i in range(12):
        blob_id = api.upload(key, dandiset, f"content {i}".encode())
        asset = api.post(
            assets, key, json={"metadata": {"path": f"a{i}.txt"}, "blob_id": blob_id}
        ).json()
        # The validation jobs of the new asset run while it is deleted and re-added.
        responses += run_together(
            [
                lambda a=asset: api.delete(f"{assets}{a['asset_id']}/", key),
                lambda b=blob_id, i=i: api.post(
                    assets, key, json={"metadata": {"path": f"b{i}.txt"}, "blob_id": b}
                ),
            ]
        )
    assert_no_server_errors(responses)
    assert {r.status_code for r in responses} == {200, 204}


def test_deleting_a_dandiset_while_assets_are_added(api, settled):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    blobs = [api.upload(key, dandiset, f"file {i}".encode()) for i in range(8)]
    assets = f"/api/dandisets/{dandiset}/versions/draft/assets/"
    adds = [
        lambda i=i, b=b: api.post(
            assets, key, json={"metadata": {"path": f"f{i}.txt"}, "blob_id": b}
        )
        for i, b in enumerate(blobs)
    ]
    responses = run_together(
        [*adds[:4], lambda: api.delete(f"/api/dandisets/{dandiset}/", key), *adds[4:]]
    )
    statuses = assert_no_server_errors(responses)
    # Each addition either came first or found the Dandiset gone.
    assert set(statuses) <= {200, 204, 404}, statuses
    assert api.get(f"/api/dandisets/{dandiset}/").status_code == 404


def test_concurrent_metadata_edits_and_publishes(api, settled):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    api.add_asset(key, dandiset, "sub-01/data.nwb", b"nwb bytes")
    api.wait_for_jobs()
    url = f"/api/dandisets/{dandiset}/versions/draft/"

    def edit(i: int) -> httpx.Response:
        metadata = {**DANDISET_METADATA, "description": f"edit {i}"}
        return api.put(url, key, json={"name": f"Name {i}", "metadata": metadata})

    responses = run_together(
        [lambda i=i: edit(i) for i in range(6)]
        + [lambda: api.post(f"{url}publish/", key) for _ in range(3)]
    )
    assert_no_server_errors(responses)


def test_concurrent_uploads_of_the_same_content(api, settled):
    owners = [api.make_user(f"u{i}@example.org") for i in range(4)]
    dandisets = [api.create_dandiset(k, name=f"D{i}") for i, k in enumerate(owners)]
    data = b"the same bytes, uploaded four times at once" * 100

    def upload(i: int) -> str:
        return api.upload(owners[i], dandisets[i], data)

    with ThreadPoolExecutor(4) as pool:
        blob_ids = list(pool.map(upload, range(4)))
    assert len(set(blob_ids)) == 1  # one blob, however the uploads interleaved
    api.wait_for_jobs()
    assert len(list(api.archive.store.list_keys("blobs/"))) == 1
