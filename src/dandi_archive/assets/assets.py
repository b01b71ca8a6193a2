"""Assets of a draft: adding, replacing, removing, listing and browsing by folder.

Every change locks the draft's version row first, so changes to one draft are applied
one after the other (folder totals and path checks stay exact), while different
Dandisets never wait for each other.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, null, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from dandi_archive import paths
from dandi_archive.access import blobs
from dandi_archive.access.permissions import may_read, require_readable
from dandi_archive.audit import events as audit
from dandi_archive.dandisets import folders
from dandi_archive.dandisets import metadata as md
from dandi_archive.dandisets.versions import get_writable_draft, mark_changed
from dandi_archive.db.models import (
    Asset,
    AssetBlob,
    Dandiset,
    Folder,
    User,
    Version,
    VersionAsset,
    Zarr,
)
from dandi_archive.db.text import like_escape
from dandi_archive.errors import BadRequest, Conflict, NotFound
from dandi_archive.search import index as search_index
from dandi_archive.standards import bids

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

ASSET_ORDERS = ("created", "modified", "path")


def parse_uuid(value: Any, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise BadRequest(f"{what} {value!r} is not a UUID.") from None


def get_asset_in_version(session: Session, version: Version, asset_id: str) -> Asset:
    aid = _asset_uuid_or_404(asset_id)
    asset = session.scalar(
        select(Asset)
        .join(VersionAsset, VersionAsset.asset_id == Asset.id)
        .where(VersionAsset.version_id == version.id, Asset.id == aid)
    )
    if asset is None:
        raise NotFound(f"No asset {asset_id} in this version.")
    return asset


def get_asset(session: Session, asset_id: str) -> Asset:
    asset = session.get(Asset, _asset_uuid_or_404(asset_id))
    if asset is None:
        raise NotFound(f"No asset {asset_id}.")
    return asset


def _asset_uuid_or_404(asset_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(asset_id)
    except ValueError:
        raise NotFound(f"{asset_id!r} is not an asset id.") from None


def dandisets_of_asset(session: Session, asset: Asset) -> list[Dandiset]:
    return list(
        session.scalars(
            select(Dandiset)
            .join(Version, Version.dandiset_id == Dandiset.id)
            .join(VersionAsset, VersionAsset.version_id == Version.id)
            .where(VersionAsset.asset_id == asset.id)
            .distinct()
        )
    )


# -- changes -----------------------------------------------------------------------------


@dataclass
class Content:
    """What an asset holds: a blob or a Zarr."""

    blob: AssetBlob | None = None
    zarr: Zarr | None = None

    @property
    def size(self) -> int:
        return self.blob.size if self.blob else self.zarr.size if self.zarr else 0

    @property
    def created(self) -> datetime:
        created = self.blob.created if self.blob else self.zarr.created if self.zarr else None
        assert created is not None
        return created

    def is_in(self, asset: Asset) -> bool:
        return asset.blob_id == (self.blob and self.blob.id) and asset.zarr_id == (
            self.zarr and self.zarr.id
        )


def _check_request(
    metadata: Any, blob_id: Any, zarr_id: Any = None
) -> tuple[dict[str, Any], str, uuid.UUID | None, uuid.UUID | None]:
    if not isinstance(metadata, dict):
        raise BadRequest("metadata must be a JSON object.")
    if (blob_id is None) == (zarr_id is None):
        raise BadRequest("Give exactly one of blob_id and zarr_id.")
    path = paths.check_asset_path(metadata.get("path"))
    blob = parse_uuid(blob_id, "blob_id") if blob_id is not None else None
    zarr = parse_uuid(zarr_id, "zarr_id") if zarr_id is not None else None
    return metadata, path, blob, zarr


def _load_content(
    archive: Archive,
    session: Session,
    user: User | None,
    dandiset: Dandiset,
    blob_id: uuid.UUID | None,
    zarr_id: uuid.UUID | None,
) -> Content:
    if blob_id is not None:
        return Content(blob=_load_blob(archive, session, user, blob_id, dandiset))
    assert zarr_id is not None
    # Locked: its size goes into folder totals, which an ingest adjusts when it changes.
    zarr = session.get(Zarr, zarr_id, with_for_update=True)
    if zarr is None or (zarr.dandiset_id != dandiset.id and not _visible_zarr(session, zarr)):
        raise NotFound(f"No Zarr with id {zarr_id}.")
    if zarr.dandiset_id != dandiset.id:
        raise BadRequest(f"Zarr {zarr_id} belongs to another Dandiset.")
    return Content(zarr=zarr)


def _visible_zarr(session: Session, zarr: Zarr) -> bool:
    owner = session.get(Dandiset, zarr.dandiset_id)
    return owner is not None and owner.embargo_status == "OPEN"


def _load_blob(
    archive: Archive, session: Session, user: User | None, blob_id: uuid.UUID, dandiset: Dandiset
) -> AssetBlob:
    blob = session.get(AssetBlob, blob_id)
    if blob is None or not blobs.may_use(session, blob, user):
        raise NotFound(f"No blob with id {blob_id}.")
    if blob.embargoed and dandiset.embargo_status == "OPEN":
        # Its content is now part of an open Dandiset, hence public: in the bucket too.
        blob.embargoed = False
        archive.defer(session, "make_blob_public", blob_id=str(blob.id))
    return blob


def _insert(
    archive: Archive,
    session: Session,
    version: Version,
    path: str,
    metadata: dict[str, Any],
    content: Content,
) -> Asset:
    folders.check_path_is_free(session, version.id, path)
    now = datetime.now(UTC)
    blob, zarr = content.blob, content.zarr
    asset = Asset(
        path=path,
        blob_id=blob.id if blob else None,
        zarr_id=zarr.id if zarr else None,
        metadata_=md.asset_metadata_to_store(metadata, content.created, now),
        created=now,
        modified=now,
    )
    asset.blob, asset.zarr = blob, zarr
    session.add(asset)
    session.flush()
    session.add(
        VersionAsset(
            version_id=version.id, asset_id=asset.id, path=path, folder=paths.parent_of(path)
        )
    )
    folders.add_to_folders(session, version.id, path, content.size)
    search_index.index_asset(session, version, asset)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"An asset already exists at path {path!r}.") from None
    archive.defer(session, "validate_asset", asset_id=str(asset.id))
    if blob is not None and blob.sha256 is None:
        archive.defer(session, "compute_sha256", blob_id=str(blob.id))
    return asset


def _detach(session: Session, version: Version, asset: Asset) -> None:
    """Take an asset out of a version; drop its row if no version keeps it."""
    link = session.get(VersionAsset, (version.id, asset.id))
    if link is None:
        raise NotFound(f"No asset {asset.id} in this version.")
    if asset.zarr_id is not None:
        session.get(Zarr, asset.zarr_id, with_for_update=True)  # its size must hold still
    session.delete(link)
    folders.remove_from_folders(session, version.id, link.path, asset.size)
    search_index.unindex_asset(session, version, asset)
    session.flush()
    # An asset no version holds any more (a published one always is) goes too.
    if (
        session.scalar(
            select(VersionAsset.asset_id).where(VersionAsset.asset_id == asset.id).limit(1)
        )
        is None
    ):
        session.delete(asset)


def _version_changed(
    archive: Archive, session: Session, dandiset: Dandiset, version: Version, *changed: str
) -> None:
    """After paths of a draft changed: its validation, and the checks of data standards
    (BIDS) over the datasets holding them, are queued again."""
    mark_changed(archive, session, version)
    bids.note_change(archive, session, version, changed)
    dandiset.modified = version.modified


@dataclass
class _Change:
    """A request to put content at a path of a draft, checked and loaded."""

    dandiset: Dandiset
    draft: Version
    path: str
    metadata: dict[str, Any]
    content: Content


def _new_content(
    archive: Archive,
    session: Session,
    user: User | None,
    identifier: str,
    version_id: str,
    metadata: Any,
    blob_id: Any,
    zarr_id: Any,
) -> _Change:
    """The draft (locked, owned by ``user``), and the checked request with its content."""
    dandiset, draft = get_writable_draft(session, user, identifier, version_id)
    metadata, path, blob_uuid, zarr_uuid = _check_request(metadata, blob_id, zarr_id)
    content = _load_content(archive, session, user, dandiset, blob_uuid, zarr_uuid)
    return _Change(dandiset, draft, path, metadata, content)


def add_asset(
    archive: Archive,
    session: Session,
    user: User | None,
    identifier: str,
    version_id: str,
    metadata: Any,
    blob_id: Any,
    zarr_id: Any = None,
) -> Asset:
    change = _new_content(
        archive, session, user, identifier, version_id, metadata, blob_id, zarr_id
    )
    asset = _put(archive, session, change)
    audit.asset_event(session, change.dandiset.id, user, "add_asset", asset)
    return asset


def update_asset(
    archive: Archive,
    session: Session,
    user: User | None,
    identifier: str,
    version_id: str,
    asset_id: str,
    metadata: Any,
    blob_id: Any,
    zarr_id: Any = None,
) -> Asset:
    """Replace an asset by a new one (new id); unchanged requests return the old asset."""
    change = _new_content(
        archive, session, user, identifier, version_id, metadata, blob_id, zarr_id
    )
    old = get_asset_in_version(session, change.draft, asset_id)
    if (
        change.content.is_in(old)
        and old.path == change.path
        and md.is_same_asset_metadata(old.metadata_, change.metadata)
    ):
        return old
    _detach(session, change.draft, old)
    asset = _put(archive, session, change, old.path)
    audit.asset_event(session, change.dandiset.id, user, "update_asset", asset)
    return asset


def _put(archive: Archive, session: Session, change: _Change, *replaced: str) -> Asset:
    asset = _insert(archive, session, change.draft, change.path, change.metadata, change.content)
    _version_changed(archive, session, change.dandiset, change.draft, change.path, *replaced)
    return asset


def remove_asset(
    archive: Archive,
    session: Session,
    user: User | None,
    identifier: str,
    version_id: str,
    asset_id: str,
) -> None:
    dandiset, draft = get_writable_draft(session, user, identifier, version_id)
    asset = get_asset_in_version(session, draft, asset_id)
    audit.asset_event(session, dandiset.id, user, "remove_asset", asset)
    path = asset.path
    _detach(session, draft, asset)
    _version_changed(archive, session, dandiset, draft, path)


# -- listing -----------------------------------------------------------------------------


@dataclass
class AssetPage:
    assets: list[Asset]
    count: int | None
    has_next: bool


def _glob_to_like(glob: str) -> str:
    """``*`` matches any characters, ``/`` included; everything else is literal."""
    return like_escape(glob).replace("*", "%")


def list_assets(
    session: Session,
    version: Version,
    *,
    path: str | None = None,
    glob: str | None = None,
    order: str | None = None,
    page: int = 1,
    page_size: int = 100,
    with_metadata: bool = False,
    zarr_only: bool = False,
) -> AssetPage:
    """One page of a version's assets.

    Ids are picked first from the (version, path) index, then their rows are loaded,
    so deep pages cost little more than the first. ``count`` is only computed for the
    first page; clients read it there to fetch the other pages in parallel.

    Without ``with_metadata`` the assets' metadata is not loaded at all (reading it
    raises): decoding a thousand JSON documents nobody asked for was most of the cost
    of a page.
    """
    ids: Select = select(VersionAsset.asset_id).where(VersionAsset.version_id == version.id)
    if path:
        exact = session.scalar(
            select(VersionAsset.asset_id).where(
                VersionAsset.version_id == version.id, VersionAsset.path == path
            )
        )
        if exact is not None:
            ids = ids.where(VersionAsset.asset_id == exact)
        else:
            # A plain, case-insensitive string prefix, as on dandiarchive.org.
            ids = ids.where(VersionAsset.path.ilike(like_escape(path) + "%", escape="\\"))
    if glob:
        ids = ids.where(VersionAsset.path.ilike(_glob_to_like(glob), escape="\\"))
    if zarr_only:
        ids = ids.where(
            VersionAsset.asset_id.in_(select(Asset.id).where(Asset.zarr_id.is_not(None)))
        )
    count = session.scalar(select(func.count()).select_from(ids.subquery())) if page == 1 else None
    ids = _order_assets(ids, order).offset((page - 1) * page_size).limit(page_size + 1)
    page_ids = list(session.scalars(ids))
    has_next = len(page_ids) > page_size
    page_ids = page_ids[:page_size]
    query = select(Asset).where(Asset.id.in_(page_ids))
    if not with_metadata:
        query = query.options(
            defer(Asset.metadata_, raiseload=True), defer(Asset.validation_errors, raiseload=True)
        )
    rows = {a.id: a for a in session.scalars(query)}
    return AssetPage([rows[i] for i in page_ids], count, has_next)


def _order_assets(ids: Select, order: str | None) -> Select:
    order = order or "path"
    field = order.lstrip("-")
    if field not in ASSET_ORDERS:
        raise BadRequest(
            f"Unknown order {order!r}; use one of "
            + ", ".join(f"{f}, -{f}" for f in ASSET_ORDERS)
            + "."
        )
    descending = order.startswith("-")
    if field == "path":
        key: Any = VersionAsset.path
    else:
        ids = ids.join(Asset, Asset.id == VersionAsset.asset_id)
        key = Asset.created if field == "created" else Asset.modified
    return ids.order_by(key.desc() if descending else key.asc(), VersionAsset.path)


@dataclass
class PathEntry:
    path: str
    asset_id: uuid.UUID | None
    file_count: int
    total_size: int


def list_folder(
    session: Session, version: Version, path_prefix: str, page: int, page_size: int
) -> tuple[int, list[PathEntry]]:
    """Direct children (folders and files, by path) of one folder of a version.

    Cheap for a folder of 100,000 files: the count comes from the folder totals (files
    directly inside = the folder's files minus its sub-folders' files), and a page is
    cut from two index-ordered lists of paths merged, before sizes are looked up for
    that page only.
    """
    folder = path_prefix.strip("/")
    row = session.get(Folder, (version.id, folder))
    if row is None:
        raise NotFound("Specified path not found.")
    return folder_children(session, version, row, (page - 1) * page_size, page_size)


def folder_children(
    session: Session, version: Version, row: Folder, offset: int, limit: int
) -> tuple[int, list[PathEntry]]:
    """How many direct children a folder has, and ``limit`` of them from ``offset``."""
    folder = row.path
    in_folder = (Folder.version_id == version.id, Folder.parent == folder)
    sub_count, sub_files = session.execute(
        select(func.count(), func.coalesce(func.sum(Folder.file_count), 0)).where(*in_folder)
    ).one()
    count = int(sub_count + row.file_count - sub_files)  # SUM is NUMERIC on PostgreSQL
    # A sub-folder's totals are in its own row: listed with it, not looked up after.
    sub_folders = select(
        Folder.path.label("path"),
        null().label("asset_id"),
        Folder.file_count.label("files"),
        Folder.total_size.label("size"),
    ).where(*in_folder)
    files = select(
        VersionAsset.path.label("path"),
        VersionAsset.asset_id.label("asset_id"),
        null().label("files"),
        null().label("size"),
    ).where(VersionAsset.version_id == version.id, VersionAsset.folder == folder)
    children = union_all(sub_folders, files).subquery()
    rows = session.execute(
        select(children).order_by(children.c.path).offset(offset).limit(limit)
    ).all()
    asset_ids = [uuid.UUID(str(r.asset_id)) for r in rows if r.asset_id is not None]
    sizes = {}
    if asset_ids:  # a page of sub-folders only (the usual upper levels) needs no sizes
        sizes = {
            asset_id: size
            for asset_id, size in session.execute(
                select(Asset.id, func.coalesce(AssetBlob.size, Zarr.size))
                .join(AssetBlob, AssetBlob.id == Asset.blob_id, isouter=True)
                .join(Zarr, Zarr.id == Asset.zarr_id, isouter=True)
                .where(Asset.id.in_(asset_ids))
            )
        }
    entries = []
    for r in rows:
        if r.asset_id is None:
            entries.append(PathEntry(r.path, None, r.files or 0, r.size or 0))
        else:
            asset_id = uuid.UUID(str(r.asset_id))
            entries.append(PathEntry(r.path, asset_id, 1, sizes.get(asset_id) or 0))
    return count, entries


@dataclass
class AtPath:
    """A page of what is at a path of a version (upstream's WebDAV ``atpath``): the
    asset there, or the folder (with its totals) followed by its children if asked."""

    count: int
    entries: list[PathEntry]
    assets: dict[uuid.UUID, Asset]


def at_path(
    session: Session, version: Version, path: str, children: bool, offset: int, limit: int
) -> AtPath:
    """Upstream's rules: the root is never listed itself, only its children; an exact
    asset path gives the asset; ``path/`` must be a folder; otherwise 404."""
    folder_only = path.endswith("/")
    path = path.strip("/")
    count, entries = 0, []
    if path == "":
        if children:
            root = session.get(Folder, (version.id, ""))
            if root is not None:
                count, entries = folder_children(session, version, root, offset, limit)
        return _with_assets(session, count, entries)
    asset_id = session.scalar(
        select(VersionAsset.asset_id).where(
            VersionAsset.version_id == version.id, VersionAsset.path == path
        )
    )
    if asset_id is not None:
        if folder_only:
            raise NotFound(f"Folder not found at {path}")
        entry = PathEntry(path, uuid.UUID(str(asset_id)), 1, 0)
        return _with_assets(session, 1, [entry] if offset == 0 else [])
    row = session.get(Folder, (version.id, path))
    if row is None:
        raise NotFound(f"Folder or asset not found at {path}")
    itself = PathEntry(path, None, row.file_count, row.total_size or 0)
    if not children:
        return _with_assets(session, 1, [itself] if offset == 0 else [])
    # The folder sorts before its children ("a" < "a/..."): it is item 0 of the list.
    first, limit = (0, limit - 1) if offset == 0 else (offset - 1, limit)
    count, entries = folder_children(session, version, row, first, limit)
    return _with_assets(session, count + 1, ([itself] if offset == 0 else []) + entries)


def _with_assets(session: Session, count: int, entries: list[PathEntry]) -> AtPath:
    ids = [e.asset_id for e in entries if e.asset_id is not None]
    assets = {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(ids)))}
    return AtPath(count, entries, assets)


def get_readable_asset(
    session: Session, user: User | None, asset_id: str
) -> tuple[Asset, bool, list[Dandiset]]:
    """An asset by id alone, with whether it is embargoed (in no open Dandiset) and the
    Dandisets that hold it.

    An embargoed asset is shown only to owners and readers of a Dandiset that holds it.
    """
    asset = get_asset(session, asset_id)
    dandisets = dandisets_of_asset(session, asset)
    if not dandisets or any(d.embargo_status == "OPEN" for d in dandisets):
        return asset, False, dandisets
    if not any(may_read(session, d, user) for d in dandisets):
        require_readable(session, dandisets[0], user)
    return asset, True, dandisets


def publication_stamps(
    session: Session, asset_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """``datePublished`` and ``publishedBy`` of each asset that is in a published version.

    They are those of the first version that published the asset. Derived, not stored:
    publishing writes nothing into the (possibly 100,000) asset rows it shares, and an
    asset's document is the same in every version that holds it.
    """
    ids = list(asset_ids)
    if not ids:
        return {}
    first = (
        select(VersionAsset.asset_id, func.min(Version.id).label("version_id"))
        .join(Version, Version.id == VersionAsset.version_id)
        .where(VersionAsset.asset_id.in_(ids), Version.version != "draft")
        .group_by(VersionAsset.asset_id)
        .subquery()
    )
    # Only the two fields of each version's document (not the whole of it), in the same
    # query that finds the versions.
    rows = session.execute(
        select(
            first.c.asset_id,
            Version.metadata_["datePublished"],
            Version.metadata_["publishedBy"],
        ).join(Version, Version.id == first.c.version_id)
    )
    return {
        asset_id: {"datePublished": published, "publishedBy": by}
        for asset_id, published, by in rows
    }


def documents(
    archive: Archive, session: Session, assets: list[Asset], *, embargoed: bool
) -> list[dict[str, Any]]:
    """The full metadata documents of these assets, as clients see them."""
    stamps = publication_stamps(session, [a.id for a in assets])
    return [
        md.asset_full_metadata(archive, a, embargoed=embargoed, publication=stamps.get(a.id))
        for a in assets
    ]
