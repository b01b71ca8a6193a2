"""OME-Zarr images for tests, written with the OME-Zarr community's models and zarr."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zarr
from ome_zarr_models.v04.axes import Axis
from ome_zarr_models.v04.image import Image
from pydantic_zarr.v2 import ArraySpec

AXES = [
    Axis(name="c", type="channel"),
    Axis(name="z", type="space", unit="micrometer"),
    Axis(name="y", type="space", unit="micrometer"),
    Axis(name="x", type="space", unit="micrometer"),
]


def write_ome_zarr(
    path: Path,
    shape: tuple[int, ...] = (2, 16, 64, 64),
    chunks: tuple[int, ...] = (1, 8, 16, 16),
    seed: int = 0,
    data: np.ndarray | None = None,
) -> np.ndarray:
    """A two-level OME-NGFF 0.4 image (z step 2 µm, 0.5 µm pixels) of ``data`` (c, z, y,
    x; random by default); returns level 0."""
    if data is None:
        data = np.random.default_rng(seed).integers(0, 4000, size=shape, dtype="uint16")
    levels = [data, data[:, :, ::2, ::2]]
    specs = [
        ArraySpec.from_array(level, chunks=chunks, dimension_separator="/", compressor=None)
        for level in levels
    ]
    image = Image.new(
        array_specs=specs,
        paths=["0", "1"],
        axes=AXES,
        scales=[[1, 2.0, 0.5, 0.5], [1, 2.0, 1.0, 1.0]],
        translations=[None, None],
        name="test image",
    )
    store = zarr.storage.LocalStore(path)
    image.to_zarr(store, path="")
    for name, level in zip(["0", "1"], levels, strict=True):
        zarr.open_array(store, path=name, mode="r+")[:] = level
    return data


def tree_files(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` by relative POSIX path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
