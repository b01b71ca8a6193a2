"""The instance's logo in the header (a file the archive serves at /logo, or a URL; the
text name by default) and the file browser's icons for folders, files, NWB, Zarr,
video and image files (one SVG sprite under /static, nothing from elsewhere)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from pydantic import ValidationError

from dandi_archive.config import Settings

from .helpers import make_account

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\xbd\xfa"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def brand(page: str) -> str:
    match = re.search(r'<a class="brand" href="/">(.*?)</a>', page)
    assert match
    return match[1]


def test_the_text_name_by_default(api):
    assert brand(api.client.get("/").text) == "DANDI Archive"
    r = api.client.get("/logo")
    assert r.status_code == 404 and "no logo file" in r.text


def test_a_logo_file_is_served_and_shown(make_api, tmp_path):
    logo = tmp_path / "our-logo.png"
    logo.write_bytes(PNG)
    api = make_api(logo=str(logo))
    assert brand(api.client.get("/search").text) == (
        '<img src="/logo" alt="DANDI Archive" class="logo">'
    )
    r = api.client.get("/logo")
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-security-policy"] == "script-src 'none'"
    logo.unlink()  # gone since the start: a 404 page, not a 500
    assert api.client.get("/logo").status_code == 404


def test_a_logo_url_is_used_as_it_is(make_api):
    api = make_api(logo="https://cdn.example.org/brand.svg")
    assert 'src="https://cdn.example.org/brand.svg"' in brand(api.client.get("/").text)
    assert api.client.get("/logo").status_code == 404


def test_a_bad_logo_setting_is_refused_at_start(tmp_path):
    with pytest.raises(ValidationError, match="there is no file"):
        Settings(data_dir=tmp_path, logo=str(tmp_path / "missing.png"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValidationError, match="is not one of"):
        Settings(data_dir=tmp_path, logo=str(tmp_path / "notes.txt"))


def test_file_browser_icons(api):
    key = make_account(api, "owner@example.org")
    d = api.create_dandiset(key, "Icons")
    names = {
        "sub-1/rec.nwb": "nwb",
        "sub-1/clip.MP4": "video",
        "sub-1/slice.tiff": "image",
        "sub-1/notes.txt": "file",
    }
    for path in names:
        api.add_asset(key, d, path, b"bytes of " + path.encode())
    z = api.create_zarr(key, d, "sub-1/volume.ome.zarr")
    api.put_zarr_files(key, z, {"zarr.json": b"{}"})
    api.finalize_zarr(key, z)
    r = api.post(
        f"/api/dandisets/{d}/versions/draft/assets/",
        key,
        json={"metadata": {"path": "sub-1/volume.ome.zarr"}, "zarr_id": z},
    )
    assert r.status_code == 200, r.text
    api.wait_for_jobs()

    top = api.client.get(f"/dandiset/{d}/draft/files").text
    assert re.search(r'data-kind="folder"[^>]*>\s*<svg class="icon icon-folder"', top)
    page = api.client.get(f"/dandiset/{d}/draft/files", params={"location": "sub-1"}).text
    shown = dict(re.findall(r'data-kind="(\w+)" href="[^"]+">.*?<span>([^<]+)', page))
    expected = {kind: path.rpartition("/")[2] for path, kind in names.items()}
    expected["zarr"] = "volume.ome.zarr"
    assert {k: v.replace("<wbr>", "") for k, v in shown.items()} == expected
    used = set(re.findall(r'<use href="/static/icons.svg#(i-\w+)"', top + page))
    assert used == {"i-folder", "i-nwb", "i-video", "i-image", "i-file", "i-zarr"}
    sprite = api.client.get("/static/icons.svg")
    assert sprite.status_code == 200 and sprite.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(sprite.content)
    ids = {s.get("id") for s in root.iter("{http://www.w3.org/2000/svg}symbol")}
    assert used <= ids
    assert "http" not in re.sub(r'xmlns="[^"]+"', "", sprite.text)  # nothing fetched
