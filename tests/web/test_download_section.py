"""The landing page's download section: a version (draft, latest, any published one)
and a folder or file give the matching `dandi download` command, .zip link and
checksums, each followed to what it names; the share link; subject and session counts."""

from __future__ import annotations

import html
import io
import re
import zipfile

from ..helpers import publish
from .helpers import make_account, text_of

TEXT = {"schemaKey": "Asset", "encodingFormat": "text/plain"}
FILES = {
    "sub-01/sub-01_ses-1_x.txt": b"one",
    "sub-01/sub-01_ses-2_x.txt": b"two",
    "sub-02/sub-02_ses-1_x.txt": b"three",
}


def command_of(page: str) -> str:
    match = re.search(r'<code id="download-command">([^<]+)</code>', page)
    assert match, "no download command"
    return html.unescape(match[1])


def link(page: str, element_id: str) -> str | None:
    match = re.search(rf'id="{element_id}" href="([^"]+)"', page)
    return html.unescape(match[1]) if match else None


def published(api) -> tuple[str, str]:
    key = make_account(api, "owner@example.org")
    d = api.create_dandiset(key, "Sessions")
    for path, data in FILES.items():
        api.add_asset(key, d, path, data, TEXT)
    api.wait_for_jobs()
    version = publish(api, key, d)
    api.add_asset(key, d, "sub-03/sub-03_ses-9_x.txt", b"draft only", TEXT)
    api.wait_for_jobs()
    return d, version


def test_the_picker_names_a_version_folder_or_file(api):
    d, version = published(api)
    get = api.client.get

    page = get(f"/dandiset/{d}/draft").text
    assert command_of(page) == f"dandi download http://testserver/dandiset/{d}/draft"
    options = re.findall(r'<option value="([^"]+)"', page)
    assert options == ["draft", "latest", version]
    zip_url = link(page, "zip-link")
    assert zip_url == f"/dandiset/{d}/draft/download.zip"
    names = zipfile.ZipFile(io.BytesIO(get(zip_url).content)).namelist()
    assert len(names) == 4  # the draft has the file added after publishing

    # The latest published version's folder, from the draft's page.
    page = get(f"/dandiset/{d}/draft", params={"get": "latest", "path": "sub-01/"}).text
    assert command_of(page) == (
        f"dandi download 'http://testserver/dandiset/{d}/{version}/files?location=sub-01/'"
    )
    assert 'value="latest" selected' in page
    zip_url = link(page, "zip-link")
    assert zip_url == f"/dandiset/{d}/{version}/download.zip?path=sub-01"
    names = zipfile.ZipFile(io.BytesIO(get(zip_url).content)).namelist()
    assert sorted(names) == ["sub-01/sub-01_ses-1_x.txt", "sub-01/sub-01_ses-2_x.txt"]
    manifest = get(link(page, "manifest-link")).text
    assert manifest.count("  sub-01/") == 2

    # One file: the API address the client takes for a path, and its download.
    path = "sub-02/sub-02_ses-1_x.txt"
    page = get(f"/dandiset/{d}/{version}", params={"get": version, "path": path}).text
    assert command_of(page) == (
        f"dandi download 'http://testserver/api/dandisets/{d}/versions/{version}/assets/"
        f"?path=sub-02/sub-02_ses-1_x.txt'"
    )
    assert link(page, "zip-link") is None
    file_url = link(page, "file-link")
    assert api.download(file_url).content == b"three"

    page = get(f"/dandiset/{d}/draft", params={"path": "sub-99"}).text
    assert "has no folder or file sub-99" in text_of(page)
    assert command_of(page) == f"dandi download http://testserver/dandiset/{d}/draft"


def test_above_the_zip_limit_only_the_command_is_offered(make_api):
    api = make_api(zip_download_max_bytes=5)
    d, version = published(api)
    page = api.client.get(f"/dandiset/{d}/{version}").text
    assert link(page, "zip-link") is None and link(page, "manifest-link")
    assert "is larger than the 5 B this archive zips in one download" in text_of(page)
    page = api.client.get(f"/dandiset/{d}/{version}", params={"path": "sub-02"}).text
    assert link(page, "zip-link") == f"/dandiset/{d}/{version}/download.zip?path=sub-02"


def test_share_link_and_subject_and_session_counts(api):
    d, version = published(api)
    page = api.client.get(f"/dandiset/{d}/{version}").text
    assert (
        f'id="share-link" type="text" readonly value="http://testserver/dandiset/{d}/{version}"'
        in (page)
    )
    assert 'data-copy="share-link"' in page
    assert re.search(r'id="subject-count">2<', page)
    assert re.search(r'id="session-count">3 ', page)
    draft = api.client.get(f"/dandiset/{d}/draft").text
    assert re.search(r'id="subject-count">3<', draft)
    assert re.search(r'id="session-count">4 ', draft)
