"""OME-NGFF awareness: check a Zarr's multiscales metadata and summarise the image.

Only the small metadata documents are read from the bucket (the root group's and each
resolution level's), put in an in-memory Zarr store and judged by ``ome-zarr-models``,
the OME-Zarr community's models of the specification; no chunk is read.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from dandi_archive.storage.base import BlobStore

# zarr (and numpy under it) is imported where an image is opened, in jobs: an API process
# that never inspects a Zarr does not carry it (about 40 MiB of memory).
if TYPE_CHECKING:
    import zarr
    from zarr.storage import MemoryStore

METADATA_FILES = frozenset({"zarr.json", ".zattrs", ".zgroup", ".zarray", ".zmetadata"})
NGFF_SUFFIXES = (".ome.zarr", ".ngff")
MAX_DOCUMENT = 16 * 2**20


def is_metadata_path(path: str) -> bool:
    return posixpath.basename(path) in METADATA_FILES


def expects_ngff(asset_path: str) -> bool:
    return asset_path.lower().endswith(NGFF_SUFFIXES)


def inspect(store: BlobStore, prefix: str) -> dict[str, Any]:
    """``{"multiscales": summary}`` for a valid OME-Zarr image, else ``{"errors": [...]}``."""
    try:
        group = open_image(store, prefix)
        zarr_format = group.metadata.zarr_format
        image = _validate(group, zarr_format)
    except ValidationError as exc:
        return {"errors": [_describe(e) for e in exc.errors()]}
    except (NgffError, ValueError, KeyError, TypeError) as exc:
        return _errors(str(exc))
    return {"multiscales": _summary(image, group, zarr_format)}


def open_image(store: BlobStore, prefix: str, objects: Iterable[str] = ()) -> zarr.Group:
    """The image's root group in memory: its metadata documents and each of ``objects``
    (keys relative to ``prefix``, such as one level's chunks) read from the bucket."""
    docs: dict[str, bytes] = {}
    attrs, zarr_format = _root_attributes(store, prefix, docs)
    multiscales = multiscales_of(attrs)
    if not multiscales:
        raise NgffError("The root group has no OME-NGFF 'multiscales' metadata.")
    _fetch_levels(store, prefix, multiscales, zarr_format, docs)
    for key in objects:
        docs[key] = b"".join(store.iter_bytes(prefix + key))
    import zarr

    return zarr.open_group(_memory_store(docs), mode="r", zarr_format=zarr_format)


def multiscales_of(attrs: Any) -> Any:
    """The multiscales list of root attributes, NGFF 0.5 (under "ome") or 0.4 (top)."""
    return (attrs.get("ome") or {}).get("multiscales") or attrs.get("multiscales")


class NgffError(Exception):
    pass


def _errors(message: str) -> dict[str, Any]:
    return {"errors": [{"field": "ngff", "message": message}]}


def _describe(error: Any) -> dict[str, str]:
    location = ".".join(str(p) for p in error.get("loc", ()))
    return {"field": f"ngff.{location}" if location else "ngff", "message": error.get("msg", "")}


def _read(store: BlobStore, key: str) -> bytes | None:
    info = store.head(key)
    if info is None:
        return None
    if info.size > MAX_DOCUMENT:
        raise NgffError(f"{key.rpartition('/')[2]} is larger than {MAX_DOCUMENT} bytes.")
    return b"".join(store.iter_bytes(key))


def _json(data: bytes, name: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise NgffError(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise NgffError(f"{name} must hold a JSON object.")
    return doc


def _root_attributes(
    store: BlobStore, prefix: str, docs: dict[str, bytes]
) -> tuple[dict[str, Any], int]:
    if (data := _read(store, prefix + "zarr.json")) is not None:
        docs["zarr.json"] = data
        return _json(data, "zarr.json").get("attributes") or {}, 3
    group = _read(store, prefix + ".zgroup")
    if group is None:
        raise NgffError("The Zarr has no group metadata at its root (zarr.json or .zgroup).")
    docs[".zgroup"] = group
    attrs = _read(store, prefix + ".zattrs")
    if attrs is None:
        return {}, 2
    docs[".zattrs"] = attrs
    return _json(attrs, ".zattrs"), 2


def _fetch_levels(
    store: BlobStore,
    prefix: str,
    multiscales: Any,
    zarr_format: int,
    docs: dict[str, bytes],
) -> None:
    """Fetch the metadata of every resolution level (and of the groups above them)."""
    names = ("zarr.json",) if zarr_format == 3 else (".zarray", ".zattrs", ".zgroup")
    for multiscale in multiscales if isinstance(multiscales, list) else []:
        for dataset in (multiscale or {}).get("datasets") or []:
            path = dataset.get("path") if isinstance(dataset, dict) else None
            if not isinstance(path, str) or not path or ".." in path.split("/"):
                continue  # the model reports malformed datasets
            parts = path.strip("/").split("/")
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth])
                for name in names:
                    key = f"{folder}/{name}"
                    if key not in docs and (data := _read(store, prefix + key)) is not None:
                        docs[key] = data


def _memory_store(docs: dict[str, bytes]) -> MemoryStore:
    from zarr.core.buffer import default_buffer_prototype
    from zarr.storage import MemoryStore

    buffer = default_buffer_prototype().buffer
    return MemoryStore({k: buffer.from_bytes(v) for k, v in docs.items()}, read_only=True)


def _validate(group: zarr.Group, zarr_format: int) -> Any:
    if zarr_format == 3:
        from ome_zarr_models.v05.image import Image as ImageV05

        return ImageV05.from_zarr(group)
    from ome_zarr_models.v04.image import Image as ImageV04

    return ImageV04.from_zarr(group)


def _summary(image: Any, group: zarr.Group, zarr_format: int) -> dict[str, Any]:
    """Axes, the full-resolution level's shape, dtype and chunks, and the pixel size."""
    attrs = image.attributes.model_dump(mode="json", exclude_none=True)
    multiscale = (attrs.get("ome") or attrs)["multiscales"][0]
    axes = [
        {k: v for k, v in a.items() if k in ("name", "type", "unit")} for a in multiscale["axes"]
    ]
    level = multiscale["datasets"][0]
    array = group[level["path"]]
    scale = _scale(level.get("coordinateTransformations"), len(axes))
    overall = _scale(multiscale.get("coordinateTransformations"), len(axes))
    scale = [a * b for a, b in zip(scale, overall, strict=True)]
    pixel_size = [
        {"axis": axis["name"], "value": value, **({"unit": axis["unit"]} if "unit" in axis else {})}
        for axis, value in zip(axes, scale, strict=True)
        if axis.get("type") == "space"
    ]
    return {
        "version": "0.5" if zarr_format == 3 else "0.4",
        "axes": axes,
        "shape": list(array.shape),
        "dtype": str(array.dtype),
        "chunks": list(array.chunks),
        "pixelSize": pixel_size,
        "levels": len(multiscale["datasets"]),
    }


def _scale(transforms: Any, ndim: int) -> list[float]:
    for transform in transforms or []:
        if transform.get("type") == "scale" and isinstance(transform.get("scale"), list):
            return [float(v) for v in transform["scale"]]
    return [1.0] * ndim
