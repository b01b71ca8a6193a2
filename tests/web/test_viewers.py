""" "Open with" on a file's page: NWB viewers for NWB files and image viewers for
OME-Zarr, with the file's bucket address; never for embargoed files, and not at all when
the instance turns external viewers off."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlsplit

from dandi_archive.web.viewers import viewers_for

from .helpers import Browser, make_account

NWB = {"schemaKey": "Asset", "encodingFormat": "application/x-nwb"}


def page_of(api, dandiset: str, asset: dict, key: str | None = None) -> str:
    browser = Browser(api)
    if key:
        browser.sign_in("owner@example.org")
    r = browser.get(f"/dandiset/{dandiset}/draft/files/{asset['asset_id']}")
    assert r.status_code == 200
    return html.unescape(r.text)


def test_nwb_files_of_open_dandisets_open_in_neurosift(api):
    key = make_account(api, "owner@example.org")
    d = api.create_dandiset(key)
    asset = api.add_asset(key, d, "sub-1/sub-1_ecephys.nwb", b"not really hdf5", NWB)
    page = page_of(api, d, asset)
    assert "Open with" in page
    link = next(p for p in page.split('"') if p.startswith("https://neurosift.app/nwb?"))
    query = parse_qs(urlsplit(link).query)
    assert query["url"] == [api.archive.store.public_url(api.blob_key(b"not really hdf5"))]
    assert query["dandisetId"] == [d] and query["dandisetVersion"] == ["draft"]
    assert "https://nwbexplorer.opensourcebrain.org/nwbfile=" in page

    plain = api.add_asset(key, d, "notes.txt", b"text", {"encodingFormat": "text/plain"})
    assert "Open with" not in page_of(api, d, plain)


def test_no_viewer_for_embargoed_files_or_when_turned_off(make_api):
    api = make_api()
    key = make_account(api, "owner@example.org")
    d = api.create_dandiset(key, embargo="true")
    asset = api.add_asset(key, d, "sub-1/sub-1.nwb", b"secret", NWB)
    assert "Open with" not in page_of(api, d, asset, key)

    quiet = make_api(external_viewers=False)
    key = make_account(quiet, "owner@example.org")
    d = quiet.create_dandiset(key)
    asset = quiet.add_asset(key, d, "sub-1/sub-1.nwb", b"open", NWB)
    assert "Open with" not in page_of(quiet, d, asset)


def test_ome_zarr_opens_in_image_viewers():
    found = viewers_for(
        path="sub-1/sample.ome.zarr",
        encoding_format="application/x-zarr",
        public_url="https://bucket.example.org/zarr/abc",
        dandiset="000001",
        version="draft",
    )
    assert [v.name for v in found] == ["Neuroglancer", "Vizarr"]
    assert "zarr%3A%2F%2Fhttps%3A%2F%2Fbucket.example.org%2Fzarr%2Fabc%2F" in found[0].url
    assert found[1].url.endswith("source=https%3A%2F%2Fbucket.example.org%2Fzarr%2Fabc%2F")
