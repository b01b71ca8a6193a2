"""The folder totals kept per version, and whether a path is free in one.

Every folder of a version has a row in ``folders`` with the number and total size of
the files below it; adding or removing an asset adjusts its ancestors in one
statement. The root row (path ``""``) carries the version's asset count and size.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dandi_archive.db.models import Folder, VersionAsset
from dandi_archive.errors import Conflict
from dandi_archive.paths import ancestors, parent_of


def check_path_is_free(session: Session, version_id: int, path: str) -> None:
    """Refuse a path taken by an asset, or clashing with a file or folder."""
    folders = ancestors(path)[1:]
    clash = session.scalar(
        select(VersionAsset.path).where(
            VersionAsset.version_id == version_id,
            VersionAsset.path.in_([path, *folders]),
        )
    )
    if clash == path:
        raise Conflict(f"An asset already exists at path {path!r}.")
    if clash is not None:
        raise Conflict(f"Path {path!r} would put a file inside {clash!r}, which is a file.")
    if session.get(Folder, (version_id, path)) is not None:
        raise Conflict(f"Path {path!r} is a folder of this version; it cannot be a file too.")


def _upsert(session: Session):
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(Folder)


def add_to_folders(session: Session, version_id: int, path: str, size: int) -> None:
    rows = [
        {
            "version_id": version_id,
            "path": folder,
            "parent": parent_of(folder) if folder else None,
            "file_count": 1,
            "total_size": size,
        }
        for folder in ancestors(path)
    ]
    insert = _upsert(session).values(rows)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["version_id", "path"],
            set_={
                "file_count": Folder.file_count + insert.excluded.file_count,
                "total_size": Folder.total_size + insert.excluded.total_size,
            },
        )
    )


def remove_from_folders(session: Session, version_id: int, path: str, size: int) -> None:
    folders = ancestors(path)
    session.execute(
        update(Folder)
        .where(Folder.version_id == version_id, Folder.path.in_(folders))
        .values(file_count=Folder.file_count - 1, total_size=Folder.total_size - size)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(Folder)
        .where(
            Folder.version_id == version_id,
            Folder.path.in_(folders[1:]),
            Folder.file_count <= 0,
        )
        .execution_options(synchronize_session=False)
    )


def adjust_folder_sizes(session: Session, version_id: int, path: str, delta: int) -> None:
    """An asset at ``path`` grew (or shrank) by ``delta`` bytes; its file count is unchanged."""
    session.execute(
        update(Folder)
        .where(Folder.version_id == version_id, Folder.path.in_(ancestors(path)))
        .values(total_size=Folder.total_size + delta)
        .execution_options(synchronize_session=False)
    )


def create_root(session: Session, version_id: int) -> None:
    session.add(Folder(version_id=version_id, path="", parent=None, file_count=0, total_size=0))


def version_totals(session: Session, version_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(asset count, total bytes) of each version, from the root folder rows."""
    if not version_ids:
        return {}
    rows = session.execute(
        select(Folder.version_id, Folder.file_count, Folder.total_size).where(
            Folder.version_id.in_(version_ids), Folder.path == ""
        )
    )
    totals = {vid: (0, 0) for vid in version_ids}
    totals.update({vid: (count, size) for vid, count, size in rows})
    return totals
