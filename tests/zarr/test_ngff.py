"""OME-NGFF awareness: multiscales checked and summarised into the asset metadata, and
the uploaded tree readable with zarr + fsspec straight from the bucket."""

from __future__ import annotations

import base64
import io
import json
import uuid

import numpy as np
import zarr
from zarr.storage import FsspecStore

from ..omezarr import tree_files, write_ome_zarr


def upload_asset(api, owner, dandiset, path: str, files: dict[str, bytes]) -> dict:
    zarr_id = api.create_zarr(owner, dandiset, path)
    r = api.post(
        f"/api/dandisets/{dandiset}/versions/draft/assets/",
        owner,
        json={"metadata": {"path": path}, "zarr_id": zarr_id},
    )
    assert r.status_code == 200, r.text
    api.put_zarr_files(owner, zarr_id, files)
    api.finalize_zarr(owner, zarr_id)
    return r.json()


def validation(api, dandiset, asset) -> dict:
    url = f"/api/dandisets/{dandiset}/versions/draft/assets/{asset['asset_id']}/validation/"
    return api.get(url).json()


def metadata(api, asset) -> dict:
    return api.get(f"/api/assets/{asset['asset_id']}/").json()


def test_ome_zarr_is_validated_and_summarised(api, owner, dandiset, tmp_path):
    write_ome_zarr(tmp_path / "img.ome.zarr")
    asset = upload_asset(
        api, owner, dandiset, "img.ome.zarr", tree_files(tmp_path / "img.ome.zarr")
    )
    assert validation(api, dandiset, asset) == {
        "status": "Valid",
        "validation_errors": [],
        "validation_warnings": [],
        "nwb_inspection": None,
    }
    ngff = metadata(api, asset)["ngff"]
    assert ngff == {
        "version": "0.4",
        "axes": [
            {"name": "c", "type": "channel"},
            {"name": "z", "type": "space", "unit": "micrometer"},
            {"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"},
        ],
        "shape": [2, 16, 64, 64],
        "dtype": "uint16",
        "chunks": [1, 8, 16, 16],
        "pixelSize": [
            {"axis": "z", "value": 2.0, "unit": "micrometer"},
            {"axis": "y", "value": 0.5, "unit": "micrometer"},
            {"axis": "x", "value": 0.5, "unit": "micrometer"},
        ],
        "levels": 2,
    }


def test_ome_zarr_gets_a_preview_of_its_middle_plane(api, owner, dandiset, tmp_path):
    from PIL import Image

    from dandi_archive.db.models import Asset

    # Channel 0's middle z slice (8 of 16) is lit on the left; every other plane on the
    # right or all over, so a preview of the wrong plane shows the wrong side lit.
    data = np.full((2, 16, 64, 64), 10, dtype="uint16")
    data[0, :, :, 32:] = 3000
    data[0, 8] = 10
    data[0, 8, :, :32] = 3000
    data[1] = 3000
    write_ome_zarr(tmp_path / "img.ome.zarr", data=data)
    asset = upload_asset(
        api, owner, dandiset, "img.ome.zarr", tree_files(tmp_path / "img.ome.zarr")
    )
    api.wait_for_jobs()
    with api.archive.db.session() as session:
        zarr_row = session.get(Asset, uuid.UUID(asset["asset_id"])).zarr
        encoded = zarr_row.ngff["thumbnail"]
    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    # The lowest level (32 x 32) of the pyramid, grey levels stretched to the full range.
    assert (image.format, image.mode, image.size) == ("PNG", "L", (32, 32))
    pixels = np.asarray(image)
    assert (pixels[:, :16] == 255).all() and (pixels[:, 16:] == 0).all()


def test_broken_multiscales_are_asset_validation_errors(api, owner, dandiset, tmp_path):
    write_ome_zarr(tmp_path / "img.ome.zarr")
    files = tree_files(tmp_path / "img.ome.zarr")
    attrs = json.loads(files[".zattrs"])
    del attrs["multiscales"][0]["axes"][1:]  # one axis left for 4-d arrays
    files[".zattrs"] = json.dumps(attrs).encode()
    asset = upload_asset(api, owner, dandiset, "bad.ome.zarr", files)
    result = validation(api, dandiset, asset)
    assert result["status"] == "Invalid"
    assert result["validation_errors"]
    assert all(e["field"].startswith("ngff") for e in result["validation_errors"])
    assert "ngff" not in metadata(api, asset)
    info = api.get(f"/api/dandisets/{dandiset}/versions/draft/info/").json()
    assert any(e["path"] == "bad.ome.zarr" for e in info["asset_validation_errors"])


def test_ome_zarr_without_multiscales_is_invalid(api, owner, dandiset):
    files = {".zgroup": b'{"zarr_format": 2}', ".zattrs": b"{}"}
    asset = upload_asset(api, owner, dandiset, "empty.ome.zarr", files)
    result = validation(api, dandiset, asset)
    assert result["status"] == "Invalid"
    assert "multiscales" in result["validation_errors"][0]["message"]


def test_plain_zarr_needs_no_ngff(api, owner, dandiset):
    files = {".zgroup": b'{"zarr_format": 2}'}
    asset = upload_asset(api, owner, dandiset, "plain.zarr", files)
    assert validation(api, dandiset, asset)["status"] == "Valid"


def test_uploaded_tree_reads_with_zarr_and_fsspec_from_the_bucket(api, owner, dandiset, tmp_path):
    data = write_ome_zarr(tmp_path / "img.ome.zarr")
    files = tree_files(tmp_path / "img.ome.zarr")
    asset = upload_asset(api, owner, dandiset, "img.ome.zarr", files)
    zarr_id = asset["zarr"]
    store = api.archive.store
    if api.archive.settings.s3_bucket:
        api.make_bucket_public()  # read over plain HTTP; S3's own API would need s3fs
        url, options = store.public_url(f"zarr/{zarr_id}/"), {}
    else:
        url, options = store.fsspec_location(f"zarr/{zarr_id}/")
    group = zarr.open_group(
        FsspecStore.from_url(url, storage_options=options, read_only=True), mode="r"
    )
    assert np.array_equal(group["0"][:], data)
    assert group.attrs["multiscales"][0]["name"] == "test image"
