"""Every command the handbook shows, run as written against a live archive.

The handbook's ``console tested`` and ``python tested`` blocks are taken from its pages
with this archive's values substituted (its address, the dandi client's key variable),
and run in reading order per audience: first what a data owner does (download the empty
draft, organize, validate, upload NWB files and an OME-Zarr), then what a data user
does (download a Dandiset, a folder, a file; stream an NWB file with remfile and fsspec;
open the Zarr; read the bucket), then the operator's commands. A block fails when any of
its commands exits non-zero. The API key reaches the client only through the variable
the handbook names, so a wrong name there fails the upload.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dandi_archive.config import Settings
from dandi_archive.handbook.pages import CONTENTS, CodeBlock, code_blocks
from dandi_archive.handbook.values import instance_values

from ..helpers import BIN, DANDISET_METADATA
from ..omezarr import write_ome_zarr
from .test_dandi_client import SESSIONS, write_nwb

# Which folder each part of the handbook is followed in, in this order.
AUDIENCES = (("Sharing data", "owner"), ("Using data", "user"), ("Running an archive", "operator"))


def commands(block: CodeBlock) -> str:
    """The shell script of a console block: lines after ``$ `` (with their ``\\``
    continuations); the other lines are the output shown to readers."""
    script, continued = [], False
    for line in block.text.splitlines():
        if continued:
            script[-1] += "\n" + line
        elif line.startswith("$ "):
            script.append(line[2:])
        else:
            continue
        continued = line.endswith("\\")
    return "\n".join(script)


def run_block(block: CodeBlock, cwd: Path, env: dict[str, str]) -> str:
    if block.language == "console":
        argv = ["bash", "-euo", "pipefail", "-c", commands(block)]
    else:
        argv = [sys.executable, "-c", block.text]
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        f"handbook page {block.page!r}, block:\n{block.text}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result.stdout


def wait_for_manifest(url: str, files: int, timeout: float = 120) -> None:
    """The draft's assets.yaml in the bucket, once it lists every file."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = httpx.get(f"{url}/bucket/dandisets/000001/draft/assets.yaml")
        if r.status_code == 200 and r.text.count("\n- ") + r.text.startswith("- ") >= files:
            return
        time.sleep(0.5)
    raise AssertionError(f"the draft's manifest never listed {files} files")


@pytest.mark.parametrize("live_archive", ["embedded"], indirect=True)
def test_every_tested_block_runs(live_archive, tmp_path):
    live = live_archive
    settings = Settings(
        host="127.0.0.1", port=int(live.env["DANDI_ARCHIVE_PORT"]), data_dir=live.data_dir
    )
    values = instance_values(settings, f"{live.url}/bucket/")
    # Blocks for a PostgreSQL archive are run by tests/backup/test_postgres_backup.py.
    blocks = [b for b in code_blocks(values) if b.tested and "postgres" not in b.options]
    pages_of = {section: set(slugs) for section, slugs in CONTENTS}
    tested_pages = {b.page for b in blocks}
    assert {"download", "stream", "upload", "bucket", "integrity"} <= tested_pages

    env = {
        **live.env,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DANDI_NO_ET": "1",
        "DANDI_CACHE": "ignore",
        values.api_key_var: live.key,  # the only way the key reaches the client
    }
    folders = {name: tmp_path / name for _, name in AUDIENCES}
    for folder in folders.values():
        folder.mkdir()
    # What the owner has before following the handbook: recordings and an image, and
    # the Dandiset made with the "New Dandiset" form (here through the same service).
    recordings = folders["owner"] / "my-recordings"
    for subject, session in SESSIONS:
        write_nwb(recordings / f"{subject}-{session}.nwb", subject, session)
    write_ome_zarr(folders["owner"] / "image.ome.zarr")
    r = live.api("POST", "/dandisets/", json={"name": "Handbook", "metadata": DANDISET_METADATA})
    assert r.json()["identifier"] == "000001", r.text

    outputs: dict[str, str] = {}
    for section, name in AUDIENCES:
        if name == "user":  # the owner's uploads are in, validated, and in the bucket
            wait_for_manifest(live.url, files=len(SESSIONS) + 1)
        for block in (b for b in blocks if b.page in pages_of[section]):
            outputs[block.page] = outputs.get(block.page, "") + run_block(block, folders[name], env)

    listed = live.api("GET", "/dandisets/000001/versions/draft/assets/").json()["results"]
    assert sorted(a["path"] for a in listed) == sorted(
        ["image.ome.zarr"] + [f"sub-{s}/sub-{s}_ses-{d}.nwb" for s, d in SESSIONS]
    )
    user = folders["user"]
    for subject, session in SESSIONS:
        name = f"sub-{subject}/sub-{subject}_ses-{session}.nwb"
        assert filecmp.cmp(recordings / f"{subject}-{session}.nwb", user / "000001" / name)
    assert (user / "000001" / "image.ome.zarr" / ".zattrs").is_file()
    assert sorted(p.name for p in (user / "one-folder").rglob("*.nwb")) == [
        "sub-mouse1_ses-day1.nwb",
        "sub-mouse1_ses-day2.nwb",
    ]
    assert [p.name for p in (user / "one-file").rglob("*.nwb")] == ["sub-mouse1_ses-day1.nwb"]
    assert "Recording day1 of mouse1" in outputs["stream"]
    assert "['c', 'z', 'y', 'x']" in outputs["stream"]
    assert outputs["bucket"].count("checksum OK") == len(SESSIONS)
    assert "000001/draft" in outputs["integrity"] and "OK" in outputs["integrity"]
    assert '"status":"ok"' in outputs["monitoring"].replace(" ", "")
