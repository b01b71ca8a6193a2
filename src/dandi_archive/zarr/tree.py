"""The Zarr checksum, kept up to date incrementally.

The checksum is a Merkle tree (the ``zarr_checksum`` rule dandi clients compute): each
directory's digest is the MD5 of a JSON manifest of its files (MD5, size) and
subdirectories (digest, total size). The database keeps every file's leaf
(``zarr_files``) and every directory's digest (``zarr_directories``), so applying a
set of changed paths re-hashes only the directories above them, reading only their
direct children from the database and no object from storage.
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from zarr_checksum.checksum import ZarrChecksum, ZarrChecksumManifest, ZarrDirectoryDigest

from dandi_archive.db.models import ZarrDirectory, ZarrFile
from dandi_archive.db.upsert import dialect_insert

BATCH = 500


@dataclass(frozen=True)
class FileState:
    """What storage holds at a path: an object, or nothing (``md5`` None)."""

    path: str
    size: int | None
    md5: str | None
    modified: datetime | None


def folders_above(path: str) -> list[str]:
    """Directories containing ``path``, root first: ``a/b/c`` -> ``["", "a", "a/b"]``."""
    parts = path.split("/")[:-1]
    return [""] + ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _depth(folder: str) -> int:
    return folder.count("/") + 1 if folder else 0


def apply_changes(session: Session, zarr_id: uuid.UUID, states: Iterable[FileState]) -> set[str]:
    """Record the new state of changed paths; return the directories to re-hash."""
    dirty: set[str] = {""}
    present: list[dict] = []
    gone: list[str] = []
    for state in states:
        dirty.update(folders_above(state.path))
        if state.md5 is None:
            gone.append(state.path)
        else:
            present.append(
                {
                    "zarr_id": zarr_id,
                    "path": state.path,
                    "directory": posixpath.dirname(state.path),
                    "size": state.size,
                    "md5": state.md5,
                    "modified": state.modified,
                }
            )
    for i in range(0, len(gone), BATCH):
        batch = gone[i : i + BATCH]
        session.execute(
            delete(ZarrFile).where(ZarrFile.zarr_id == zarr_id, ZarrFile.path.in_(batch))
        )
    for i in range(0, len(present), BATCH):
        insert = dialect_insert(session, ZarrFile).values(present[i : i + BATCH])
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["zarr_id", "path"],
                set_={
                    "directory": insert.excluded.directory,
                    "size": insert.excluded.size,
                    "md5": insert.excluded.md5,
                    "modified": insert.excluded.modified,
                },
            )
        )
    return dirty


def rehash(session: Session, zarr_id: uuid.UUID, dirty: set[str]) -> ZarrDirectoryDigest:
    """Recompute the digests of ``dirty`` directories, deepest first; return the root's.

    ``dirty`` must hold every ancestor of every changed path (``apply_changes`` does).
    """
    root = ZarrChecksumManifest().generate_digest()
    for folder in sorted(dirty, key=_depth, reverse=True):
        digest = _directory_digest(session, zarr_id, folder)
        if folder == "":
            root = digest or root
        _store_digest(session, zarr_id, folder, digest or (root if folder == "" else None))
    return root


def _directory_digest(
    session: Session, zarr_id: uuid.UUID, folder: str
) -> ZarrDirectoryDigest | None:
    files = session.execute(
        select(ZarrFile.path, ZarrFile.md5, ZarrFile.size).where(
            ZarrFile.zarr_id == zarr_id, ZarrFile.directory == folder
        )
    )
    folders = session.execute(
        select(ZarrDirectory.path, ZarrDirectory.digest, ZarrDirectory.size).where(
            ZarrDirectory.zarr_id == zarr_id, ZarrDirectory.parent == folder
        )
    )
    manifest = ZarrChecksumManifest(
        files=[ZarrChecksum(digest=md5, name=posixpath.basename(p), size=n) for p, md5, n in files],
        directories=[
            ZarrChecksum(digest=d, name=posixpath.basename(p), size=n) for p, d, n in folders
        ],
    )
    return None if manifest.is_empty else manifest.generate_digest()


def _store_digest(
    session: Session, zarr_id: uuid.UUID, folder: str, digest: ZarrDirectoryDigest | None
) -> None:
    if digest is None:  # an emptied directory disappears, as in S3
        session.execute(
            delete(ZarrDirectory).where(
                ZarrDirectory.zarr_id == zarr_id, ZarrDirectory.path == folder
            )
        )
        return
    values = {
        "zarr_id": zarr_id,
        "path": folder,
        "parent": posixpath.dirname(folder) if folder else None,
        "digest": digest.digest,
        "file_count": digest.count,
        "size": digest.size,
    }
    insert = dialect_insert(session, ZarrDirectory).values(values)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["zarr_id", "path"],
            set_={k: insert.excluded[k] for k in ("digest", "file_count", "size")},
        )
    )


def directory_sizes(session: Session, zarr_id: uuid.UUID, folders: Iterable[str]) -> dict[str, int]:
    """Number of files below each known directory (for choosing HEADs or a listing)."""
    wanted = list(set(folders))
    sizes: dict[str, int] = {}
    for i in range(0, len(wanted), BATCH):
        rows = session.execute(
            select(ZarrDirectory.path, ZarrDirectory.file_count).where(
                ZarrDirectory.zarr_id == zarr_id, ZarrDirectory.path.in_(wanted[i : i + BATCH])
            )
        )
        sizes.update({path: count for path, count in rows})
    return sizes
