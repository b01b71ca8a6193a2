"""``/api/zarr/{id}/tree/{path}``: a Zarr (live or frozen for a published version) as a
plain Zarr store over HTTP, so ``zarr.open_group`` reads a published Zarr by URL."""

from __future__ import annotations

import threading
import time

import numpy as np
import uvicorn
import zarr
from zarr.storage import FsspecStore

from dandi_archive.app import create_app
from dandi_archive.testing import free_port

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


def test_zarr_opens_a_published_zarr_by_its_tree_url(make_api, tmp_path):
    port = free_port()
    api = make_api(base_url=f"http://127.0.0.1:{port}")
    owner = api.make_user()
    server = uvicorn.Server(
        uvicorn.Config(create_app(api.archive), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        data = write_ome_zarr(tmp_path / "img.ome.zarr")
        dandiset = api.create_dandiset(owner)
        asset = upload_asset(
            api, owner, dandiset, "img.ome.zarr", tree_files(tmp_path / "img.ome.zarr")
        )
        api.wait_for_jobs()
        frozen = freeze(api, asset["zarr"])
        url = f"http://127.0.0.1:{port}/api/zarr/{frozen}/tree/"
        group = zarr.open_group(FsspecStore.from_url(url, read_only=True), mode="r")
        assert np.array_equal(group["0"][:], data)
        assert group.attrs["multiscales"][0]["name"] == "test image"
    finally:
        server.should_exit = True
        thread.join(10)
