"""May this caller read this stored object? The one rule for direct bucket reads.

The folder store serves its bucket itself (``GET/HEAD /{bucket name}/{key}``, and the
older ``/bucket/{key}``), so it must refuse what S3's bucket policy refuses there:
embargoed objects to anyone without a signed URL. It also refuses blobs that failed
their fixity check, to everyone.

The key is judged once, as the exact name of a stored object, never as a string that
merely starts like one: a key with an empty, ``.`` or ``..`` segment, a backslash, a
control character or a leading or trailing ``/`` names no object (S3 keys are taken
literally; the folder store would resolve them to another file) and is refused as
``NoSuchKey``. A canonical key is then parsed by its prefix into the database row that
owns it (blob, Zarr, Dandiset); a key of no known prefix, or whose owner is unknown, is
``NoSuchKey`` too: what the archive did not write is not served.

Listings (``anonymously_readable``) follow the same rule: a key is listed to anyone
exactly when an unsigned read of it would be served, so a listing names no embargoed
object, nor anything a read would answer ``NoSuchKey`` for.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dandi_archive.db.models import AssetBlob, Dandiset, EmbargoStatus, Upload, Zarr
from dandi_archive.paths import relative_path_problem

MAX_KEY_BYTES = 1024  # S3's limit
_DANDISET_ID = re.compile(r"\d{6,}")  # identifier(): at least six digits


@dataclass(frozen=True)
class Refusal:
    """Why an object is not served, as S3 would say it (error code, message, status)."""

    code: str
    message: str
    status: int


NO_SUCH_KEY = Refusal("NoSuchKey", "The specified key does not exist.", 404)
EMBARGOED = Refusal("AccessDenied", "This object is embargoed; use a signed URL.", 403)
FIXITY_FAILED = Refusal(
    "AccessDenied",
    "This object failed its integrity check and is not served; the archive's "
    "administrators have been alerted.",
    403,
)


def key_problem(key: str) -> str | None:
    """What keeps ``key`` from canonically naming an object (None if nothing does)."""
    if not key:
        return "is empty"
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no stored key has one
        return "is not valid UTF-8"
    if len(encoded) > MAX_KEY_BYTES:
        return f"is longer than {MAX_KEY_BYTES} bytes"
    return relative_path_problem(key, "the bucket")


def read_refusal(session: Session, key: str, *, signed: bool) -> Refusal | None:
    """Why the caller may not read ``key`` from the bucket, or None if they may.

    ``signed``: the request carries a valid URL signature for exactly this key, which
    the archive hands only to callers allowed to read the object (embargo owners).
    """
    owner = owner_of(key)
    if isinstance(owner, Refusal):
        return owner
    return _Verdicts(session, [owner]).refusal(owner, signed)


def anonymously_readable(session: Session, keys: Sequence[str]) -> list[bool]:
    """For a listing: whether an unsigned read of each key would be served (exactly
    ``read_refusal(session, key, signed=False) is None``), decided in a few queries
    for the whole batch rather than one or two per key."""
    owners = [owner_of(key) for key in keys]
    verdicts = _Verdicts(session, [o for o in owners if isinstance(o, Owner)])
    return [isinstance(o, Owner) and verdicts.refusal(o, signed=False) is None for o in owners]


def tagged_embargoed(session: Session, key: str) -> bool:
    """Whether an S3 copy of the folder store's object at ``key`` must carry the
    ``embargoed=true`` tag, which the bucket policy keeps from anonymous readers.

    What the folder store refuses as embargoed is tagged, as its uploads would have
    been on S3. A blob that failed fixity keeps its Dandiset's mark (fixity may pass
    again; S3 has no "refused to all"). A blob key of an upload not yet validated is
    tagged as that upload is; anything else the archive does not know stays private.
    """
    refusal = read_refusal(session, key, signed=False)
    if refusal is None:
        return False
    if refusal is FIXITY_FAILED:
        marks = session.scalars(select(AssetBlob.embargoed).where(AssetBlob.key == key)).all()
        return all(marks)
    if refusal is NO_SUCH_KEY:
        upload = session.scalars(select(Upload.embargoed).where(Upload.key == key)).first()
        return True if upload is None else upload
    return True


@dataclass(frozen=True)
class Owner:
    """The database row that decides who reads a key: a blob (by key), a Zarr (by id,
    for its live files, frozen copies and manifests) or a Dandiset (its manifests).

    ``subtree``: a prefix every key of which this same owner decides (a Zarr's
    folder), so a listing can pass over all of it once the owner refuses."""

    kind: Literal["blob", "zarr", "dandiset"]
    ident: str | uuid.UUID | int
    subtree: str | None = None


def owner_of(key: str) -> Owner | Refusal:
    """The owner whose rule decides ``key``, or NO_SUCH_KEY for a key the archive would
    not have written (parsed from the key alone, no database)."""
    if key_problem(key) is not None:
        return NO_SUCH_KEY
    prefix, _, rest = key.partition("/")
    parse = _OWNERS.get(prefix)
    if parse is None or not rest:
        return NO_SUCH_KEY
    return parse(rest)


def _blob_owner(rest: str) -> Owner | Refusal:
    return Owner("blob", f"blobs/{rest}")


def _live_zarr(rest: str) -> Owner | Refusal:
    """``zarr/{zarr_id}/{path}``: readable while the Zarr's Dandiset is open."""
    zarr_id, _, path = rest.partition("/")
    return _zarr_owner(zarr_id, f"zarr/{zarr_id}/") if path else NO_SUCH_KEY


def _frozen_content(rest: str) -> Owner | Refusal:
    """``zarr-content/{live zarr_id}/{md5}``: frozen copies, as open as the live Zarr."""
    zarr_id, _, md5 = rest.partition("/")
    if "/" in md5 or not md5:
        return NO_SUCH_KEY
    return _zarr_owner(zarr_id, f"zarr-content/{zarr_id}/")


def _frozen_manifest(rest: str) -> Owner | Refusal:
    """``zarr-manifests/{frozen zarr_id}.json``."""
    zarr_id, dot, extension = rest.partition(".")
    if (dot, extension) != (".", "json"):
        return NO_SUCH_KEY
    return _zarr_owner(zarr_id, None)


def _zarr_owner(zarr_id: str, subtree: str | None) -> Owner | Refusal:
    try:
        parsed = uuid.UUID(zarr_id)
    except ValueError:
        return NO_SUCH_KEY
    if str(parsed) != zarr_id:  # "{…}", upper case, no hyphens: not the stored spelling
        return NO_SUCH_KEY
    return Owner("zarr", parsed, subtree)


def _manifest(rest: str) -> Owner | Refusal:
    """``dandisets/{NNNNNN}/{version}/{file}``: only open Dandisets have manifests."""
    identifier, _, path = rest.partition("/")
    if not _DANDISET_ID.fullmatch(identifier) or not path:
        return NO_SUCH_KEY
    if f"{int(identifier):06d}" != identifier:  # "0000123" is not how it is stored
        return NO_SUCH_KEY
    return Owner("dandiset", int(identifier), f"dandisets/{identifier}/")


_OWNERS: dict[str, Callable[[str], Owner | Refusal]] = {
    "blobs": _blob_owner,
    "zarr": _live_zarr,
    "zarr-content": _frozen_content,
    "zarr-manifests": _frozen_manifest,
    "dandisets": _manifest,
}


class _Verdicts:
    """The database facts about some owners, fetched in one query per kind."""

    BATCH = 500  # ids per IN (...) clause

    def __init__(self, session: Session, owners: Sequence[Owner]) -> None:
        wanted: dict[str, set] = {"blob": set(), "zarr": set(), "dandiset": set()}
        for owner in owners:
            wanted[owner.kind].add(owner.ident)
        self.blobs: dict[str, list[tuple[bool, bool | None]]] = {}
        for chunk in _chunks(wanted["blob"], self.BATCH):
            query = select(AssetBlob.key, AssetBlob.embargoed, AssetBlob.fixity_ok)
            for key, embargoed, fixity_ok in session.execute(query.where(AssetBlob.key.in_(chunk))):
                self.blobs.setdefault(key, []).append((embargoed, fixity_ok))
        self.zarrs: dict[uuid.UUID, EmbargoStatus] = {}
        for chunk in _chunks(wanted["zarr"], self.BATCH):
            query = (
                select(Zarr.id, Dandiset.embargo_status)
                .join(Dandiset, Zarr.dandiset_id == Dandiset.id)
                .where(Zarr.id.in_(chunk))
            )
            self.zarrs.update((row[0], row[1]) for row in session.execute(query))
        self.dandisets: dict[int, EmbargoStatus] = {}
        for chunk in _chunks(wanted["dandiset"], self.BATCH):
            query = select(Dandiset.id, Dandiset.embargo_status).where(Dandiset.id.in_(chunk))
            self.dandisets.update((row[0], row[1]) for row in session.execute(query))

    def refusal(self, owner: Owner, signed: bool) -> Refusal | None:
        if owner.kind == "blob":
            return _blob_rule(self.blobs.get(str(owner.ident), []), signed)
        if owner.kind == "zarr":
            return _dandiset_rule(self.zarrs.get(owner.ident), signed)  # type: ignore[arg-type]
        return _dandiset_rule(self.dandisets.get(owner.ident), signed)  # type: ignore[arg-type]


def _chunks(values: set, size: int) -> Iterator[list]:
    ordered = sorted(values, key=str)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def _blob_rule(rows: list[tuple[bool, bool | None]], signed: bool) -> Refusal | None:
    if not rows:  # an unfinished or unvalidated upload, or nothing at all
        return NO_SUCH_KEY
    if any(fixity_ok is False for _, fixity_ok in rows):
        return FIXITY_FAILED
    if not signed and all(embargoed for embargoed, _ in rows):
        return EMBARGOED
    return None


def _dandiset_rule(status: EmbargoStatus | None, signed: bool) -> Refusal | None:
    if status is None:
        return NO_SUCH_KEY
    # UNEMBARGOING is still embargoed: objects open only once the job has opened them.
    if status != EmbargoStatus.OPEN and not signed:
        return EMBARGOED
    return None
