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
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

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
    if key_problem(key) is not None:
        return NO_SUCH_KEY
    prefix, _, rest = key.partition("/")
    rule = _RULES.get(prefix)
    if rule is None or not rest:
        return NO_SUCH_KEY
    return rule(session, rest, signed)


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


def _blob(session: Session, rest: str, signed: bool) -> Refusal | None:
    rows = session.execute(
        select(AssetBlob.embargoed, AssetBlob.fixity_ok).where(AssetBlob.key == f"blobs/{rest}")
    ).all()
    if not rows:  # an unfinished or unvalidated upload, or nothing at all
        return NO_SUCH_KEY
    if any(fixity_ok is False for _, fixity_ok in rows):
        return FIXITY_FAILED
    if not signed and all(embargoed for embargoed, _ in rows):
        return EMBARGOED
    return None


def _live_zarr(session: Session, rest: str, signed: bool) -> Refusal | None:
    """``zarr/{zarr_id}/{path}``: readable while the Zarr's Dandiset is open."""
    zarr_id, _, path = rest.partition("/")
    return _zarr_rule(session, zarr_id, signed) if path else NO_SUCH_KEY


def _frozen_content(session: Session, rest: str, signed: bool) -> Refusal | None:
    """``zarr-content/{live zarr_id}/{md5}``: frozen copies, as open as the live Zarr."""
    zarr_id, _, md5 = rest.partition("/")
    if "/" in md5 or not md5:
        return NO_SUCH_KEY
    return _zarr_rule(session, zarr_id, signed)


def _frozen_manifest(session: Session, rest: str, signed: bool) -> Refusal | None:
    """``zarr-manifests/{frozen zarr_id}.json``."""
    zarr_id, dot, extension = rest.partition(".")
    if (dot, extension) != (".", "json"):
        return NO_SUCH_KEY
    return _zarr_rule(session, zarr_id, signed)


def _zarr_rule(session: Session, zarr_id: str, signed: bool) -> Refusal | None:
    try:
        parsed = uuid.UUID(zarr_id)
    except ValueError:
        return NO_SUCH_KEY
    if str(parsed) != zarr_id:  # "{…}", upper case, no hyphens: not the stored spelling
        return NO_SUCH_KEY
    status = session.scalar(
        select(Dandiset.embargo_status)
        .join(Zarr, Zarr.dandiset_id == Dandiset.id)
        .where(Zarr.id == parsed)
    )
    return _dandiset_rule(status, signed)


def _manifest(session: Session, rest: str, signed: bool) -> Refusal | None:
    """``dandisets/{NNNNNN}/{version}/{file}``: only open Dandisets have manifests."""
    identifier, _, path = rest.partition("/")
    if not _DANDISET_ID.fullmatch(identifier) or not path:
        return NO_SUCH_KEY
    if f"{int(identifier):06d}" != identifier:  # "0000123" is not how it is stored
        return NO_SUCH_KEY
    status = session.scalar(select(Dandiset.embargo_status).where(Dandiset.id == int(identifier)))
    return _dandiset_rule(status, signed)


def _dandiset_rule(status: EmbargoStatus | None, signed: bool) -> Refusal | None:
    if status is None:
        return NO_SUCH_KEY
    # UNEMBARGOING is still embargoed: objects open only once the job has opened them.
    if status != EmbargoStatus.OPEN and not signed:
        return EMBARGOED
    return None


_RULES: dict[str, Callable[[Session, str, bool], Refusal | None]] = {
    "blobs": _blob,
    "zarr": _live_zarr,
    "zarr-content": _frozen_content,
    "zarr-manifests": _frozen_manifest,
    "dandisets": _manifest,
}
