"""Request and response bodies, with the JSON shapes of api.dandiarchive.org.

Declared on the routes, they make the OpenAPI document the truth about the API.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dandi_archive.dandisets.metadata import contact_person
from dandi_archive.dandisets.stars import StarInfo
from dandi_archive.db.models import Dandiset, User, Version

# -- requests --------------------------------------------------------------------------


class DandisetCreate(BaseModel):
    name: str = Field(description="Title of the Dandiset")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Dandiset metadata")


class VersionUpdate(BaseModel):
    name: str | None = None
    metadata: dict[str, Any]


class PublishRequest(BaseModel):
    release_notes: str | None = Field(None, max_length=5000, description="What changed")


class AssetWrite(BaseModel):
    metadata: dict[str, Any] = Field(description="Asset metadata; must include 'path'")
    blob_id: uuid.UUID | None = None
    zarr_id: uuid.UUID | None = None


class Digest(BaseModel):
    algorithm: str
    value: str


class UploadInitialize(BaseModel):
    contentSize: int = Field(description="Size of the file in bytes (1 B to 5 TiB)")
    digest: Digest
    dandiset: str = Field(description="Identifier of the Dandiset, e.g. '000123'")


class UploadPart(BaseModel):
    part_number: int
    size: int
    etag: str


class UploadComplete(BaseModel):
    parts: list[UploadPart]


class ZarrCreate(BaseModel):
    name: str = Field(description="Name of the Zarr (the asset path it will have)")
    dandiset: str = Field(description="Identifier of the Dandiset, e.g. '000123'")


class OwnerRef(BaseModel):
    username: str


# -- responses -------------------------------------------------------------------------


class VersionSummary(BaseModel):
    version: str
    name: str
    asset_count: int
    size: int
    status: str
    created: datetime
    modified: datetime


class DandisetSummary(BaseModel):
    identifier: str
    created: datetime
    modified: datetime
    contact_person: str
    embargo_status: str
    star_count: int
    is_starred: bool = Field(description="Whether the caller starred it (false if anonymous)")


class StarCount(BaseModel):
    count: int = Field(description="Stars the Dandiset now has")


class StatsOut(BaseModel):
    dandiset_count: int = Field(description="Every Dandiset, embargoed ones included")
    published_dandiset_count: int = Field(description="Dandisets with a published version")
    user_count: int = Field(description="Approved accounts")
    size: int = Field(description="Bytes of the distinct blobs and Zarrs in some version")


class VersionDetail(VersionSummary):
    active_uploads: int
    release_notes: str = ""


class DandisetOut(DandisetSummary):
    most_recent_published_version: VersionSummary | VersionDetail | None
    draft_version: VersionSummary | VersionDetail | None


class VersionListItem(VersionDetail):
    dandiset: DandisetSummary


class ValidationError(BaseModel):
    """A problem, as upstream says it; one found by a data standard's validator (BIDS, the
    NWB Inspector) also has ``code`` (e.g. ``BIDS.JSON_KEY_REQUIRED``,
    ``NWBI.check_subject_exists``), ``severity`` (error, warning, not-checked) and
    ``standard``."""

    model_config = ConfigDict(extra="allow")

    field: str
    message: str


class AssetValidationError(ValidationError):
    path: str


class DoiInfo(BaseModel):
    doi: str
    state: str = Field(description="reserved, pending, draft, findable or failed")
    message: str


class VersionInfo(VersionListItem):
    asset_validation_errors: list[AssetValidationError]
    version_validation_errors: list[ValidationError]
    validation_warnings: list[AssetValidationError] = Field(
        default_factory=list,
        description="Advice of data standards' validators (BIDS), not blocking publishing; "
        "path is '' for the dataset as a whole",
    )
    metadata: dict[str, Any]
    contact_person: str
    doi: DoiInfo | None = None


class AssetOut(BaseModel):
    asset_id: uuid.UUID
    blob: uuid.UUID | None
    zarr: uuid.UUID | None
    path: str
    size: int
    created: datetime
    modified: datetime
    metadata: dict[str, Any] | None = None


class AssetValidation(BaseModel):
    status: str
    validation_errors: list[ValidationError]
    validation_warnings: list[ValidationError] = Field(
        default_factory=list,
        description="Problems that do not block publishing: data standards' validators' "
        "advice (BIDS, NWB Inspector best practices) and files that are not what their "
        "names say (a .sif that is not SIF)",
    )
    nwb_inspection: dict[str, Any] | None = Field(
        None,
        description="For an NWB file: the NWB Inspector's run over its bytes (state, "
        "outcome, reason when it could not check, inspector version, bytes read, errors, "
        "advice)",
    )


class PathAsset(BaseModel):
    asset_id: uuid.UUID
    url: str


class PathEntryOut(BaseModel):
    path: str
    version: int
    aggregate_files: int
    aggregate_size: int
    asset: PathAsset | None


class ZarrOut(BaseModel):
    name: str
    dandiset: str
    zarr_id: uuid.UUID
    status: str
    checksum: str | None
    file_count: int
    size: int


class ZarrFileOut(BaseModel):
    Key: str
    LastModified: datetime | None
    ETag: str
    Size: int


class ZarrFilePage(BaseModel):
    next: str | None
    results: list[ZarrFileOut]


class UploadPartURL(BaseModel):
    part_number: int
    size: int
    upload_url: str


class UploadInitialized(BaseModel):
    upload_id: uuid.UUID
    parts: list[UploadPartURL]


class UploadCompletion(BaseModel):
    complete_url: str
    body: str


class BlobOut(BaseModel):
    blob_id: uuid.UUID
    etag: str
    sha256: str | None
    size: int


class UploadOut(BaseModel):
    upload_id: uuid.UUID
    blob: str
    etag: str
    size: int
    created: datetime
    # Upstream's row is a TimeStampedModel; ours is never changed after it is made (it is
    # deleted on validate or cancel), so it was last modified when it was created.
    modified: datetime


class OwnerOut(BaseModel):
    username: str
    name: str
    email: str | None


class UserOut(BaseModel):
    username: str
    name: str
    admin: bool
    status: str


# -- builders --------------------------------------------------------------------------


def version_summary(version: Version, totals: tuple[int, int]) -> VersionSummary:
    return VersionSummary(
        version=version.version,
        name=version.name,
        asset_count=totals[0],
        size=totals[1],
        status=version.status.value,
        created=version.created,
        modified=version.modified,
    )


def version_detail(version: Version, totals: tuple[int, int], active_uploads: int) -> VersionDetail:
    return VersionDetail(
        **version_summary(version, totals).model_dump(),
        active_uploads=active_uploads if version.is_draft else 0,
        release_notes=version.metadata_.get("releaseNotes") or "",
    )


def dandiset_summary(
    dandiset: Dandiset, contact_metadata: dict[str, Any], stars: StarInfo
) -> DandisetSummary:
    return DandisetSummary(
        identifier=dandiset.identifier,
        created=dandiset.created,
        modified=dandiset.modified,
        contact_person=contact_person(contact_metadata),
        embargo_status=dandiset.embargo_status.value,
        star_count=stars.count,
        is_starred=stars.starred,
    )


def owner_out(user: User, *, with_email: bool) -> OwnerOut:
    return OwnerOut(
        username=user.username, name=user.name, email=user.email if with_email else None
    )
