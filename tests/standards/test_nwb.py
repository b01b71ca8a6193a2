"""NWB files judged by the NWB Inspector: its critical findings make the asset invalid
(and block publishing), its best-practice findings are advice, a file it cannot judge is
"not checked" -- and a large file is read in the few parts that matter, not whole."""

from __future__ import annotations

import sys
import uuid

import pytest
from sqlalchemy import select

from dandi_archive.db.models import Asset, AssetBlob, NwbInspection
from dandi_archive.standards import nwb_child
from dandi_archive.standards.ranged import RangedFile, looks_like_hdf5

from ..nwbfiles import nwb_bytes

NWB_META = {"schemaKey": "Asset", "encodingFormat": "application/x-nwb"}


def validation(api, dandiset: str, asset_id: str) -> dict:
    r = api.get(f"/api/dandisets/{dandiset}/versions/draft/assets/{asset_id}/validation/")
    assert r.status_code == 200, r.text
    return r.json()


def codes(findings: list[dict]) -> set[str]:
    return {f["code"] for f in findings}


def test_critical_findings_invalidate_and_block_publishing_advice_does_not(api, tmp_path):
    key = api.make_user()
    good = api.create_dandiset(key)
    good_asset = api.add_asset(key, good, "sub-m1/sub-m1.nwb", nwb_bytes(tmp_path), NWB_META)
    bad = api.create_dandiset(key)
    bad_asset = api.add_asset(
        key, bad, "sub-m1/sub-m1.nwb", nwb_bytes(tmp_path, subject=False), NWB_META
    )
    api.wait_for_jobs()

    # Advice only: the asset is valid, the advice is listed apart, the draft publishes.
    v = validation(api, good, good_asset["asset_id"])
    assert v["status"] == "Valid" and v["validation_errors"] == []
    assert "NWBI.check_experimenter_exists" in codes(v["validation_warnings"])
    advice = next(
        f for f in v["validation_warnings"] if f["code"] == "NWBI.check_experimenter_exists"
    )
    assert advice["message"] == "Experimenter is missing."
    assert advice["severity"] == "warning" and advice["standard"] == "nwb"
    assert advice["importance"] == "BEST_PRACTICE_SUGGESTION"
    assert v["nwb_inspection"]["outcome"] == "checked"
    assert v["nwb_inspection"]["inspector_version"]
    assert "NWBI.check_file_extension" not in codes(v["validation_warnings"])
    r = api.post(f"/api/dandisets/{good}/versions/draft/publish/", key)
    assert r.status_code == 202, r.text

    # A critical finding: an asset validation error ({field, message} and more), the
    # asset Invalid, the draft's asset errors list it, publishing refused.
    v = validation(api, bad, bad_asset["asset_id"])
    assert v["status"] == "Invalid"
    error = next(e for e in v["validation_errors"] if e["code"] == "NWBI.check_subject_exists")
    assert error["message"] == "Subject is missing." and error["field"] == "/"
    assert error["severity"] == "error" and error["importance"] == "CRITICAL"
    assert "NWBI.check_subject_exists" not in codes(v["validation_warnings"])
    info = api.get(f"/api/dandisets/{bad}/versions/draft/info/", key).json()
    assert any(
        e["path"] == "sub-m1/sub-m1.nwb" and "Subject is missing" in e["message"]
        for e in info["asset_validation_errors"]
    ), info["asset_validation_errors"]
    r = api.post(f"/api/dandisets/{bad}/versions/draft/publish/", key)
    assert r.status_code == 400 and "invalid" in r.json()["detail"]

    # The file page says both, in words.
    page = api.get(f"/dandiset/{bad}/draft/files/{bad_asset['asset_id']}").text
    assert 'id="nwb-inspection"' in page
    assert "Critical</strong> <code>NWBI.check_subject_exists</code>" in page
    assert "Subject is missing." in page
    assert "Suggestion</strong> <code>NWBI.check_experimenter_exists</code>" in page


def test_a_large_file_is_streamed_not_read_whole(api, tmp_path):
    """The inspector reads the file's metadata and a few samples: of a 64 MiB recording,
    only a small part is fetched from storage (folder store: pread; S3: ranged GETs)."""
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    data = nwb_bytes(tmp_path, big_mib=64)
    asset = api.add_asset(key, dandiset, "sub-m1/sub-m1_ecephys.nwb", data, NWB_META)
    api.wait_for_jobs()
    inspection = validation(api, dandiset, asset["asset_id"])["nwb_inspection"]
    assert inspection["outcome"] == "checked"
    assert 0 < inspection["bytes_read"] < len(data) / 16, (inspection["bytes_read"], len(data))
    # ... and what it found is what it finds reading the local file whole.
    assert "NWBI.check_small_dataset_compression" in codes(inspection["advice"])


def test_the_same_content_is_inspected_once(api, tmp_path):
    key = api.make_user()
    data = nwb_bytes(tmp_path)
    first = api.create_dandiset(key)
    api.add_asset(key, first, "sub-m1/a.nwb", data, NWB_META)
    api.wait_for_jobs()
    with api.archive.db.session() as session:
        (row,) = session.scalars(select(NwbInspection)).all()
        ran_at = row.updated
    second = api.create_dandiset(key)
    asset = api.add_asset(key, second, "sub-m1/b.nwb", data, NWB_META)
    api.wait_for_jobs()
    with api.archive.db.session() as session:
        (row,) = session.scalars(select(NwbInspection)).all()
        assert row.updated == ran_at  # not run again
        assert session.scalar(select(AssetBlob.id)) == row.blob_id
    v = validation(api, second, asset["asset_id"])
    assert v["status"] == "Valid"
    assert "NWBI.check_experimenter_exists" in codes(v["validation_warnings"])


def test_a_changed_file_is_inspected_again(api, tmp_path):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    first = api.add_asset(
        key, dandiset, "sub-m1/a.nwb", nwb_bytes(tmp_path, subject=False), NWB_META
    )
    api.wait_for_jobs()
    assert validation(api, dandiset, first["asset_id"])["status"] == "Invalid"
    blob_id = api.upload(key, dandiset, nwb_bytes(tmp_path))
    r = api.put(
        f"/api/dandisets/{dandiset}/versions/draft/assets/{first['asset_id']}/",
        key,
        json={"metadata": {"path": "sub-m1/a.nwb", **NWB_META}, "blob_id": blob_id},
    )
    assert r.status_code == 200, r.text
    api.wait_for_jobs()
    assert validation(api, dandiset, r.json()["asset_id"])["status"] == "Valid"
    with api.archive.db.session() as session:
        assert len(session.scalars(select(NwbInspection)).all()) == 2


@pytest.mark.parametrize("kind", ["not-hdf5", "hdf5-not-nwb", "timeout"])
def test_a_file_that_cannot_be_checked_is_never_valid(make_api, tmp_path, kind):
    import h5py

    api = make_api(nwb_inspection_timeout_seconds=0.05) if kind == "timeout" else make_api()
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    if kind == "not-hdf5":
        data = b"a text file named .nwb\n" * 100
    elif kind == "hdf5-not-nwb":
        path = tmp_path / "plain.h5"
        with h5py.File(path, "w") as f:
            f["x"] = list(range(10))
        data = path.read_bytes()
    else:
        data = nwb_bytes(tmp_path)
    asset = api.add_asset(key, dandiset, "sub-1/sub-1.nwb", data, NWB_META)
    api.wait_for_jobs()
    v = validation(api, dandiset, asset["asset_id"])
    assert v["status"] == "Invalid"
    (error,) = [e for e in v["validation_errors"] if e.get("standard") == "nwb"]
    assert error["code"] == "NWB.NOT_CHECKED" and error["severity"] == "not-checked"
    reason = {
        "not-hdf5": "not an HDF5 file",
        "hdf5-not-nwb": "PyNWB cannot read it",
        "timeout": "the inspection took longer than 0.05 s",
    }[kind]
    assert error["message"].startswith(f"Could not be checked: {reason}"), error["message"]
    assert v["nwb_inspection"]["outcome"] == "not-checked"
    r = api.post(f"/api/dandisets/{dandiset}/versions/draft/publish/", key)
    assert r.status_code == 400
    page = api.get(f"/dandiset/{dandiset}/draft/files/{asset['asset_id']}").text
    assert "Could not be checked:</strong> " + reason in page


def test_a_run_lost_with_its_process_is_run_again_by_the_sweep(api, tmp_path):
    """A job that died mid-run leaves its row running and the asset Pending; once the
    run is past its time limit, the sweep's re-validation queues it again."""
    from datetime import timedelta

    from dandi_archive.db.models import AssetStatus, utcnow

    key = api.make_user()
    dandiset = api.create_dandiset(key)
    asset = api.add_asset(key, dandiset, "sub-m1/a.nwb", nwb_bytes(tmp_path), NWB_META)
    api.wait_for_jobs()
    long_ago = utcnow() - timedelta(seconds=api.archive.settings.nwb_inspection_timeout_seconds)
    with api.archive.db.session(write=True) as session:
        row = session.scalars(select(NwbInspection)).one()
        row.state, row.outcome, row.findings = "running", None, []
        row.updated = long_ago - timedelta(hours=1)
        session.get(Asset, uuid.UUID(asset["asset_id"])).status = AssetStatus.PENDING
    assert validation(api, dandiset, asset["asset_id"])["status"] == "Pending"
    api.archive.jobs.submit("sweep")
    api.wait_for_jobs()
    v = validation(api, dandiset, asset["asset_id"])
    assert v["status"] == "Valid" and v["nwb_inspection"]["state"] == "done"


def test_without_nwbinspector_the_file_is_not_checked(tmp_path, monkeypatch):
    path = tmp_path / "f.nwb"
    path.write_bytes(nwb_bytes(tmp_path))
    monkeypatch.setitem(sys.modules, "nwbinspector", None)  # import fails as if absent
    result = nwb_child.inspect(str(path), path.stat().st_size)
    assert result["outcome"] == "not-checked"
    assert result["reason"].startswith("nwbinspector not installed")


def test_ranged_file_reads_only_the_blocks_asked_for(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(10 * 2**20))
    f = RangedFile(str(path), path.stat().st_size, block_size=2**16)
    assert looks_like_hdf5(f)
    f.seek(5 * 2**20)
    assert f.read(10) == bytes(10)
    f.seek(-4, 2)
    assert f.read(100) == bytes(4)
    assert f.requests == 3 and f.bytes_fetched == 2 * 2**16 + 8  # the last block is short
    f.close()
