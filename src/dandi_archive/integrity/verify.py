"""Check a Dandiset from the bucket alone: its manifests against the stored blobs.

This never opens the database; it reads ``dandisets/*/*/assets.jsonld`` (streamed, so
any size fits in memory) and, for every listed asset, checks that the blob behind its
bucket ``contentUrl`` exists with the listed size, dandi-etag and (unless ``quick``)
SHA-256. It is what anyone holding a copy of the bucket can run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import ijson

from dandi_archive.storage.base import BlobStore
from dandi_archive.storage.hashing import sha256_of_object


@dataclass
class VersionReport:
    dandiset: str
    version: str
    assets: int = 0
    problems: list[str] = field(default_factory=list)


class _StoreReader:
    """File-like view of an object, for the streaming JSON parser."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        data, self._buffer = (
            (self._buffer, b"") if size < 0 else (self._buffer[:size], self._buffer[size:])
        )
        return data


def manifest_versions(
    store: BlobStore, dandiset: str | None = None, version: str | None = None
) -> list[tuple[str, str]]:
    """(dandiset, version) pairs that have an assets.jsonld in the bucket."""
    prefix = f"dandisets/{dandiset}/" if dandiset else "dandisets/"
    found = []
    for info in store.list_keys(prefix):
        parts = info.key.split("/")
        if len(parts) == 4 and parts[3] == "assets.jsonld" and version in (None, parts[2]):
            found.append((parts[1], parts[2]))
    return found


def iter_manifest_assets(store: BlobStore, dandiset: str, version: str) -> Iterator[dict[str, Any]]:
    key = f"dandisets/{dandiset}/{version}/assets.jsonld"
    yield from ijson.items(_StoreReader(store.iter_bytes(key)), "item", use_float=True)


def check_asset(store: BlobStore, asset: dict[str, Any], quick: bool) -> str | None:
    """None if the asset's blob is in the bucket as the manifest says, else the problem."""
    path = asset.get("path", asset.get("id"))
    digest = asset.get("digest") or {}
    keys = [k for k in (store.key_for_url(u) for u in asset.get("contentUrl", [])) if k]
    if not keys:
        return f"{path}: no contentUrl in this bucket"
    if "dandi:dandi-etag" not in digest:
        return None  # not a blob (a Zarr is checked against its own manifest)
    info = store.head(keys[0])
    if info is None:
        return f"{path}: {keys[0]} is missing"
    if info.size != asset.get("contentSize"):
        return f"{path}: {info.size} bytes stored, {asset.get('contentSize')} listed"
    if info.etag != digest["dandi:dandi-etag"]:
        return f"{path}: ETag {info.etag} stored, {digest['dandi:dandi-etag']} listed"
    if not quick and "dandi:sha2-256" in digest:
        sha256 = sha256_of_object(store, keys[0])
        if sha256 != digest["dandi:sha2-256"]:
            return f"{path}: SHA-256 {sha256} stored, {digest['dandi:sha2-256']} listed"
    return None


def verify_version(
    store: BlobStore,
    dandiset: str,
    version: str,
    *,
    quick: bool = False,
    progress: Callable[[int], None] = lambda _n: None,
) -> VersionReport:
    report = VersionReport(dandiset, version)
    for asset in iter_manifest_assets(store, dandiset, version):
        report.assets += 1
        problem = check_asset(store, asset, quick)
        if problem:
            report.problems.append(problem)
        progress(1)
    return report
