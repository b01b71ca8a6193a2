"""Zarr archives: one asset made of many objects, uploaded file by file.

Life of a Zarr (statuses as on dandiarchive.org):

* **Pending** — files are being added or removed. The client asks for presigned PUT
  URLs (``request_upload_urls``; the MD5 is signed in, so storage accepts only the
  announced bytes) and deletes files; every path touched is noted in ``zarr_changes``.
* **Uploaded** — ``finalize`` checked storage for each touched path (a listing for
  folders with many of them, HEAD for the rest) and recorded what is there. As on
  dandiarchive.org it does not wait for announced uploads: the checksum describes what
  is stored, and a client whose own checksum differs uploads again. A path whose upload
  had not arrived while its URL still works stays on record (``awaiting``), so an old
  URL that delivers later is counted by the next finalize.
* **Ingesting** / **Complete** — the ``ingest_zarr`` job applies the recorded state to
  the per-file rows and re-hashes only the directories above the touched paths (see
  :mod:`.zarr_tree`, :mod:`.zarr_ingest`), then updates the assets that show the Zarr.

Objects live at ``zarr/{zarr_id}/{path}`` in the bucket, so ``zarr`` + fsspec read a
Zarr straight from it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import posixpath
import uuid
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dandi_archive import paths
from dandi_archive.access.permissions import (
    may_read,
    require_approved,
    require_owner,
    visible_to_user,
)
from dandi_archive.audit import events as audit
from dandi_archive.dandisets.dandisets import get_dandiset, parse_identifier
from dandi_archive.db.models import (
    Asset,
    Dandiset,
    EmbargoStatus,
    User,
    Version,
    VersionAsset,
    VersionStatus,
    Zarr,
    ZarrChange,
    ZarrFile,
    ZarrStatus,
)
from dandi_archive.db.session import after_commit
from dandi_archive.errors import BadRequest, Locked, NotFound
from dandi_archive.storage.base import BlobStore, ObjectInfo
from dandi_archive.zarr import freeze as zarr_freeze
from dandi_archive.zarr import ngff
from dandi_archive.zarr import tree as zarr_tree

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

log = logging.getLogger(__name__)

MAX_FILES_PER_REQUEST = 1000
MAX_NAME_LENGTH = 512
# S3 keys are at most 1024 bytes; "zarr/<uuid>/" takes 42 of them.
MAX_PATH_BYTES = 1024 - len(f"zarr/{uuid.UUID(int=0)}/")
# Folders with at least this many touched paths are listed instead of HEAD-ed per key.
LIST_THRESHOLD = 8
PROBE_THREADS = 16


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- finding and checking ---------------------------------------------------------------


def _parse_zarr_id(zarr_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(zarr_id))
    except ValueError:
        raise NotFound(f"{zarr_id!r} is not a Zarr id.") from None


def _dandiset_of(session: Session, zarr: Zarr) -> Dandiset:
    dandiset = session.get(Dandiset, zarr.dandiset_id)
    assert dandiset is not None  # the foreign key cascades
    return dandiset


def _visible(session: Session, dandiset: Dandiset, user: User | None) -> bool:
    return may_read(session, dandiset, user)


def get_zarr(session: Session, user: User | None, zarr_id: str, *, lock: bool = False) -> Zarr:
    """A Zarr the caller may see; those of embargoed Dandisets are 404 to others."""
    zarr = session.get(Zarr, _parse_zarr_id(zarr_id), with_for_update=lock)
    if zarr is None or not _visible(session, _dandiset_of(session, zarr), user):
        raise NotFound(f"No Zarr {zarr_id}.")
    return zarr


def _get_writable_zarr(session: Session, user: User | None, zarr_id: str) -> tuple[Zarr, Dandiset]:
    """The Zarr, locked for this transaction (changes to one Zarr run one at a time)."""
    require_approved(user)
    zarr = get_zarr(session, user, zarr_id, lock=True)
    dandiset = _dandiset_of(session, zarr)
    require_owner(session, dandiset, user)
    if dandiset.embargo_status == EmbargoStatus.UNEMBARGOING:
        raise BadRequest("Dandiset modification not allowed during unembargo.")
    if zarr.is_frozen:
        raise BadRequest(
            f"Zarr {zarr.id} belongs to a published version and cannot change; "
            f"change the draft's Zarr {zarr.frozen_from} instead."
        )
    if zarr_freeze.live_zarr_locked(session, zarr.id):
        raise Locked("The Zarr is being frozen for a published version; retry shortly.")
    draft_status = session.scalar(
        select(Version.status).where(Version.dandiset_id == dandiset.id, Version.version == "draft")
    )
    if draft_status == VersionStatus.PUBLISHING:
        raise Locked("The Dandiset is being published; change its Zarrs when that is done.")
    return zarr, dandiset


def _require_not_ingesting(zarr: Zarr) -> None:
    if zarr.status in (ZarrStatus.UPLOADED, ZarrStatus.INGESTING):
        raise BadRequest(
            f"The Zarr is {zarr.status.value.lower()} and its checksum is being computed; "
            "change it once its status is Complete."
        )


def check_zarr_path(path: Any) -> str:
    """A file path relative to the Zarr's root that cannot point outside it."""
    if not isinstance(path, str) or not path:
        raise BadRequest("Each file needs a non-empty string 'path'.")
    if len(path.encode()) > MAX_PATH_BYTES:
        problem = f"is longer than {MAX_PATH_BYTES} bytes"
    else:
        problem = paths.relative_path_problem(path, "the Zarr's root")
    if problem:
        raise BadRequest(f"Invalid Zarr path {path!r}: it {problem}.")
    return path


def _check_md5(value: Any, path: str) -> tuple[str, str]:
    """(hex, base64) of a base64-encoded MD5 digest."""
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise BadRequest(f"base64md5 of {path!r} must be the base64 encoding of a 16-byte MD5.")
    return raw.hex(), base64.b64encode(raw).decode()


def _check_list(files: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(files, list) or not files:
        raise BadRequest(f"Send a non-empty JSON list of {what}.")
    if len(files) > MAX_FILES_PER_REQUEST:
        raise BadRequest(f"At most {MAX_FILES_PER_REQUEST} files per request; got {len(files)}.")
    if not all(isinstance(f, dict) for f in files):
        raise BadRequest(f"Send a JSON list of {what}.")
    return files


def _check_unique(listed: list[str]) -> None:
    if len(set(listed)) != len(listed):
        twice = next(p for p in listed if listed.count(p) > 1)
        raise BadRequest(f"Path {twice!r} is listed twice.")


# -- create and list --------------------------------------------------------------------


def create_zarr(
    archive: Archive, session: Session, user: User | None, name: Any, dandiset_id: Any
) -> Zarr:
    require_approved(user)
    if not isinstance(dandiset_id, str):
        raise BadRequest("dandiset must be a Dandiset identifier string such as '000123'.")
    dandiset = get_dandiset(session, dandiset_id, lock="change")
    require_owner(session, dandiset, user)
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise BadRequest(f"name must be a non-empty string of at most {MAX_NAME_LENGTH} chars.")
    taken = select(Zarr.id).where(
        Zarr.dandiset_id == dandiset.id, Zarr.name == name, Zarr.frozen_from.is_(None)
    )
    if session.scalar(taken) is not None:
        raise BadRequest(
            f"Zarr already exists: Dandiset {dandiset.identifier} has one named {name!r}."
        )
    now = utcnow()
    zarr = Zarr(
        dandiset_id=dandiset.id, name=name, status=ZarrStatus.PENDING, created=now, modified=now
    )
    session.add(zarr)
    try:
        session.flush()
    except IntegrityError:
        raise BadRequest("Zarr already exists (created at the same moment).") from None
    audit.zarr_event(session, user, "create_zarr", zarr)
    return zarr


def query_zarrs(
    session: Session, user: User | None, dandiset: str | None, name: str | None
) -> Select:
    """Live Zarrs the caller may see, optionally of one Dandiset and with one name."""
    stmt = (
        select(Zarr)
        .join(Dandiset, Dandiset.id == Zarr.dandiset_id)
        .where(Zarr.frozen_from.is_(None))
    )
    if user is None:
        stmt = stmt.where(Dandiset.embargo_status == EmbargoStatus.OPEN)
    elif not user.is_admin:
        stmt = stmt.where(visible_to_user(user.id))
    if dandiset:
        try:
            stmt = stmt.where(Zarr.dandiset_id == parse_identifier(dandiset))
        except NotFound:
            raise BadRequest(f"{dandiset!r} is not a Dandiset identifier.") from None
    if name is not None:
        stmt = stmt.where(Zarr.name == name)
    return stmt.order_by(Zarr.created, Zarr.id)


def page_of_zarrs(
    session: Session, stmt: Select, page: int, page_size: int
) -> tuple[int, list[Zarr]]:
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.offset((page - 1) * page_size).limit(page_size))
    return count, list(rows)


# -- files ------------------------------------------------------------------------------


def _mark_pending(zarr: Zarr) -> None:
    zarr.status = ZarrStatus.PENDING
    zarr.checksum = None
    zarr.modified = utcnow()


def _upsert_changes(session: Session, rows: list[dict[str, Any]]) -> None:
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(ZarrChange).values(rows)
    # The path stays watched until the last URL handed out for it expires: an earlier
    # URL still works after a deletion or a newer URL and may yet write the path.
    old, new = ZarrChange.__table__.c.expires, insert.excluded.expires
    expires = case((new.is_(None), old), (or_(old.is_(None), old < new), new), else_=old)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["zarr_id", "path"],
            set_={"md5": insert.excluded.md5, "expires": expires, "seen": False, "awaiting": False},
        )
    )


def request_upload_urls(
    archive: Archive, session: Session, user: User | None, zarr_id: str, files: Any
) -> list[str]:
    """Presigned PUT URLs, in the order of ``files`` ([{path, base64md5}])."""
    zarr, dandiset = _get_writable_zarr(session, user, zarr_id)
    _require_not_ingesting(zarr)
    wanted = []
    for entry in _check_list(files, '{"path", "base64md5"} objects'):
        path = check_zarr_path(entry.get("path"))
        wanted.append((path, *_check_md5(entry.get("base64md5"), path)))
    _check_unique([p for p, _, _ in wanted])
    expiry = archive.settings.zarr_upload_url_expiry_seconds
    expires = utcnow() + timedelta(seconds=expiry)
    rows = [{"zarr_id": zarr.id, "path": p, "md5": m, "expires": expires} for p, m, _ in wanted]
    _upsert_changes(session, rows)
    _mark_pending(zarr)
    audit.zarr_event(session, user, "upload_zarr_chunks", zarr, [p for p, _, _ in wanted])
    log.info(
        "zarr %s: upload URLs for %d files: %s",
        zarr.id,
        len(wanted),
        ", ".join(p for p, _, _ in wanted[:5]) + (", …" if len(wanted) > 5 else ""),
    )
    embargoed = dandiset.embargo_status != EmbargoStatus.OPEN
    return [
        archive.store.presign_put(
            zarr.key_prefix + path, md5_base64=b64, expires=expiry, embargoed=embargoed
        )
        for path, _, b64 in wanted
    ]


def delete_files(
    archive: Archive, session: Session, user: User | None, zarr_id: str, files: Any
) -> None:
    """Delete files ([{path}]); all must exist, or nothing is deleted."""
    zarr, _ = _get_writable_zarr(session, user, zarr_id)
    _require_not_ingesting(zarr)
    wanted = [check_zarr_path(f.get("path")) for f in _check_list(files, '{"path"} objects')]
    _check_unique(wanted)
    keys = [zarr.key_prefix + p for p in wanted]
    found = probe(archive.store, keys)
    missing = [p for p, k in zip(wanted, keys, strict=True) if found[k] is None]
    if missing:
        raise BadRequest(
            f"{len(missing)} of the files to delete do not exist: " + ", ".join(missing[:10])
        )
    rows = [{"zarr_id": zarr.id, "path": p, "md5": None, "expires": None} for p in wanted]
    _upsert_changes(session, rows)
    _mark_pending(zarr)
    audit.zarr_event(session, user, "delete_zarr_chunks", zarr, wanted)
    # Only once the deletions are on record: if removing fails, finalize sees the files
    # still there and the checksum stays true to storage.
    after_commit(session, lambda _s: archive.store.delete_many(keys))


def list_files(
    archive: Archive, session: Session, zarr: Zarr, prefix: str, after: str, limit: int
) -> tuple[list[ObjectInfo], bool]:
    """One page of the Zarr's objects, in key order, after the key ``after``.

    A live Zarr is listed from storage (uploads in progress show at once); a frozen one
    from its rows.
    """
    if zarr.is_frozen:
        return _list_frozen(session, zarr, prefix, after, limit)
    base = zarr.key_prefix
    found: list[ObjectInfo] = []
    start = base + after if after else ""
    for info in archive.store.list_keys(base + prefix, start_after=start):
        found.append(info)
        if len(found) > limit:
            break
    return found[:limit], len(found) > limit


def _list_frozen(
    session: Session, zarr: Zarr, prefix: str, after: str, limit: int
) -> tuple[list[ObjectInfo], bool]:
    query = select(ZarrFile).where(ZarrFile.zarr_id == zarr.id)
    if prefix:
        query = query.where(ZarrFile.path.startswith(prefix, autoescape=True))
    if after:
        query = query.where(ZarrFile.path > after)
    rows = list(session.scalars(query.order_by(ZarrFile.path).limit(limit + 1)))
    found = [
        ObjectInfo(zarr.key_prefix + r.path, size=r.size, etag=r.md5, modified=r.modified)
        for r in rows[:limit]
    ]
    return found, len(rows) > limit


def stored_file_url(
    archive: Archive, session: Session, zarr: Zarr, path: str, method: str = "GET"
) -> str:
    """Where a file of the Zarr as last ingested (or frozen) is read; NotFound if it has
    no such file. Behind ``/api/zarr/{id}/tree/``, a plain Zarr store over HTTP."""
    check_zarr_path(path)
    if zarr.is_frozen:
        key = zarr_freeze.frozen_object_key(session, zarr, path)
    else:
        exists = session.scalar(
            select(ZarrFile.path).where(ZarrFile.zarr_id == zarr.id, ZarrFile.path == path)
        )
        key = zarr.key_prefix + path if exists is not None else None
    if key is None:
        raise NotFound(f"The Zarr has no file {path!r}.")
    return archive.store.presign_download(
        key, archive.settings.download_url_expiry_seconds, method=method
    )


def file_url(archive: Archive, session: Session, zarr: Zarr, path: str, method: str = "GET") -> str:
    check_zarr_path(path)
    key = zarr.key_prefix + path
    if zarr.is_frozen:
        key = zarr_freeze.frozen_object_key(session, zarr, path) or key
    return archive.store.presign_download(
        key, archive.settings.download_url_expiry_seconds, method=method
    )


# -- probing storage ---------------------------------------------------------------------


def probe(
    store: BlobStore, keys: Iterable[str], folder_sizes: dict[str, int] | None = None
) -> dict[str, ObjectInfo | None]:
    """What storage holds at each key.

    Keys are grouped by folder; a folder is listed (1 request per 1000 objects) when that
    is cheaper than one HEAD per key, judged from the folder's known size.
    """
    by_folder: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        by_folder[key.rpartition("/")[0] + "/"].append(key)
    found: dict[str, ObjectInfo | None] = {}
    sizes = folder_sizes or {}
    with ThreadPoolExecutor(PROBE_THREADS) as pool:
        futures = []
        for folder, folder_keys in by_folder.items():
            listing_requests = sizes.get(folder, 0) // 1000 + 1
            if len(folder_keys) >= max(LIST_THRESHOLD, listing_requests):
                futures.append(pool.submit(_probe_folder, store, folder, folder_keys))
            else:
                futures.extend(pool.submit(lambda k: {k: store.head(k)}, k) for k in folder_keys)
        for future in futures:
            found.update(future.result())
    return found


def _probe_folder(store: BlobStore, folder: str, keys: list[str]) -> dict[str, ObjectInfo | None]:
    objects, _ = store.list_directory(folder)
    listed = {o.key: o for o in objects}
    return {k: listed.get(k) for k in keys}


# -- finalize ---------------------------------------------------------------------------


def finalize(archive: Archive, session: Session, user: User | None, zarr_id: str) -> None:
    """Pending -> Uploaded: record what storage holds at each touched path; queue the ingest.

    Announced uploads that have not arrived are not waited for (dandiarchive.org does not
    either: the client compares checksums and uploads again); their paths are kept on
    record while a URL for them works (see :func:`_may_still_change`).
    """
    zarr, _ = _get_writable_zarr(session, user, zarr_id)
    if zarr.status != ZarrStatus.PENDING:
        _require_not_ingesting(zarr)
        raise BadRequest("The Zarr is Complete: nothing was uploaded or deleted since.")
    changes = session.execute(
        select(ZarrChange.path, ZarrChange.md5, ZarrChange.expires).where(
            ZarrChange.zarr_id == zarr.id
        )
    ).all()
    sizes = zarr_tree.directory_sizes(
        session, zarr.id, {posixpath.dirname(c.path) for c in changes}
    )
    found = probe(
        archive.store,
        [zarr.key_prefix + c.path for c in changes],
        {_folder_key(zarr, folder): n for folder, n in sizes.items()},
    )
    now = utcnow()
    seen = []
    for change in changes:
        info = found[zarr.key_prefix + change.path]
        seen.append(
            _seen_row(zarr.id, change.path, info, now, _may_still_change(change, info, now))
        )
    awaiting = sorted(row["path"] for row in seen if row["awaiting"])
    if awaiting:
        log.info(
            "zarr %s: finalized with %d announced uploads not (yet) arrived: %s",
            zarr.id,
            len(awaiting),
            ", ".join(awaiting[:5]) + (", …" if len(awaiting) > 5 else ""),
        )
    if seen:
        session.execute(update(ZarrChange), seen)
    zarr.status = ZarrStatus.UPLOADED
    zarr.modified = now
    audit.zarr_event(session, user, "finalize_zarr", zarr)
    archive.defer(session, "ingest_zarr", zarr_id=str(zarr.id))


def _folder_key(zarr: Zarr, folder: str) -> str:
    return f"{zarr.key_prefix}{folder}/" if folder else zarr.key_prefix


def _may_still_change(change: Any, info: ObjectInfo | None, now: datetime) -> bool:
    """Whether a URL handed out for this path still works and could change what is there.

    An upload that arrived with its announced MD5 is settled (its URL can only write the
    same bytes again); one that did not, or a deletion, is not while the URL works.
    """
    if change.expires is None or change.expires <= now:
        return False
    return change.md5 is None or info is None or info.etag != change.md5


def _seen_row(
    zarr_id: uuid.UUID, path: str, info: ObjectInfo | None, now: datetime, awaiting: bool
) -> dict:
    return {
        "zarr_id": zarr_id,
        "path": path,
        "seen": True,
        "awaiting": awaiting,
        "seen_size": info.size if info else None,
        "seen_md5": info.etag if info else None,
        "seen_modified": (info.modified or now) if info else None,
    }


def unfinished_zarrs(session: Session, draft: Version) -> list[str]:
    """Paths of the draft's Zarr assets whose Zarr is not Complete (cannot be frozen)."""
    return list(
        session.scalars(
            select(VersionAsset.path)
            .join(Asset, Asset.id == VersionAsset.asset_id)
            .join(Zarr, Zarr.id == Asset.zarr_id)
            .where(VersionAsset.version_id == draft.id, Zarr.status != ZarrStatus.COMPLETE)
            .order_by(VersionAsset.path)
        )
    )


def ngff_errors(asset: Asset) -> list[dict[str, str]]:
    """Problems with the OME-NGFF metadata of an asset whose path says it is OME-Zarr."""
    zarr = asset.zarr
    if zarr is None or not ngff.expects_ngff(asset.path):
        return []
    if not zarr.ngff:
        return [{"field": "ngff", "message": "The Zarr has not been inspected yet."}]
    return list(zarr.ngff.get("errors") or [])


def make_public(archive: Archive, zarr_ids: Iterable[uuid.UUID]) -> None:
    """Lift the embargo tag from every object of these Zarrs (on S3; a no-op elsewhere)."""
    with ThreadPoolExecutor(PROBE_THREADS) as pool:
        for zarr_id in zarr_ids:
            keys = (info.key for info in archive.store.list_keys(f"zarr/{zarr_id}/"))
            list(pool.map(archive.store.make_public, keys))


def delete_objects(archive: Archive, zarr_id: str) -> None:
    """Remove every object of a Zarr (after its Dandiset was deleted)."""
    prefix = f"zarr/{uuid.UUID(zarr_id)}/"
    archive.store.delete_many(info.key for info in archive.store.list_keys(prefix))
