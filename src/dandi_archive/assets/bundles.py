"""A folder of a version (or all of it) as one .zip, and its SHA-256 manifest.

The zip is streamed: each file's bytes go from storage into the response as they are
read, with no copy on disk or in memory (zipstream-ng writes the zip around them).
Files are stored, not compressed: neuroscience data rarely shrinks, and with every
size known in advance the response has a Content-Length, so browsers show progress.
A folder too large for one download (``zip_download_max_bytes``) is refused before
anything is sent, with a pointer to the dandi client.

Zarr assets are trees of many objects, not files; neither the zip nor the manifest
holds them (the manifest says so in a comment line, and the dandi client fetches them).

Paths in both start with one top folder, the folder's own name (or
``<identifier>_<version>`` for a whole version), so ``sha256sum -c`` run with the
manifest where the zip was unpacked checks every file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from zipstream import ZIP_STORED, ZipStream

from dandi_archive.db.models import Asset, AssetBlob, Dandiset, Folder, Version, VersionAsset
from dandi_archive.db.text import like_escape
from dandi_archive.errors import BadRequest, Conflict, NotFound, TooLarge
from dandi_archive.storage.base import BlobStore


@dataclass(frozen=True)
class Member:
    path: str  # inside the zip and the manifest: top folder first
    key: str | None  # None for a Zarr
    size: int
    sha256: str | None
    modified: datetime


@dataclass(frozen=True)
class Bundle:
    top: str
    files: list[Member]
    zarrs: list[Member]

    @property
    def size(self) -> int:
        return sum(m.size for m in self.files)


def _under(version: Version, folder: str) -> Select:
    rows = select(VersionAsset).where(VersionAsset.version_id == version.id)
    if folder:
        rows = rows.where(VersionAsset.path.like(like_escape(folder + "/") + "%", escape="\\"))
    return rows


def _folder(session: Session, version: Version, path: str) -> str:
    folder = path.strip("/")
    if session.get(Folder, (version.id, folder)) is None:
        is_file = session.scalar(
            select(VersionAsset.asset_id).where(
                VersionAsset.version_id == version.id, VersionAsset.path == folder
            )
        )
        if is_file is not None:
            raise BadRequest(f"{folder} is a file, not a folder: download it from its page.")
        raise NotFound(f"This version has no folder {folder}.")
    return folder


def bundle(
    session: Session,
    dandiset: Dandiset,
    version: Version,
    path: str = "",
    *,
    max_bytes: int | None = None,
) -> Bundle:
    """The files of a folder of ``version`` (``""``: all of it), largest check first."""
    folder = _folder(session, version, path)
    top = folder.rpartition("/")[2] if folder else f"{dandiset.identifier}_{version.version}"
    in_folder = _under(version, folder).subquery()
    if max_bytes is not None:
        # One sum before reading any row: a huge Dandiset is refused at once.
        total = session.scalar(
            select(func.coalesce(func.sum(AssetBlob.size), 0))
            .select_from(in_folder)
            .join(Asset, Asset.id == in_folder.c.asset_id)
            .join(AssetBlob, AssetBlob.id == Asset.blob_id)
        )
        if total > max_bytes:
            raise TooLarge(
                f"{folder or 'This version'} holds {total:,} bytes, more than the "
                f"{max_bytes:,} this archive zips in one download. Use the dandi client "
                "(the `dandi download` command shown on the Dandiset's page) instead."
            )
    rows = session.execute(
        select(in_folder.c.path, Asset.modified, AssetBlob, Asset.zarr_id)
        .select_from(in_folder)
        .join(Asset, Asset.id == in_folder.c.asset_id)
        .outerjoin(AssetBlob, AssetBlob.id == Asset.blob_id)
        .order_by(in_folder.c.path)
    )
    files: list[Member] = []
    zarrs: list[Member] = []
    cut = len(folder) + 1 if folder else 0
    for asset_path, modified, blob, zarr_id in rows:
        name = f"{top}/{asset_path[cut:]}"
        if blob is None:
            if zarr_id is not None:
                zarrs.append(Member(name, None, 0, None, modified))
            continue
        if blob.fixity_ok is False:
            raise Conflict(
                f"{asset_path} failed its integrity check and is not served, so neither is "
                "this zip; the archive's administrators have been alerted."
            )
        files.append(Member(name, blob.key, blob.size, blob.sha256, modified))
    return Bundle(top, files, zarrs)


def zip_stream(store: BlobStore, found: Bundle) -> ZipStream:
    """The zip, to iterate over; ``len()`` of it is its exact size in bytes."""
    stream = ZipStream(compress_type=ZIP_STORED, sized=True)
    stream.comment = (
        f"{len(found.zarrs)} Zarr asset(s) left out: fetch them with `dandi download`."
        if found.zarrs
        else ""
    )
    for member in found.files:
        assert member.key is not None
        stream.add(_bytes(store, member.key), member.path, size=member.size)
    return stream


def _bytes(store: BlobStore, key: str) -> Iterator[bytes]:
    # A generator: storage is only read when the zip reaches this file.
    yield from store.iter_bytes(key)


def _escaped(path: str) -> tuple[str, str]:
    """sha256sum's own escaping: a line whose name holds ``\\`` or a line break starts
    with ``\\`` and spells them ``\\\\`` and ``\\n``."""
    if "\\" not in path and "\n" not in path and "\r" not in path:
        return "", path
    return "\\", path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def manifest(found: Bundle) -> str:
    """``<sha256>  <path>`` per file, as ``sha256sum`` writes and checks them; files whose
    SHA-256 the archive has not computed yet, and Zarrs, as ``#`` comment lines, which
    ``sha256sum -c`` skips."""
    lines = [f"# SHA-256 of the files of {found.top}; check with: sha256sum -c <this file>"]
    pending: list[str] = []
    for member in found.files:
        if member.sha256 is None:
            pending.append(member.path)
            continue
        prefix, name = _escaped(member.path)
        lines.append(f"{prefix}{member.sha256}  {name}")
    for path in pending:
        lines.append(f"# SHA-256 not computed yet (try again in a few minutes): {path!r}")
    for zarr in found.zarrs:
        lines.append(f"# Zarr, not a single file (not in the zip): {zarr.path!r}")
    return "\n".join(lines) + "\n"
