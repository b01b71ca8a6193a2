"""A small PNG preview of an OME-Zarr image, for its page in the file browser.

Made when the Zarr is ingested, from the image's lowest resolution level (the level a
pyramid keeps for exactly this kind of overview): one 2-D plane, the first channel and
time point and the middle z slice, contrast-stretched between its 0.5th and 99.5th
percentiles and shrunk to at most 256 pixels a side. Only that level's objects are read,
and only if they are small; a bigger image simply gets no preview.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np
from PIL import Image

import zarr
from dandi_archive.storage.base import BlobStore
from dandi_archive.zarr import ngff

log = logging.getLogger(__name__)

MAX_SIDE = 256
# The most bytes of one level read to make a preview; pyramids keep their top level far
# smaller, a single-level image this big gets none.
MAX_LEVEL_BYTES = 64 * 2**20


def render(store: BlobStore, prefix: str) -> bytes | None:
    """PNG bytes of the preview, or None when the image is too big or unreadable."""
    try:
        plane = _lowest_plane(store, prefix)
    except Exception:  # a preview is a nicety: a broken image must not fail the ingest
        log.warning("no thumbnail for the Zarr at %s", prefix, exc_info=True)
        return None
    return None if plane is None else _png(plane)


def _lowest_plane(store: BlobStore, prefix: str) -> np.ndarray | None:
    multiscale = ngff.multiscales_of(ngff.open_image(store, prefix).attrs)[0]
    level = multiscale["datasets"][-1]["path"].strip("/")
    objects = list(store.list_keys(f"{prefix}{level}/"))
    if sum(info.size for info in objects) > MAX_LEVEL_BYTES:
        return None
    group = ngff.open_image(store, prefix, [info.key[len(prefix) :] for info in objects])
    array = group[level]
    if not isinstance(array, zarr.Array) or array.ndim < 2:
        return None
    return array[_plane_index(multiscale["axes"], array.shape)]


def _plane_index(axes: list[dict[str, Any]], shape: tuple[int, ...]) -> tuple[Any, ...]:
    """All of the last two (y, x) axes; the middle of any other space axis (z), the first
    of the rest (channel, time)."""
    index: list[Any] = []
    for axis, size in zip(axes[:-2], shape[:-2], strict=True):
        index.append(size // 2 if axis.get("type") == "space" else 0)
    return (*index, slice(None), slice(None))


def _png(plane: np.ndarray) -> bytes:
    values = np.asarray(plane, dtype="float64")
    finite = values[np.isfinite(values)]
    low, high = np.percentile(finite, [0.5, 99.5]) if finite.size else (0.0, 1.0)
    if high <= low:
        high = low + 1
    scaled = np.clip((np.nan_to_num(values, nan=low) - low) / (high - low), 0, 1)
    image = Image.fromarray((scaled * 255).astype("uint8"), mode="L")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
