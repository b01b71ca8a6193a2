"""``/api/zarr/{id}/tree/{path}``: a Zarr (live or frozen for a published version) as a
plain Zarr store over HTTP, so ``zarr.open_group`` reads a published Zarr by URL."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
import uvicorn
import zarr
from zarr.storage import FsspecStore

from dandi_archive.app import create_app
from dandi_archive.testing import free_port

from ..helpers import ApiClient, publish, valid_dandiset
from ..omezarr import tree_files, write_ome_zarr
from .test_freeze import OLD, freeze
from .test_ngff import upload_asset


def redirect(api, zarr_id: str, path: str, token: str | None = None):
    return api.get(f"/api/zarr/{zarr_id}/tree/{path}", token, follow_redirects=False)


def test_the_tree_redirects_to_each_file_of_live_and_frozen_zarrs(api, owner):
    dandiset = api.create_dandiset(owner)
    live = api.create_zarr(owner, dandiset)
    api.put_zarr_files(owner, live, OLD)
    api.finalize_zarr(owner, live)
    r = redirect(api, live, "a/c/0")
    assert r.status_code == 302
    assert api.get(r.headers["Location"]).content == b"chunk a0"
    frozen = freeze(api, live)
    # The live Zarr changes; the frozen one keeps what was published.
    api.put_zarr_files(owner, live, {"a/c/0": b"rewritten"})
    api.finalize_zarr(owner, live)
    api.wait_for_jobs()
    assert api.get(redirect(api, frozen, "a/c/0").headers["Location"]).content == b"chunk a0"
    assert api.get(redirect(api, live, "a/c/0").headers["Location"]).content == b"rewritten"
    head = api.request("HEAD", f"/api/zarr/{frozen}/tree/zarr.json", follow_redirects=False)
    assert head.status_code == 302

    missing = redirect(api, frozen, "a/c/9")
    assert missing.status_code == 404 and "no file" in missing.json()["detail"]
    assert redirect(api, frozen, "a//c").status_code == 400
    assert redirect(api, "not-a-zarr", "zarr.json").status_code in (400, 404)


def test_an_embargoed_zarr_tree_is_for_its_owners(api, owner):
    dandiset = api.create_dandiset(owner, embargo="true")
    zarr_id = api.create_zarr(owner, dandiset)
    api.put_zarr_files(owner, zarr_id, OLD)
    api.finalize_zarr(owner, zarr_id)
    assert redirect(api, zarr_id, "zarr.json").status_code in (401, 404)
    assert redirect(api, zarr_id, "zarr.json", owner).status_code == 302


@contextmanager
def serving(make_api) -> Iterator[tuple[ApiClient, str]]:
    """An archive served by uvicorn on a loopback port (zarr and fsspec need real HTTP)."""
    port = free_port()
    api = make_api(base_url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(
        uvicorn.Config(create_app(api.archive), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        yield api, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_zarr_opens_a_published_zarr_by_its_tree_url(make_api, tmp_path):
    with serving(make_api) as (api, base):
        owner = api.make_user()
        data = write_ome_zarr(tmp_path / "img.ome.zarr")
        dandiset = api.create_dandiset(owner)
        asset = upload_asset(
            api, owner, dandiset, "img.ome.zarr", tree_files(tmp_path / "img.ome.zarr")
        )
        api.wait_for_jobs()
        frozen = freeze(api, asset["zarr"])
        url = f"{base}/api/zarr/{frozen}/tree/"
        group = zarr.open_group(FsspecStore.from_url(url, read_only=True), mode="r")
        assert np.array_equal(group["0"][:], data)
        assert group.attrs["multiscales"][0]["name"] == "test image"


# zarr 2 (the API most existing analysis code uses) cannot share the environment with
# zarr 3: `make test` installs it in a virtualenv of its own (target zarr2) and points
# this variable at its Python; without it the zarr 2 part is skipped, except in CI.
ZARR2_PYTHON = os.environ.get("DANDI_ARCHIVE_TEST_ZARR2_PYTHON")
ZARR2_READ = """
import sys, zarr
group = zarr.open_group(sys.argv[1], mode="r")
assert zarr.__version__.startswith("2."), zarr.__version__
print(int(group["0"][:].astype("int64").sum()), group.attrs["multiscales"][0]["name"])
"""


def test_a_zarr_asset_opens_from_its_content_url(make_api, tmp_path):
    """The tree URL is one of a Zarr asset's contentUrls, live (draft) and published:
    zarr.open_group(that URL) reads the image (zarr 3 here; zarr 2 in a subprocess when
    DANDI_ARCHIVE_TEST_ZARR2_PYTHON names a Python with it)."""
    with serving(make_api) as (api, base):
        owner = api.make_user()
        data = write_ome_zarr(tmp_path / "img.ome.zarr")
        dandiset = valid_dandiset(api, owner, {"notes.txt": b"notes"})
        asset = upload_asset(
            api, owner, dandiset, "img.ome.zarr", tree_files(tmp_path / "img.ome.zarr")
        )
        api.wait_for_jobs()
        version = publish(api, owner, dandiset)
        urls = {}
        for name in ("draft", version):
            listed = api.get(
                f"/api/dandisets/{dandiset}/versions/{name}/assets/",
                params={"metadata": 1, "path": "img.ome.zarr"},
            ).json()["results"]
            meta = listed[0]["metadata"]
            trees = [
                u for u in meta["contentUrl"] if u.endswith(f"/zarr/{listed[0]['zarr']}/tree/")
            ]
            assert len(trees) == 1, meta["contentUrl"]
            assert meta["contentUrl"][1].startswith(api.archive.store.public_url(""))
            urls[name] = trees[0]
        assert urls["draft"] == f"{base}/api/zarr/{asset['zarr']}/tree/"
        assert urls[version] != urls["draft"]  # the published one is the frozen copy
        for url in urls.values():
            group = zarr.open_group(url, mode="r")
            assert np.array_equal(group["0"][:], data)
            assert group.attrs["multiscales"][0]["name"] == "test image"
        if ZARR2_PYTHON is None or not os.path.exists(ZARR2_PYTHON):
            message = "zarr 2 not tested: DANDI_ARCHIVE_TEST_ZARR2_PYTHON names no Python"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        read = subprocess.run(
            [ZARR2_PYTHON, "-c", ZARR2_READ, urls[version]],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert read.returncode == 0, read.stderr
        assert read.stdout.split() == [str(int(data.astype("int64").sum())), "test", "image"]
