"""End to end with the real ``dandi`` client: upload NWB files, list, download,
deduplicate across Dandisets, move and delete."""

from __future__ import annotations

import filecmp
import time
from datetime import UTC, datetime
from pathlib import Path

from ..helpers import DANDISET_METADATA

SESSIONS = [("mouse1", "day1"), ("mouse1", "day2"), ("mouse2", "day1")]


def write_nwb(path: Path, subject: str, session: str) -> None:
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.file import Subject

    nwb = NWBFile(
        session_description=f"Recording {session} of {subject}",
        identifier=f"{subject}-{session}",
        session_start_time=datetime(2024, 1, 1, 12, tzinfo=UTC),
        session_id=session,
        experimenter=["Doe, Jane"],
        lab="Test lab",
        institution="Test institute",
        subject=Subject(subject_id=subject, species="Mus musculus", sex="F", age="P90D"),
    )
    nwb.add_acquisition(
        TimeSeries(
            name="voltage", data=list(range(1000)), unit="V", rate=1000.0, description="trace"
        )
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def make_dandiset(live, name: str) -> str:
    r = live.api("POST", "/dandisets/", json={"name": name, "metadata": DANDISET_METADATA})
    assert r.status_code == 200, r.text
    return r.json()["identifier"]


def make_local_dandiset(root: Path, identifier: str) -> Path:
    root.mkdir()
    (root / "dandiset.yaml").write_text(f"identifier: '{identifier}'\n")
    for subject, session in SESSIONS:
        write_nwb(root / f"sub-{subject}" / f"sub-{subject}_ses-{session}.nwb", subject, session)
    return root


def blob_count(live) -> int:
    if "DANDI_ARCHIVE_S3_BUCKET" in live.env:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=live.env["DANDI_ARCHIVE_S3_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        listing = s3.list_objects_v2(Bucket=live.env["DANDI_ARCHIVE_S3_BUCKET"], Prefix="blobs/")
        return listing.get("KeyCount", 0)
    return sum(1 for p in (live.data_dir / "bucket" / "blobs").rglob("*") if p.is_file())


def wait_until_valid(live, identifier: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = live.api("GET", f"/dandisets/{identifier}/versions/draft/info/").json()
        if info["status"] == "Valid" and not info["asset_validation_errors"]:
            return info
        time.sleep(0.3)
    raise AssertionError(f"draft never became valid: {info}")


def test_upload_list_download_dedup_move_delete(live_archive, tmp_path):
    live = live_archive
    first = make_dandiset(live, "First")
    local = make_local_dandiset(tmp_path / "first", first)

    upload = live.dandi("upload", "-i", live.url, cwd=local)
    assert upload.returncode == 0, upload.stdout + upload.stderr
    info = wait_until_valid(live, first)
    assert info["asset_count"] == 3
    assert blob_count(live) == 3

    listing = live.dandi("ls", "-r", f"{live.url}/api/dandisets/{first}/", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    for subject, session in SESSIONS:
        assert f"sub-{subject}/sub-{subject}_ses-{session}.nwb" in listing.stdout

    download_dir = tmp_path / "download"
    download_dir.mkdir()
    download = live.dandi("download", f"{live.url}/api/dandisets/{first}/", cwd=download_dir)
    assert download.returncode == 0, download.stdout + download.stderr
    for subject, session in SESSIONS:
        rel = Path(f"sub-{subject}/sub-{subject}_ses-{session}.nwb")
        assert filecmp.cmp(local / rel, download_dir / first / rel, shallow=False)

    # The same files in a second Dandiset: deduplicated, no bytes sent, no new blob.
    second = make_dandiset(live, "Second")
    local2 = make_local_dandiset(tmp_path / "second", second)
    for path in local2.rglob("*.nwb"):  # byte-identical to the first Dandiset's files
        path.write_bytes((local / path.relative_to(local2)).read_bytes())
    server_log = (live.data_dir.parent / "server.log").read_text()
    upload = live.dandi("upload", "-i", live.url, cwd=local2)
    assert upload.returncode == 0, upload.stdout + upload.stderr
    new_log = (live.data_dir.parent / "server.log").read_text()[len(server_log) :]
    assert new_log.count('"POST /api/uploads/initialize/ HTTP/1.1" 409') == 3
    assert "/storage/parts/" not in new_log
    assert blob_count(live) == 3
    assert live.api("GET", f"/dandisets/{second}/").json()["draft_version"]["asset_count"] == 3

    # dandi move: rename a file on the server.
    old = "sub-mouse2/sub-mouse2_ses-day1.nwb"
    new = "sub-mouse2/sub-mouse2_ses-day1-moved.nwb"
    move = live.dandi(
        "move", "--dandiset", f"{live.url}/api/dandisets/{second}/", old, new, cwd=tmp_path
    )
    assert move.returncode == 0, move.stdout + move.stderr
    paths = [
        a["path"]
        for a in live.api("GET", f"/dandisets/{second}/versions/draft/assets/").json()["results"]
    ]
    assert new in paths and old not in paths

    # dandi delete: remove one file, then the whole Dandiset.
    delete = live.dandi(
        "delete",
        "--force",
        f"{live.url}/api/dandisets/{second}/versions/draft/assets/?path={new}",
        cwd=tmp_path,
    )
    assert delete.returncode == 0, delete.stdout + delete.stderr
    assert live.api("GET", f"/dandisets/{second}/").json()["draft_version"]["asset_count"] == 2
    delete = live.dandi("delete", "--force", f"{live.url}/api/dandisets/{second}/", cwd=tmp_path)
    assert delete.returncode == 0, delete.stdout + delete.stderr
    assert live.api("GET", f"/dandisets/{second}/").status_code == 404
    # The first Dandiset still has its files, and their blobs.
    assert live.api("GET", f"/dandisets/{first}/").json()["draft_version"]["asset_count"] == 3
    assert blob_count(live) == 3
