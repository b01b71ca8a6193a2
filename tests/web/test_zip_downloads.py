"""A folder, or a whole version, as one .zip streamed from storage, and the SHA-256
manifest of the same files: the zip unpacks to byte-identical files, which
``sha256sum -c`` checks against the manifest; a folder above the configured size is
refused with a page saying why; an embargoed Dandiset's zip only for those who read it."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import update

from dandi_archive.db.models import AssetBlob

from .helpers import Browser, make_account, text_of

FILES = {
    "sub-1/a.txt": b"alpha\n",
    "sub-1/ses-1/b.bin": os.urandom(300_000),
    "sub-1/ses-1/name with spaces & ü.dat": b"odd name",
    "sub-2/c.txt": b"gamma",
    "top.txt": b"top",
}
TEXT = {"schemaKey": "Asset", "encodingFormat": "text/plain"}


def filled_dandiset(api, key: str, **params: str) -> str:
    d = api.create_dandiset(key, "Zip me", **params)
    for path, data in FILES.items():
        api.add_asset(key, d, path, data, TEXT)
    z = api.create_zarr(key, d, "sub-1/image.zarr")
    api.put_zarr_files(key, z, {"0/0": b"chunk"})
    api.finalize_zarr(key, z)
    r = api.post(
        f"/api/dandisets/{d}/versions/draft/assets/",
        key,
        json={"metadata": {"path": "sub-1/image.zarr"}, "zarr_id": z},
    )
    assert r.status_code == 200, r.text
    api.wait_for_jobs()  # the SHA-256 of each blob
    return d


def unpacked(content: bytes, into: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        archive.extractall(into)
        return {name: archive.read(name) for name in archive.namelist()}


def check_with_sha256sum(manifest: str, where: Path) -> list[str]:
    (where / "SHA256SUMS").write_text(manifest)
    run = subprocess.run(
        ["sha256sum", "--strict", "-c", "SHA256SUMS"],
        cwd=where,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return [line for line in run.stdout.splitlines() if line.endswith(": OK")]


def test_a_folder_and_a_version_unpack_to_the_same_bytes_and_check(api, tmp_path):
    key = make_account(api, "owner@example.org")
    d = filled_dandiset(api, key)
    base = f"/dandiset/{d}/draft"

    r = api.client.get(f"{base}/download.zip", params={"path": "sub-1"})
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == "application/zip"
    assert int(r.headers["content-length"]) == len(r.content)
    assert "sub-1.zip" in r.headers["content-disposition"]
    files = unpacked(r.content, tmp_path / "folder")
    expected = {f"sub-1/{p[6:]}": data for p, data in FILES.items() if p.startswith("sub-1/")}
    assert files == expected  # byte for byte; the Zarr is not in it
    manifest = api.client.get(f"{base}/SHA256SUMS", params={"path": "sub-1"})
    assert manifest.status_code == 200 and manifest.headers["content-type"].startswith("text/")
    assert "# Zarr, not a single file (not in the zip): 'sub-1/image.zarr'" in manifest.text
    assert len(check_with_sha256sum(manifest.text, tmp_path / "folder")) == len(expected)

    r = api.client.get(f"{base}/download.zip")
    assert r.status_code == 200
    top = f"{d}_draft"
    assert unpacked(r.content, tmp_path / "all") == {f"{top}/{p}": v for p, v in FILES.items()}
    assert "Zarr" in zipfile.ZipFile(io.BytesIO(r.content)).comment.decode()
    manifest = api.client.get(f"{base}/SHA256SUMS").text
    assert len(check_with_sha256sum(manifest, tmp_path / "all")) == len(FILES)
    # Someone else's checksum tool sees a changed file.
    (tmp_path / "all" / top / "top.txt").write_bytes(b"tampered")
    run = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path / "all", capture_output=True, text=True
    )
    assert run.returncode == 1 and "top.txt: FAILED" in run.stdout


def test_files_without_a_sha256_yet_are_said_so(api, tmp_path):
    key = make_account(api, "owner@example.org")
    d = filled_dandiset(api, key)
    with api.archive.db.session(write=True) as session:
        session.execute(update(AssetBlob).where(AssetBlob.size == 5).values(sha256=None))
    text = api.client.get(f"/dandiset/{d}/draft/SHA256SUMS").text
    assert f"# SHA-256 not computed yet (try again in a few minutes): '{d}_draft/sub-2/c.txt'" in (
        text
    )
    hashed = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(hashed) == len(FILES) - 1 and not any("c.txt" in line for line in hashed)
    r = api.client.get(f"/dandiset/{d}/draft/download.zip")
    assert len(check_with_sha256sum(text, _unzip(r.content, tmp_path))) == len(FILES) - 1


def _unzip(content: bytes, where: Path) -> Path:
    unpacked(content, where)
    return where


@pytest.mark.parametrize("limit", [0, 300_000])
def test_above_the_limit_a_readable_refusal(make_api, limit):
    api = make_api(zip_download_max_bytes=limit)
    key = make_account(api, "owner@example.org")
    d = filled_dandiset(api, key)
    r = api.client.get(f"/dandiset/{d}/draft/download.zip", params={"path": "sub-1"})
    assert r.status_code == 413
    text = text_of(r.text)
    assert "Too large for one download" in text and "dandi download" in text
    size = sum(len(v) for p, v in FILES.items() if p.startswith("sub-1/"))
    assert f"sub-1 holds {size:,} bytes, more than the {limit:,}" in text
    if limit:  # a folder under the limit still comes
        r = api.client.get(f"/dandiset/{d}/draft/download.zip", params={"path": "sub-2"})
        assert r.status_code == 200


def test_bad_paths_are_readable_pages(api):
    key = make_account(api, "owner@example.org")
    d = filled_dandiset(api, key)
    r = api.client.get(f"/dandiset/{d}/draft/download.zip", params={"path": "nowhere"})
    assert r.status_code == 404 and "no folder nowhere" in text_of(r.text)
    r = api.client.get(f"/dandiset/{d}/draft/SHA256SUMS", params={"path": "top.txt"})
    assert r.status_code == 400 and "is a file" in text_of(r.text)


def test_an_embargoed_dandisets_zip_is_refused_to_those_who_may_not_read_it(api, tmp_path):
    key = make_account(api, "owner@example.org")
    make_account(api, "stranger@example.org", name="Stan Stranger")
    d = filled_dandiset(api, key, embargo="true")
    url = f"/dandiset/{d}/draft/download.zip"
    for address in (url, f"/dandiset/{d}/draft/SHA256SUMS"):
        r = api.client.get(address, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    stranger = Browser(api)
    stranger.sign_in("stranger@example.org")
    r = stranger.get(url)
    assert r.status_code == 403 and FILES["sub-1/a.txt"] not in r.content
    owner = Browser(api)
    owner.sign_in("owner@example.org")
    r = owner.get(url)
    assert r.status_code == 200
    assert unpacked(r.content, tmp_path)[f"{d}_draft/sub-1/a.txt"] == FILES["sub-1/a.txt"]
    shutil.rmtree(tmp_path)
