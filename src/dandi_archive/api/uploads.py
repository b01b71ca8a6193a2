"""``/api/uploads/`` and ``/api/blobs/``: multipart uploads and finding stored content."""

from __future__ import annotations

from fastapi import APIRouter

from dandi_archive.api.deps import ArchiveDep, SessionDep, UserDep
from dandi_archive.api.schemas import (
    BlobOut,
    Digest,
    UploadComplete,
    UploadCompletion,
    UploadInitialize,
    UploadInitialized,
)
from dandi_archive.assets import uploads as service

router = APIRouter(prefix="/api", tags=["uploads"])


def blob_out(blob) -> BlobOut:
    return BlobOut(blob_id=blob.id, etag=blob.etag, sha256=blob.sha256, size=blob.size)


@router.post(
    "/uploads/initialize/",
    response_model=UploadInitialized,
    responses={409: {"description": "Same content already stored; Location names its blob"}},
    summary="Start an upload",
)
def initialize(
    archive: ArchiveDep, session: SessionDep, user: UserDep, body: UploadInitialize
) -> UploadInitialized:
    upload, parts = service.initialize(
        archive, session, user, body.contentSize, body.digest.model_dump(), body.dandiset
    )
    return UploadInitialized(upload_id=upload.id, parts=parts)


@router.post(
    "/uploads/{upload_id}/complete/", response_model=UploadCompletion, summary="Finish the parts"
)
def complete(
    archive: ArchiveDep, session: SessionDep, user: UserDep, upload_id: str, body: UploadComplete
) -> UploadCompletion:
    parts = [p.model_dump() for p in body.parts]
    return UploadCompletion(**service.complete(archive, session, user, upload_id, parts))


@router.post("/uploads/{upload_id}/validate/", response_model=BlobOut, summary="Turn into a blob")
def validate(archive: ArchiveDep, session: SessionDep, user: UserDep, upload_id: str) -> BlobOut:
    return blob_out(service.validate(archive, session, user, upload_id))


@router.post("/blobs/digest/", response_model=BlobOut, summary="Find a blob by digest")
def blob_by_digest(session: SessionDep, user: UserDep, body: Digest) -> BlobOut:
    return blob_out(service.find_blob(session, user, body.algorithm, body.value))
