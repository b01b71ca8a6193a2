"""Publishing: immutable versions, what can block a publish, and crash recovery."""

from __future__ import annotations

import re

import pytest

from dandi_archive.db.models import Version, VersionStatus
from dandi_archive.publishing.publish import next_version_id

from ..helpers import publish, valid_dandiset

VERSION = re.compile(r"^0\.\d{6}\.\d{4}$")


def test_publish_makes_an_immutable_version(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key)
    before = api.get(f"/api/dandisets/{dandiset}/").json()["draft_version"]["modified"]
    version = publish(api, key, dandiset, release_notes="First release")
    assert VERSION.match(version)

    detail = api.get(f"/api/dandisets/{dandiset}/").json()
    assert detail["draft_version"]["status"] == "Published"
    # The draft's status changed, so it was modified, when the version was made (upstream).
    published_at = detail["most_recent_published_version"]["created"]
    assert detail["draft_version"]["modified"] == published_at > before
    assert detail["most_recent_published_version"]["version"] == version
    assert detail["most_recent_published_version"]["asset_count"] == 2

    metadata = api.get(f"/api/dandisets/{dandiset}/versions/{version}/").json()
    assert metadata["version"] == version
    assert metadata["id"].endswith(f":{dandiset}/{version}")
    assert metadata["url"] == f"http://testserver/dandiset/{dandiset}/{version}"
    assert metadata["datePublished"]
    assert metadata["publishedBy"]["schemaKey"] == "PublishActivity"
    assert metadata["releaseNotes"] == "First release"
    assert metadata["assetsSummary"]["numberOfFiles"] == 2
    assert metadata["assetsSummary"]["numberOfBytes"] == 9
    assert metadata["manifestLocation"][0].endswith(f"dandisets/{dandiset}/{version}/assets.yaml")
    assert f"(Version {version})" in metadata["citation"]

    published = api.get(
        f"/api/dandisets/{dandiset}/versions/{version}/assets/", params={"metadata": 1}
    )
    assets = published.json()["results"]
    assert [a["path"] for a in assets] == ["sub-1/a.txt", "sub-2/b.txt"]
    assert all(a["metadata"]["datePublished"] == metadata["datePublished"] for a in assets)
    assert all(a["metadata"]["publishedBy"] == metadata["publishedBy"] for a in assets)
    assert all("dandi:sha2-256" in a["metadata"]["digest"] for a in assets)

    # Nothing about the published version can change.
    url = f"/api/dandisets/{dandiset}/versions/{version}/"
    assert api.put(url, key, json={"name": "x", "metadata": metadata}).status_code == 405
    blob = api.upload(key, dandiset, b"new bytes")
    r = api.post(url + "assets/", key, json={"metadata": {"path": "new.txt"}, "blob_id": blob})
    assert r.status_code == 405
    assert api.delete(f"{url}assets/{assets[0]['asset_id']}/", key).status_code == 405
    assert api.post(url + "publish/", key).status_code == 405

    # The draft moves on; the published version does not.
    draft = f"/api/dandisets/{dandiset}/versions/draft/"
    api.delete(f"{draft}assets/{assets[0]['asset_id']}/", key)
    api.post(draft + "assets/", key, json={"metadata": {"path": "new.txt"}, "blob_id": blob})
    changed = {**api.get(draft).json(), "description": "Changed later"}
    api.put(draft, key, json={"name": "Changed", "metadata": changed})
    api.wait_for_jobs()
    assert api.get(url).json() == metadata
    again = api.get(f"{url}assets/", params={"metadata": 1}).json()["results"]
    assert again == assets
    assert api.download(f"/api/assets/{assets[0]['asset_id']}/download/").content == b"alpha"
    draft_paths = [a["path"] for a in api.get(draft + "assets/").json()["results"]]
    assert draft_paths == ["new.txt", "sub-2/b.txt"]


@pytest.mark.parametrize(
    "problem", ["invalid", "pending", "empty", "unchanged", "not-owner", "embargoed"]
)
def test_what_blocks_a_publish(api, problem):
    key = api.make_user()
    if problem == "empty":
        dandiset = api.create_dandiset(key)
        api.wait_for_jobs()
        expected = 400
    elif problem == "embargoed":
        dandiset = api.create_dandiset(key, embargo="true")
        api.add_asset(key, dandiset, "a.txt", b"a", {"schemaKey": "Asset"})
        api.wait_for_jobs()
        expected = 400
    else:
        dandiset = valid_dandiset(api, key)
        expected = {"invalid": 400, "pending": 409, "unchanged": 400, "not-owner": 403}[problem]
    if problem == "invalid":
        metadata = {
            **api.get(f"/api/dandisets/{dandiset}/versions/draft/").json(),
            "license": ["nope"],
        }
        api.put(
            f"/api/dandisets/{dandiset}/versions/draft/",
            key,
            json={"name": "x", "metadata": metadata},
        )
        api.wait_for_jobs()
    if problem == "pending":  # as if a change had not been validated yet
        with api.archive.db.session(write=True) as session:
            session.get(Version, 1).status = VersionStatus.PENDING
    if problem == "unchanged":
        publish(api, key, dandiset)
    caller = api.make_user("other@example.org") if problem == "not-owner" else key
    r = api.post(f"/api/dandisets/{dandiset}/versions/draft/publish/", caller)
    assert r.status_code == expected, r.text
    assert r.json()["detail"]
    api.wait_for_jobs()
    versions = api.get(f"/api/dandisets/{dandiset}/versions/", key).json()["results"]
    assert len(versions) == (2 if problem == "unchanged" else 1)


def test_second_publish_request_while_publishing_is_locked(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key)
    with api.archive.db.session(write=True) as session:
        session.get(Version, 1).status = VersionStatus.PUBLISHING
    r = api.post(f"/api/dandisets/{dandiset}/versions/draft/publish/", key)
    assert r.status_code == 423


def test_two_publishes_in_one_minute_get_distinct_versions(api):
    key = api.make_user()
    dandiset = valid_dandiset(api, key)
    first = publish(api, key, dandiset)
    api.add_asset(
        key, dandiset, "c.txt", b"gamma", {"schemaKey": "Asset", "encodingFormat": "text/plain"}
    )
    api.wait_for_jobs()
    second = publish(api, key, dandiset)
    assert first != second and VERSION.match(second)
    versions = api.get(f"/api/dandisets/{dandiset}/versions/", params={"order": "-created"}).json()
    assert [v["version"] for v in versions["results"]] == [second, first, "draft"]
    assert (
        api.get(f"/api/dandisets/{dandiset}/").json()["most_recent_published_version"]["version"]
        == second
    )


def test_next_version_id_skips_taken_minutes(api):
    from datetime import UTC, datetime

    key = api.make_user()
    api.create_dandiset(key)
    now = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)
    with api.archive.db.session(write=True) as session:
        for version in ("0.261125.1730", "0.261125.1731"):
            session.add(Version(dandiset_id=1, version=version, name="x", metadata_={}))
        session.flush()
        assert next_version_id(session, 1, now) == "0.261125.1732"


def test_publish_interrupted_before_commit_is_resumed_by_the_sweep(api):
    """A crash between the request and the job's commit leaves the draft Publishing
    with its version id recorded; the sweep finishes it, with that same id."""
    key = api.make_user()
    dandiset = valid_dandiset(api, key)
    api.archive.jobs.shutdown()  # the publish job is accepted but never runs
    r = api.post(f"/api/dandisets/{dandiset}/versions/draft/publish/", key)
    assert r.status_code == 202
    with api.archive.db.session() as session:
        planned = session.get(Version, 1).publish_request["version"]
    assert [
        v["version"] for v in api.get(f"/api/dandisets/{dandiset}/versions/").json()["results"]
    ] == ["draft"]

    from dandi_archive.archive import build_archive

    restarted = build_archive(api.archive.settings, run_jobs_in_process=True)
    try:
        restarted.jobs.submit("sweep")  # as on start-up; it queues the publish
        assert restarted.jobs.wait_idle(60)
    finally:
        restarted.close()
    versions = [
        v["version"] for v in api.get(f"/api/dandisets/{dandiset}/versions/").json()["results"]
    ]
    assert versions == ["draft", planned]
    assert api.get(f"/api/dandisets/{dandiset}/").json()["draft_version"]["status"] == "Published"


def test_published_zarr_stays_frozen_while_the_draft_changes(api):
    from ..helpers import zarr_checksum_of

    key = api.make_user()
    old = {"zarr.json": b'{"zarr_format": 3, "node_type": "group"}', "a/c/0": b"old chunk"}
    dandiset = valid_dandiset(api, key, {"notes.txt": b"notes"})
    zarr_id = api.create_zarr(key, dandiset, "image.zarr")
    r = api.post(
        f"/api/dandisets/{dandiset}/versions/draft/assets/",
        key,
        json={"metadata": {"path": "image.zarr", "schemaKey": "Asset"}, "zarr_id": zarr_id},
    )
    assert r.status_code == 200, r.text
    api.put_zarr_files(key, zarr_id, old)
    api.finalize_zarr(key, zarr_id)
    version = publish(api, key, dandiset)

    published = api.get(
        f"/api/dandisets/{dandiset}/versions/{version}/assets/", params={"metadata": 1}
    ).json()["results"]
    frozen = next(a for a in published if a["path"] == "image.zarr")
    assert frozen["zarr"] != zarr_id
    assert frozen["metadata"]["digest"]["dandi:dandi-zarr-checksum"] == zarr_checksum_of(old)
    assert frozen["metadata"]["datePublished"]

    api.put_zarr_files(key, zarr_id, {"a/c/0": b"new chunk"})
    api.finalize_zarr(key, zarr_id)

    def read(zid: str, path: str) -> bytes:
        r = api.get(
            f"/api/zarr/{zid}/files/",
            params={"prefix": path, "download": "true"},
            follow_redirects=False,
        )
        return api.get(r.headers["Location"]).content

    assert read(frozen["zarr"], "a/c/0") == b"old chunk"
    assert read(zarr_id, "a/c/0") == b"new chunk"
    again = api.get(f"/api/dandisets/{dandiset}/versions/{version}/assets/", params={"metadata": 1})
    assert again.json()["results"] == published
    draft = api.get(
        f"/api/dandisets/{dandiset}/versions/draft/assets/", params={"path": "image.zarr"}
    )
    assert draft.json()["results"][0]["zarr"] == zarr_id
