"""End to end with the real ``dandi`` client: an OME-Zarr image uploaded, downloaded and
compared byte for byte, a few chunks changed and uploaded again (only those are sent),
and the result downloaded again."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import zarr

from ..helpers import DANDISET_METADATA, zarr_checksum_of
from ..omezarr import tree_files, write_ome_zarr

SHAPE = (2, 16, 128, 128)  # with (1, 8, 16, 16) chunks: 256 + 64 chunks in two levels
NAME = "image.ome.zarr"


def wait_for_asset(live, identifier: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assets = live.api("GET", f"/dandisets/{identifier}/versions/draft/assets/").json()
        if assets["results"]:
            aid = assets["results"][0]["asset_id"]
            url = f"/dandisets/{identifier}/versions/draft/assets/{aid}/validation/"
            if live.api("GET", url).json()["status"] == "Valid":
                return live.api("GET", f"/assets/{aid}/").json()
        time.sleep(0.3)
    raise AssertionError("the Zarr asset never became valid")


def upload_urls_issued(log_text: str) -> int:
    return sum(int(n) for n in re.findall(r"upload URLs for (\d+) files", log_text))


def download(live, identifier: str, target: Path) -> dict[str, bytes]:
    target.mkdir()
    result = live.dandi("download", f"{live.url}/api/dandisets/{identifier}/", cwd=target)
    assert result.returncode == 0, result.stdout + result.stderr
    return tree_files(target / identifier / NAME)


def test_ome_zarr_upload_download_and_update(live_archive, tmp_path):
    live = live_archive
    r = live.api("POST", "/dandisets/", json={"name": "Microscopy", "metadata": DANDISET_METADATA})
    identifier = r.json()["identifier"]
    local = tmp_path / "local"
    local.mkdir()
    (local / "dandiset.yaml").write_text(f"identifier: '{identifier}'\n")
    write_ome_zarr(local / NAME, shape=SHAPE)
    original = tree_files(local / NAME)
    assert len(original) > 300

    server_log = live.data_dir.parent / "server.log"
    upload = live.dandi("upload", "-i", live.url, cwd=local)
    assert upload.returncode == 0, upload.stdout + upload.stderr
    assert upload_urls_issued(server_log.read_text()) == len(original)
    metadata = wait_for_asset(live, identifier)
    assert metadata["digest"] == {"dandi:dandi-zarr-checksum": zarr_checksum_of(original)}
    assert metadata["contentSize"] == sum(len(d) for d in original.values())
    assert metadata["ngff"]["shape"] == list(SHAPE)

    assert download(live, identifier, tmp_path / "first") == original

    # Change three chunks of the full-resolution level, then upload again.
    level0 = zarr.open_array(local / NAME / "0", mode="r+")
    for z, y in [(0, 0), (8, 32), (8, 112)]:
        level0[1, z : z + 8, y : y + 16, 0:16] = np.full((8, 16, 16), 7, dtype="uint16")
    changed = tree_files(local / NAME)
    sent = {k for k in changed if changed[k] != original.get(k)}
    assert len(sent) == 3
    before = len(server_log.read_text())
    upload = live.dandi("upload", "-i", live.url, "--existing", "overwrite", cwd=local)
    assert upload.returncode == 0, upload.stdout + upload.stderr
    new_log = server_log.read_text()[before:]
    assert upload_urls_issued(new_log) == len(sent)
    if "DANDI_ARCHIVE_S3_BUCKET" not in live.env:  # the folder store's own PUT log
        assert new_log.count('"PUT /dandi-dandisets/zarr/') == len(sent)
    zarr_id = live.api("GET", f"/dandisets/{identifier}/versions/draft/assets/").json()["results"][
        0
    ]["zarr"]
    status = live.api("GET", f"/zarr/{zarr_id}/").json()
    assert status["status"] == "Complete"
    assert status["checksum"] == zarr_checksum_of(changed)

    assert download(live, identifier, tmp_path / "second") == changed
