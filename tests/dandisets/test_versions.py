"""Versions: the draft's metadata, edits, and validation state."""

from ..helpers import DANDISET_METADATA
from ..nwbfiles import nwb_bytes


def test_versions_list_and_info(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    versions = api.get(f"/api/dandisets/{dandiset}/versions/").json()
    assert versions["count"] == 1
    item = versions["results"][0]
    assert item["version"] == "draft"
    assert item["dandiset"]["identifier"] == dandiset
    api.wait_for_jobs()
    info = api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()
    assert info["status"] == "Valid"
    assert info["version_validation_errors"] == []
    assert info["metadata"]["name"] == "Test Dandiset"


def test_editing_metadata_revalidates_with_field_errors(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    url = f"/api/dandisets/{dandiset}/versions/draft/"
    api.wait_for_jobs()
    before = api.get(url + "info/").json()
    metadata = api.get(url).json()
    metadata["license"] = ["not-a-license"]
    r = api.put(url, key, json={"name": "Renamed", "metadata": metadata})
    assert r.status_code == 200
    assert r.json()["status"] == "Pending"
    assert r.json()["modified"] > before["modified"]
    api.wait_for_jobs()
    info = api.get(url + "info/").json()
    assert info["name"] == "Renamed"
    assert info["status"] == "Invalid"
    assert any(e["field"].startswith("license") for e in info["version_validation_errors"])
    metadata["license"] = ["spdx:CC-BY-4.0"]
    api.put(url, key, json={"name": "Renamed", "metadata": metadata})
    api.wait_for_jobs()
    assert api.get(url + "info/").json()["status"] == "Valid"


def test_unchanged_put_changes_nothing(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    url = f"/api/dandisets/{dandiset}/versions/draft/"
    api.wait_for_jobs()
    before = api.get(url + "info/").json()
    r = api.put(url, key, json={"name": before["name"], "metadata": api.get(url).json()})
    assert r.json()["modified"] == before["modified"]
    assert r.json()["status"] == "Valid"


def test_bad_version_requests(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    url = f"/api/dandisets/{dandiset}/versions/"
    assert api.get(url + "0.999999.9999/").status_code == 404
    assert api.get(url + "latest/").status_code == 404
    assert api.put(url + "draft/", key, json={"name": "x"}).status_code == 400
    assert (
        api.put(url + "draft/", key, json={"name": "", "metadata": DANDISET_METADATA}).status_code
        == 400
    )
    assert api.get(url, params={"order": "name"}).status_code == 400


def test_adding_an_asset_revalidates_the_draft(api, tmp_path):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    api.wait_for_jobs()
    before = api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()
    mouse = {
        "schemaKey": "Participant",
        "identifier": "mouse1",
        "species": {
            "schemaKey": "SpeciesType",
            "identifier": "http://purl.obolibrary.org/obo/NCBITaxon_10090",
            "name": "Mus musculus - House mouse",
        },
    }
    metadata = {
        "schemaKey": "Asset",
        "encodingFormat": "application/x-nwb",
        "wasAttributedTo": [mouse],
    }
    api.add_asset(key, dandiset, "sub-mouse1/sub-mouse1.nwb", nwb_bytes(tmp_path), metadata)
    api.wait_for_jobs()
    info = api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()
    assert info["status"] == "Valid"
    assert info["modified"] > before["modified"]
    summary = info["metadata"]["assetsSummary"]
    assert summary["numberOfFiles"] == 1
    assert summary["numberOfSubjects"] == 1
    assert summary["species"] == [mouse["species"]]
    assert summary["dataStandard"][0]["name"].startswith("Neurodata Without Borders")
