"""kill -9 in the middle of a publish: afterwards there is either no new version or a
complete one, and the restarted server finishes the job with the version id planned."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from .test_dandi_client import DANDISET_METADATA, wait_until_valid


def add_text_asset(live, dandiset: str, path: str, data: bytes) -> None:
    import httpx

    init = live.initialize_upload(dandiset, data)

    part = init["parts"][0]
    etag = httpx.put(part["upload_url"], content=data).headers["ETag"].strip('"')
    done = live.api(
        "POST",
        f"/uploads/{init['upload_id']}/complete/",
        json={"parts": [{"part_number": 1, "size": len(data), "etag": etag}]},
    ).json()
    httpx.post(done["complete_url"], content=done["body"])
    blob = live.api("POST", f"/uploads/{init['upload_id']}/validate/").json()["blob_id"]
    metadata = {"path": path, "schemaKey": "Asset", "encodingFormat": "text/plain"}
    r = live.api(
        "POST",
        f"/dandisets/{dandiset}/versions/draft/assets/",
        json={"metadata": metadata, "blob_id": blob},
    )
    assert r.status_code == 200, r.text


def assert_status(response, status: int) -> None:
    assert response.status_code == status, response.text


@pytest.mark.parametrize("live_archive", ["postgres-s3"], indirect=True)
def test_kill_during_publish_then_resume(live_archive):
    live = live_archive
    r = live.api("POST", "/dandisets/", json={"name": "Crash test", "metadata": DANDISET_METADATA})
    dandiset = r.json()["identifier"]
    for n in range(5):
        add_text_asset(live, dandiset, f"file{n}.txt", f"content {n}".encode())
    wait_until_valid(live, dandiset)

    # The publish job creates the version and its asset links, then waits to copy the
    # folder totals: killed there.
    live.kill_while_blocked(
        "folders",
        lambda: assert_status(
            live.api("POST", f"/dandisets/{dandiset}/versions/draft/publish/"), 202
        ),
        "the publish job",
    )
    engine = create_engine(live.env["DANDI_ARCHIVE_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT version, status, publish_request FROM versions")).all()
        assert [(v, s) for v, s, _ in rows] == [("draft", "Publishing")]
        planned = rows[0][2]["version"]
        assert conn.execute(text("SELECT count(*) FROM version_assets")).scalar() == 5
        assert conn.execute(text("SELECT count(*) FROM folders")).scalar() == 1  # draft's root

    live.start()  # the start-up sweep resumes the publish
    deadline = time.monotonic() + 60
    while (
        live.api("GET", f"/dandisets/{dandiset}/").json()["draft_version"]["status"] != "Published"
    ):
        assert time.monotonic() < deadline, "the publish was not resumed"
        time.sleep(0.3)
    versions = live.api("GET", f"/dandisets/{dandiset}/versions/").json()["results"]
    assert [(v["version"], v["asset_count"]) for v in versions] == [("draft", 5), (planned, 5)]
    engine.dispose()
