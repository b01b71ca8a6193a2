"""kill -9 in the middle of an upload and of a Zarr ingest: nothing half-written becomes
visible, and after a restart the work finishes (the upload by sending the part again,
the ingest by itself) with the right bytes and checksum."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from dandi_archive.cli import main

from ..helpers import DANDISET_METADATA, md5_base64, zarr_checksum_of
from .test_publish_crash import assert_status

MiB = 2**20


def consistent(live) -> None:
    result = CliRunner().invoke(main, ["check"], env=live.env)
    assert result.exit_code == 0, result.output


def create_dandiset(live) -> str:
    r = live.api("POST", "/dandisets/", json={"name": "Crash", "metadata": DANDISET_METADATA})
    return r.json()["identifier"]


@pytest.mark.parametrize("live_archive", ["embedded"], indirect=True)
def test_kill_during_an_upload_then_finish_it(live_archive):
    """The folder store receives the part itself: the server dies with half of it."""
    live = live_archive
    dandiset = create_dandiset(live)
    data = hashlib.sha256(b"seed").digest() * (12 * MiB // 32)
    init = live.initialize_upload(dandiset, data)
    url = init["parts"][0]["upload_url"]

    def half_then_crash() -> Iterator[bytes]:
        yield data[: 6 * MiB]
        time.sleep(0.5)  # the server has written what it received
        live.kill()
        yield data[6 * MiB :]

    with pytest.raises(httpx.HTTPError):
        httpx.put(url, content=half_then_crash(), timeout=30)

    live.start()
    assert list((live.data_dir / "bucket").rglob("blobs/**/*")) == []  # nothing half-written
    uploads = live.api("GET", f"/dandisets/{dandiset}/uploads/").json()
    assert [u["upload_id"] for u in uploads["results"]] == [init["upload_id"]]
    consistent(live)

    # The client sends the part again and finishes: the blob has exactly the bytes.
    put = httpx.put(url, content=data, timeout=60)
    assert put.status_code == 200, put.text
    parts = [{"part_number": 1, "size": len(data), "etag": put.headers["ETag"].strip('"')}]
    done = live.api("POST", f"/uploads/{init['upload_id']}/complete/", json={"parts": parts})
    assert httpx.post(done.json()["complete_url"], content=done.json()["body"]).status_code == 200
    blob = live.api("POST", f"/uploads/{init['upload_id']}/validate/").json()["blob_id"]
    r = live.api(
        "POST",
        f"/dandisets/{dandiset}/versions/draft/assets/",
        json={"metadata": {"path": "big.bin"}, "blob_id": blob},
    )
    download = httpx.get(
        f"{live.url}/api/assets/{r.json()['asset_id']}/download/", follow_redirects=True
    )
    assert hashlib.sha256(download.content).digest() == hashlib.sha256(data).digest()
    consistent(live)


@pytest.mark.parametrize("live_archive", ["postgres-s3"], indirect=True)
def test_kill_during_a_zarr_ingest_then_resume(live_archive):
    live = live_archive
    dandiset = create_dandiset(live)
    zarr_id = live.api("POST", "/zarr/", json={"name": "a.zarr", "dandiset": dandiset}).json()[
        "zarr_id"
    ]
    files = {".zgroup": b'{"zarr_format": 2}'} | {
        f"arr/{i}.0": f"chunk {i}".encode() for i in range(20)
    }
    urls = live.api(
        "POST",
        f"/zarr/{zarr_id}/files/",
        json=[{"path": p, "base64md5": md5_base64(d)} for p, d in files.items()],
    ).json()
    for url, data in zip(urls, files.values(), strict=True):
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
        assert httpx.put(url, content=data, headers={"Content-MD5": md5}).status_code == 200

    # The ingest is killed where it records the files.
    live.kill_while_blocked(
        "zarr_files",
        lambda: assert_status(live.api("POST", f"/zarr/{zarr_id}/finalize/"), 204),
        "the ingest",
    )
    engine = create_engine(live.env["DANDI_ARCHIVE_DATABASE_URL"])
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status, checksum FROM zarrs")).one()
        assert tuple(status) == ("Ingesting", None)  # nothing of the ingest was kept
    engine.dispose()

    live.start()  # the start-up sweep knows the ingest died with the server
    deadline = time.monotonic() + 60
    while (zarr := live.api("GET", f"/zarr/{zarr_id}/").json())["status"] != "Complete":
        assert time.monotonic() < deadline, f"the ingest was not resumed: {zarr}"
        time.sleep(0.3)
    assert zarr["checksum"] == zarr_checksum_of(files)
    assert zarr["file_count"] == len(files)
    consistent(live)
