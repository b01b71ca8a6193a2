"""Multipart uploads of blobs, straight from the client to the bucket.

1. ``initialize``: the client announces size and dandi-etag. Content already stored,
   and readable by the caller (see :mod:`.blobs`), is refused with 409 and the existing
   blob's id, so no byte is sent twice. Otherwise it gets one presigned URL per part,
   cut exactly as the dandi-etag cuts the file, for a key of this upload's own.
2. The client PUTs the parts to storage, then ``complete`` gives it the URL and XML
   body that assemble the object.
3. ``validate`` checks the stored object (size and ETag) and turns the upload into a
   blob. If the same content was stored meanwhile (or is stored under an embargo the
   caller cannot see), the checked copy is deleted and the existing blob is used: the
   caller has proven they hold the bytes. A checksum job then computes its SHA-256.

Nothing becomes visible before step 3 succeeds; a failed or abandoned upload leaves no
blob and no asset and can be cancelled or started over.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from dandischema.digests.dandietag import PartGenerator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dandi_archive.access import blobs
from dandi_archive.access.permissions import require_owner
from dandi_archive.dandisets.dandisets import get_dandiset
from dandi_archive.db.models import AssetBlob, Upload, User
from dandi_archive.db.session import after_commit
from dandi_archive.errors import BadRequest, Conflict, NotFound
from dandi_archive.storage.base import blob_key

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

ETAG = re.compile(r"^[0-9a-f]{32}-(\d{1,5})$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MD5 = re.compile(r"^[0-9a-f]{32}$")
MAX_SIZE = 5 * 2**40


class BlobExists(Conflict):
    """The announced content is already stored; ``blob_id`` names it."""

    def __init__(self, blob_id: uuid.UUID) -> None:
        super().__init__("Blob already exists.")
        self.blob_id = blob_id


def part_sizes(size: int) -> list[int]:
    generator = PartGenerator.for_file_size(size)
    return [generator[n].size for n in range(1, len(generator) + 1)]


def _check_announcement(content_size: Any, digest: Any) -> tuple[int, str]:
    if isinstance(content_size, bool) or not isinstance(content_size, int):
        raise BadRequest("contentSize must be an integer number of bytes.")
    if content_size < 1:
        raise BadRequest("contentSize must be at least 1 byte.")
    if content_size > MAX_SIZE:
        raise BadRequest("contentSize exceeds the 5 TiB limit of a single file.")
    if not isinstance(digest, dict) or digest.get("algorithm") != "dandi:dandi-etag":
        raise BadRequest('digest must be {"algorithm": "dandi:dandi-etag", "value": ETAG}.')
    etag = digest.get("value")
    match = ETAG.match(etag) if isinstance(etag, str) else None
    if not match:
        raise BadRequest(f"digest value {etag!r} is not a dandi-etag (<md5>-<parts>).")
    expected_parts = len(PartGenerator.for_file_size(content_size))
    if int(match[1]) != expected_parts:
        raise BadRequest(
            f"A file of {content_size} bytes has {expected_parts} parts, "
            f"but the etag {etag} says {match[1]}."
        )
    return content_size, etag


def initialize(
    archive: Archive,
    session: Session,
    user: User | None,
    content_size: Any,
    digest: Any,
    dandiset_identifier: Any,
) -> tuple[Upload, list[dict[str, Any]]]:
    if not isinstance(dandiset_identifier, str):
        raise BadRequest("dandiset must be a Dandiset identifier string such as '000123'.")
    dandiset = get_dandiset(session, dandiset_identifier, lock="change")
    user = require_owner(session, dandiset, user)
    if dandiset.embargo_status == "UNEMBARGOING":
        raise BadRequest("Dandiset modification not allowed while its embargo is being lifted.")
    size, etag = _check_announcement(content_size, digest)
    existing = session.scalar(select(AssetBlob).where(AssetBlob.etag == etag))
    if existing is not None and blobs.may_use(session, existing, user):
        raise BlobExists(existing.id)
    upload_id = uuid.uuid4()
    key = blob_key(upload_id)
    embargoed = dandiset.embargo_status != "OPEN"
    multipart_id = archive.store.create_multipart_upload(key, embargoed=embargoed)
    upload = Upload(
        id=upload_id,
        dandiset_id=dandiset.id,
        user_id=user.id,
        etag=etag,
        size=size,
        key=key,
        multipart_id=multipart_id,
        embargoed=embargoed,
    )
    session.add(upload)
    session.flush()
    generator = PartGenerator.for_file_size(size)
    expires = archive.settings.upload_url_expiry_seconds
    parts = []
    for number in range(1, len(generator) + 1):
        part = generator[number]
        url = archive.store.presign_upload_part(key, multipart_id, part, expires)
        parts.append({"part_number": part.number, "size": part.size, "upload_url": url})
    return upload, parts


def get_upload(session: Session, user: User | None, upload_id: str) -> Upload:
    try:
        uid = uuid.UUID(upload_id)
    except ValueError:
        raise NotFound(f"{upload_id!r} is not an upload id.") from None
    upload = session.get(Upload, uid)
    if upload is None:
        raise NotFound(f"No upload {upload_id} (it may have finished or been cancelled).")
    require_owner(session, get_dandiset(session, f"{upload.dandiset_id:06d}"), user)
    return upload


def complete(
    archive: Archive, session: Session, user: User | None, upload_id: str, parts: Any
) -> dict[str, str]:
    upload = get_upload(session, user, upload_id)
    listed = _check_parts(upload, parts)
    xml_parts = "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{escape(etag)}</ETag></Part>"
        for n, etag in listed
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"{xml_parts}</CompleteMultipartUpload>"
    )
    url = archive.store.presign_complete(
        upload.key,
        upload.multipart_id,
        etag=upload.etag,
        part_sizes=part_sizes(upload.size),
        expires=archive.settings.upload_url_expiry_seconds,
    )
    return {"complete_url": url, "body": body}


def _check_parts(upload: Upload, parts: Any) -> list[tuple[int, str]]:
    """Exactly the parts the upload was cut into, each once with its size and MD5."""
    if not isinstance(parts, list) or not parts:
        raise BadRequest("parts must be a non-empty list of {part_number, size, etag}.")
    expected = part_sizes(upload.size)
    seen: dict[int, str] = {}
    for part in parts:
        if not isinstance(part, dict):
            raise BadRequest("Each part must be an object {part_number, size, etag}.")
        number, size, etag = part.get("part_number"), part.get("size"), part.get("etag")
        if isinstance(number, bool) or not isinstance(number, int):
            raise BadRequest("part_number must be an integer.")
        if not 1 <= number <= len(expected):
            raise BadRequest(f"Part {number} does not exist; this upload has {len(expected)}.")
        if number in seen:
            raise BadRequest(f"Part {number} is listed twice.")
        if size != expected[number - 1]:
            raise BadRequest(f"Part {number} must be {expected[number - 1]} bytes, not {size}.")
        if not isinstance(etag, str) or not MD5.match(etag.strip('"')):
            raise BadRequest(f"Part {number} needs its etag (the MD5 hex of its bytes).")
        seen[number] = etag.strip('"')
    missing = [n for n in range(1, len(expected) + 1) if n not in seen]
    if missing:
        raise BadRequest(f"Parts missing: {', '.join(map(str, missing))}.")
    return sorted(seen.items())


def validate(archive: Archive, session: Session, user: User | None, upload_id: str) -> AssetBlob:
    upload = get_upload(session, user, upload_id)
    _check_stored_object(archive, session, upload)
    existing = session.scalar(select(AssetBlob).where(AssetBlob.etag == upload.etag))
    if existing is not None:
        return _use_existing(archive, session, upload, existing)
    blob = AssetBlob(
        id=upload.id,
        etag=upload.etag,
        size=upload.size,
        key=upload.key,
        embargoed=upload.embargoed,
    )
    session.add(blob)
    session.delete(upload)
    # Two uploads of the same new content validated at once: the second breaks the
    # unique etag, and is run again (api.transient), finding the first one's blob.
    session.flush()
    blobs.grant(session, blob.id, upload.dandiset_id)
    archive.defer(session, "compute_sha256", blob_id=str(blob.id))
    return blob


def _check_stored_object(archive: Archive, session: Session, upload: Upload) -> None:
    """The upload's object exists with the announced size and ETag, or the upload ends."""
    info = archive.store.head(upload.key)
    if info is None:
        if archive.store.multipart_upload_exists(upload.key, upload.multipart_id):
            raise BadRequest("Object does not exist; complete the upload first.")
        session.delete(upload)
        raise BadRequest(
            "The upload was refused by storage or aborted; start a new one.", keep_changes=True
        )
    if info.size != upload.size or info.etag != upload.etag:
        archive.store.delete(upload.key)
        archive.store.abort_multipart_upload(upload.key, upload.multipart_id)
        session.delete(upload)
        raise BadRequest(
            f"The stored object (size {info.size}, ETag {info.etag}) does not match the "
            f"announced size {upload.size} and ETag {upload.etag}; it was discarded.",
            keep_changes=True,
        )


def _use_existing(
    archive: Archive, session: Session, upload: Upload, existing: AssetBlob
) -> AssetBlob:
    """The same content is stored already: keep one copy, and let the uploader (who has
    just proven to hold the bytes) use it."""
    session.delete(upload)
    blobs.grant(session, existing.id, upload.dandiset_id)
    if upload.key != existing.key:  # uploads made before keys were per upload share one
        key = upload.key
        after_commit(session, lambda _s: archive.store.delete(key))
    return existing


def cancel_uploads(archive: Archive, session: Session, dandiset_id: int) -> None:
    for upload in session.scalars(select(Upload).where(Upload.dandiset_id == dandiset_id)):
        archive.store.abort_multipart_upload(upload.key, upload.multipart_id)
    session.execute(delete(Upload).where(Upload.dandiset_id == dandiset_id))


def find_blob(session: Session, user: User | None, algorithm: Any, value: Any) -> AssetBlob:
    """The blob with this digest, if the caller may know of it (else 404, as if absent)."""
    if algorithm == "dandi:dandi-etag":
        if not isinstance(value, str) or not ETAG.match(value):
            raise BadRequest(f"{value!r} is not a dandi-etag.")
        blob = session.scalar(select(AssetBlob).where(AssetBlob.etag == value))
    elif algorithm == "dandi:sha2-256":
        if not isinstance(value, str) or not SHA256.match(value):
            raise BadRequest(f"{value!r} is not a SHA-256 hex digest.")
        blob = session.scalar(select(AssetBlob).where(AssetBlob.sha256 == value).limit(1))
    else:
        raise BadRequest("algorithm must be 'dandi:dandi-etag' or 'dandi:sha2-256'.")
    if blob is None or not blobs.may_use(session, blob, user):
        raise NotFound("No blob with that digest.")
    return blob
