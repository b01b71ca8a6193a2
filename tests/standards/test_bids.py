"""BIDS on the server: the dandi client's validator run over a draft's BIDS dataset, its
errors blocking publishing, its warnings as advice, its entities in the metadata, and a
validator that cannot answer leaving the data "not checked", never valid."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest
from sqlalchemy import select

from dandi_archive.db.models import StandardCheck
from dandi_archive.standards.bids import entities

from ..helpers import publish

ASSET = {"schemaKey": "Asset", "encodingFormat": "application/octet-stream"}
DESCRIPTION = {
    "Name": "Tiny",
    "BIDSVersion": "1.9.0",
    "DatasetType": "raw",
    "License": "CC0",
    "Authors": ["A B", "C D"],
}
GOOD = {
    "dataset_description.json": json.dumps(DESCRIPTION).encode(),
    "README": b"A tiny BIDS dataset, made by the tests of the archive.\n" * 5,
    "participants.tsv": b"participant_id\nsub-01\n",
    "sub-01/anat/sub-01_T1w.nii.gz": b"\x1f\x8b" + bytes(200),
    "sub-01/anat/sub-01_T1w.json": b"{}",
}


def add_files(api, key, dandiset, files, prefix=""):
    for path, data in files.items():
        api.add_asset(key, dandiset, prefix + path, data, ASSET)
    api.wait_for_jobs()


def info(api, dandiset):
    return api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()


def asset_id(api, dandiset, path):
    r = api.get(f"/api/dandisets/{dandiset}/versions/draft/assets/", params={"path": path})
    return next(a["asset_id"] for a in r.json()["results"] if a["path"] == path)


def test_entities_of_bids_paths():
    assert entities("sub-01/ses-a/anat/sub-01_ses-a_acq-x_T1w.nii.gz") == {
        "subject": "01",
        "session": "a",
        "datatype": "anat",
        "acq": "x",
        "suffix": "T1w",
    }
    assert entities("rawdata/sub-7/func/sub-7_task-rest_bold.json")["subject"] == "7"
    # The dandi layout of NWB files is not BIDS, nor is a name of another subject.
    assert entities("sub-01/sub-01_ses-a_ecephys.nwb") is None
    assert entities("sub-01/anat/sub-02_T1w.nii.gz") is None
    assert entities("sub-01/ses-a/anat/sub-01_ses-b_T1w.nii.gz") is None
    assert entities("dataset_description.json") is None


def test_bids_errors_block_publishing_until_fixed(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    bad_description = {k: v for k, v in DESCRIPTION.items() if k != "BIDSVersion"}
    add_files(
        api,
        key,
        dandiset,
        {
            **GOOD,
            "dataset_description.json": json.dumps(bad_description).encode(),
            "sub-01/anat/sub-01_bogus.nii.gz": b"not bids",
        },
    )
    found = info(api, dandiset)
    errors = {(e["path"], e.get("code"), e["field"]) for e in found["asset_validation_errors"]}
    assert ("dataset_description.json", "BIDS.JSON_KEY_REQUIRED", "BIDSVersion") in errors
    assert ("sub-01/anat/sub-01_bogus.nii.gz", "BIDS.NOT_INCLUDED", "") in errors
    assert all(e["severity"] == "error" for e in found["asset_validation_errors"])
    # Warnings are advice: listed apart, with their file.
    warned = {(w["path"], w["code"]) for w in found["validation_warnings"]}
    assert ("sub-01/anat/sub-01_T1w.nii.gz", "BIDS.SIDECAR_KEY_RECOMMENDED") in warned

    bogus = asset_id(api, dandiset, "sub-01/anat/sub-01_bogus.nii.gz")
    r = api.get(f"/api/dandisets/{dandiset}/versions/draft/assets/{bogus}/validation/")
    assert r.json()["status"] == "Invalid"
    assert [e["code"] for e in r.json()["validation_errors"]] == ["BIDS.NOT_INCLUDED"]

    r = api.post(f"/api/dandisets/{dandiset}/versions/draft/publish/", key)
    assert r.status_code == 400
    assert "BIDS validator found errors" in r.json()["detail"]

    # The fix: a complete description replaces the old one, the stray file goes.
    description = asset_id(api, dandiset, "dataset_description.json")
    blob = api.upload(key, dandiset, GOOD["dataset_description.json"])
    r = api.put(
        f"/api/dandisets/{dandiset}/versions/draft/assets/{description}/",
        key,
        json={"metadata": {"path": "dataset_description.json", **ASSET}, "blob_id": blob},
    )
    assert r.status_code == 200, r.text
    assert api.delete(f"/api/dandisets/{dandiset}/versions/draft/assets/{bogus}/", key)
    api.wait_for_jobs()

    found = info(api, dandiset)
    assert found["status"] == "Valid", found
    assert found["asset_validation_errors"] == []
    assert found["validation_warnings"]
    t1w = asset_id(api, dandiset, "sub-01/anat/sub-01_T1w.nii.gz")
    r = api.get(f"/api/dandisets/{dandiset}/versions/draft/assets/{t1w}/validation/")
    assert r.json()["status"] == "Valid" and r.json()["validation_errors"] == []
    assert {w["code"] for w in r.json()["validation_warnings"]} == {"BIDS.SIDECAR_KEY_RECOMMENDED"}

    # The path's entities are in the metadata, as dandischema places an NWB file's.
    meta = api.get(f"/api/dandisets/{dandiset}/versions/draft/assets/{t1w}/").json()
    assert {"schemaKey": "Participant", "identifier": "01"} in meta["wasAttributedTo"]
    assert {"bids:datatype:anat", "bids:suffix:T1w"} <= set(meta["keywords"])

    version = publish(api, key, dandiset)
    summary = api.get(f"/api/dandisets/{dandiset}/versions/{version}/").json()["assetsSummary"]
    assert summary["numberOfSubjects"] == 1
    assert "Brain Imaging Data Structure (BIDS)" in {s["name"] for s in summary["dataStandard"]}


def test_a_dataset_in_a_folder_is_validated_on_its_own(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    add_files(api, key, dandiset, GOOD, prefix="rawdata/")
    add_files(api, key, dandiset, {"notes.txt": b"outside any BIDS dataset"})
    with api.archive.db.session() as session:
        checks = session.scalars(select(StandardCheck)).all()
        assert [(c.root, c.state, c.outcome) for c in checks] == [("rawdata", "done", "checked")]
        assert checks[0].summary["subjects"] == ["01"]
    found = info(api, dandiset)
    assert found["asset_validation_errors"] == []
    assert {w["path"] for w in found["validation_warnings"]} >= {
        "rawdata/sub-01/anat/sub-01_T1w.nii.gz"
    }
    # Files are found by their BIDS datatype.
    r = api.get("/api/search/", params={"datatype": "anat"}).json()
    assert [h["identifier"] for h in r["results"]] == [dandiset]
    assert {f["value"]: f["count"] for f in r["facets"]["datatype"]} == {"anat": 1}
    assert api.get("/api/search/", params={"datatype": "func"}).json()["count"] == 0

    # Its description gone, the folder is no BIDS dataset any more: no check, no findings.
    description = asset_id(api, dandiset, "rawdata/dataset_description.json")
    api.delete(f"/api/dandisets/{dandiset}/versions/draft/assets/{description}/", key)
    api.wait_for_jobs()
    with api.archive.db.session() as session:
        assert session.scalars(select(StandardCheck)).all() == []
    assert info(api, dandiset)["validation_warnings"] == []


FAKE_VALIDATOR = """
import json, pathlib, sys, time
mode = {mode!r}
log = pathlib.Path({log!r})
with log.open("a") as f:
    f.write("run\\n")
if mode == "crash":
    sys.stderr.write("Error: the validator fell over\\n")
    sys.exit(2)
if mode == "hang":
    time.sleep(60)
if mode == "garbage":
    out = sys.argv[sys.argv.index("--outfile") + 1]
    pathlib.Path(out).write_text("not json")
    sys.exit(0)
# "slow": a report with one warning per file seen, a little later.
time.sleep(0.3)
root = pathlib.Path(sys.argv[-1])
issues = [
    {{"code": "SEEN", "severity": "warning", "location": "/" + p.relative_to(root).as_posix()}}
    for p in sorted(root.rglob("*")) if p.is_file()
]
out = sys.argv[sys.argv.index("--outfile") + 1]
pathlib.Path(out).write_text(json.dumps(
    {{"issues": {{"issues": issues, "codeMessages": {{"SEEN": "Seen."}}}}, "summary": {{}}}}
))
"""


def fake_validator(tmp_path, mode):
    script = tmp_path / f"validator-{mode}.py"
    log = tmp_path / f"runs-{mode}.log"
    script.write_text(textwrap.dedent(FAKE_VALIDATOR.format(mode=mode, log=str(log))))
    return f"{sys.executable} {script}", log


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("crash", "failed (exit code 2): Error: the validator fell over"),
        ("hang", "took longer than 1 s"),
        ("garbage", "report could not be read"),
        ("missing", "cannot be run"),
    ],
)
def test_a_validator_that_cannot_answer_leaves_the_data_not_checked(
    make_api, tmp_path, backend, mode, reason
):
    if backend != "embedded" and mode != "crash":
        pytest.skip("the validator's side does not depend on the backend")
    command, _ = fake_validator(tmp_path, mode)
    if mode == "missing":
        command = str(tmp_path / "no-such-validator")
    api = make_api(bids_validator_command=command, bids_validator_timeout_seconds=1)
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    add_files(api, key, dandiset, GOOD)

    found = info(api, dandiset)
    # Never valid by default, never stuck: the draft is Invalid, saying why.
    assert found["status"] == "Invalid"
    [problem] = [e for e in found["version_validation_errors"] if e.get("standard") == "bids"]
    assert problem["code"] == "BIDS.NOT_CHECKED"
    assert problem["severity"] == "not-checked"
    assert reason in problem["message"]
    with api.archive.db.session() as session:
        check = session.scalars(select(StandardCheck)).one()
        assert (check.state, check.outcome) == ("done", "not-checked")
        assert reason in check.reason
    r = api.post(f"/api/dandisets/{dandiset}/versions/draft/publish/", key)
    assert r.status_code == 400


def test_runs_are_coalesced_per_dataset(make_api, tmp_path, backend):
    if backend != "embedded":
        pytest.skip("coalescing is the same on both backends")
    command, log = fake_validator(tmp_path, "slow")
    api = make_api(bids_validator_command=command)
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    files = {**GOOD, **{f"sub-01/anat/sub-01_run-{i}_T1w.json": b"{}" for i in range(12)}}
    for path, data in files.items():
        api.add_asset(key, dandiset, path, data, ASSET)  # no waiting in between
    api.wait_for_jobs()
    runs = log.read_text().count("run")
    assert 1 <= runs < len(files) // 2, runs
    # The last run saw every file.
    seen = {w["path"] for w in info(api, dandiset)["validation_warnings"]}
    assert seen == set(files)


def test_a_run_lost_to_a_crash_is_run_again_by_the_sweep(api):
    from dandi_archive.tasks.registry import JOBS

    key = api.make_user()
    dandiset = api.create_dandiset(key)
    add_files(api, key, dandiset, GOOD)
    with api.archive.db.session(write=True) as session:
        check = session.scalars(select(StandardCheck)).one()
        check.state = "running"  # as a worker that died mid-run left it
        check.summary = None
    JOBS["sweep"](api.archive, min_age_seconds=0, restarted=True)
    api.wait_for_jobs()
    with api.archive.db.session() as session:
        check = session.scalars(select(StandardCheck)).one()
        assert (check.state, check.outcome) == ("done", "checked")
        assert check.summary["subjects"] == ["01"]


def test_the_pages_show_bids_findings_to_owners(api):
    from ..web.helpers import Browser, make_account, text_of

    key = make_account(api, "owner@example.org")
    dandiset = api.create_dandiset(key)
    add_files(api, key, dandiset, {**GOOD, "sub-01/anat/sub-01_bogus.nii.gz": b"x"})
    browser = Browser(api)
    browser.sign_in("owner@example.org")

    page = text_of(browser.get(f"/dandiset/{dandiset}/draft").text)
    assert "What blocks publishing" in page
    assert "sub-01/anat/sub-01_bogus.nii.gz BIDS.NOT_INCLUDED" in page
    assert "BIDS validation" in page and "1 subject; anat" in page
    assert "warnings (advice: publishing is not blocked)" in page

    t1w = asset_id(api, dandiset, "sub-01/anat/sub-01_T1w.nii.gz")
    page = text_of(browser.get(f"/dandiset/{dandiset}/draft/files/{t1w}").text)
    assert "Warning BIDS.SIDECAR_KEY_RECOMMENDED (Manufacturer)" in page
    bogus = asset_id(api, dandiset, "sub-01/anat/sub-01_bogus.nii.gz")
    page = text_of(browser.get(f"/dandiset/{dandiset}/draft/files/{bogus}").text)
    assert "Error BIDS.NOT_INCLUDED" in page

    # Others see no findings.
    anonymous = Browser(api)
    assert "BIDS validation" not in anonymous.get(f"/dandiset/{dandiset}/draft").text
    assert (
        "BIDS.NOT_INCLUDED" not in anonymous.get(f"/dandiset/{dandiset}/draft/files/{bogus}").text
    )
