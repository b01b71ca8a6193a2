"""Tables of the archive.

A Dandiset has versions (one mutable ``draft`` and any number of published ones).
Assets join versions through ``version_assets``; a published version shares the
unchanged asset rows of the draft it was made from. ``folders`` holds per-folder
file counts and byte totals of each version, kept up to date as assets come and go,
so folder listings and version sizes never scan all assets.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


JSONDocument = JSON().with_variant(JSONB(), "postgresql")
# Paths compare byte-wise (code point order) on every engine, so a prefix is a key range
# and folder listings sort the same way on SQLite and PostgreSQL.
PathString = String(512).with_variant(String(512, collation="C"), "postgresql")
# Paths inside a Zarr: S3 keys are at most 1024 bytes, ``zarr/<uuid>/`` included.
ZarrPathString = String(1024).with_variant(String(1024, collation="C"), "postgresql")


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class UserStatus(enum.StrEnum):
    INCOMPLETE = "INCOMPLETE"
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class EmbargoStatus(enum.StrEnum):
    OPEN = "OPEN"
    EMBARGOED = "EMBARGOED"
    UNEMBARGOING = "UNEMBARGOING"


class VersionStatus(enum.StrEnum):
    PENDING = "Pending"
    VALIDATING = "Validating"
    VALID = "Valid"
    INVALID = "Invalid"
    PUBLISHING = "Publishing"
    PUBLISHED = "Published"


class ZarrStatus(enum.StrEnum):
    PENDING = "Pending"
    UPLOADED = "Uploaded"
    INGESTING = "Ingesting"
    COMPLETE = "Complete"


class AssetStatus(enum.StrEnum):
    PENDING = "Pending"
    VALIDATING = "Validating"
    VALID = "Valid"
    INVALID = "Invalid"


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONDocument}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[UserStatus] = mapped_column(
        _enum(UserStatus, "user_status"), default=UserStatus.PENDING
    )
    created: Mapped[datetime] = mapped_column(default=utcnow)
    # The sign-up questionnaire's answers (question -> answer), None until answered.
    questionnaire: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    # Whether a sign-in provider vouched for ``email``: only such addresses can approve
    # an account automatically by their domain (anyone can type an address at sign-up).
    email_verified: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )

    api_key: Mapped[ApiKey | None] = relationship(back_populates="user", uselist=False)

    @property
    def is_approved(self) -> bool:
        return self.is_admin or self.status == UserStatus.APPROVED


class ExternalAccount(Base):
    """A sign-in identity at an OAuth provider (GitHub, ORCID) that belongs to a user."""

    __tablename__ = "external_accounts"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The provider's stable id of the person (GitHub's numeric id, the ORCID iD).
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    # The person's name at the provider (their GitHub login), as of their last sign-in:
    # people are found by it (``/api/users/search/``), as on upstream.
    login: Mapped[str | None] = mapped_column(String(255))


class ApiKey(Base):
    """The one API key of a user (``Authorization: token KEY``); regenerating replaces it."""

    __tablename__ = "api_keys"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="api_key")


class WebSession(Base):
    """A signed-in browser. The cookie carries a random token; the row is keyed by its
    SHA-256, so deleting the row ends the session at once (sign-out, a new password or
    API key, rejection) and a copy of the database gives no usable cookies."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires: Mapped[datetime] = mapped_column()


class Dandiset(Base):
    __tablename__ = "dandisets"

    id: Mapped[int] = mapped_column(primary_key=True)
    embargo_status: Mapped[EmbargoStatus] = mapped_column(
        _enum(EmbargoStatus, "embargo_status"), default=EmbargoStatus.OPEN
    )
    embargo_end_date: Mapped[date | None] = mapped_column(Date)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # File downloads through the API (services.stats.count_download): "most downloaded".
    download_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    owners: Mapped[list[User]] = relationship(secondary="dandiset_owners", order_by="User.id")
    versions: Mapped[list[Version]] = relationship(
        back_populates="dandiset", order_by="Version.id", cascade="all, delete-orphan"
    )

    @property
    def identifier(self) -> str:
        return f"{self.id:06d}"


class DandisetOwner(Base):
    __tablename__ = "dandiset_owners"

    dandiset_id: Mapped[int] = mapped_column(
        ForeignKey("dandisets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class DandisetReader(Base):
    """A user an owner let read an embargoed Dandiset (a reviewer or collaborator): its
    metadata, assets and Zarrs, never a change. It counts only while the account is
    approved and the Dandiset embargoed (``access.permissions``); unembargoing drops it."""

    __tablename__ = "dandiset_readers"

    dandiset_id: Mapped[int] = mapped_column(
        ForeignKey("dandisets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created: Mapped[datetime] = mapped_column(default=utcnow)


class AccessRequestStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class AccessRequest(Base):
    """A user's request to read an embargoed Dandiset, which its owners accept (the
    user becomes a reader) or decline. One row per Dandiset and user: asking again
    while pending changes nothing; after a decline it re-opens the same row."""

    __tablename__ = "access_requests"
    __table_args__ = (UniqueConstraint("dandiset_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dandiset_id: Mapped[int] = mapped_column(
        ForeignKey("dandisets.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[AccessRequestStatus] = mapped_column(
        _enum(AccessRequestStatus, "access_request_status"), default=AccessRequestStatus.PENDING
    )
    created: Mapped[datetime] = mapped_column(default=utcnow)
    decided: Mapped[datetime | None] = mapped_column()
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)


class EmbargoNotice(Base):
    """Something about an embargo that people should be told (the outbox a mailer
    reads): an access request, its answer, an embargo ending in 30 or 7 days, an
    embargo lifted because it ended. Nothing here sends mail; ``sent`` is for whatever
    does. ``about_date`` (the end date a warning is about) keeps warnings once each."""

    __tablename__ = "embargo_notices"
    __table_args__ = (UniqueConstraint("dandiset_id", "kind", "about_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dandiset_id: Mapped[int] = mapped_column(
        ForeignKey("dandisets.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    # Whom it is about (the requester); owners are the audience of every kind but
    # the answers to a request, which go to the requester.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    about_date: Mapped[date | None] = mapped_column(Date)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    sent: Mapped[datetime | None] = mapped_column(index=True)


class DandisetStar(Base):
    """A user's star on a Dandiset (a bookmark that others see counted)."""

    __tablename__ = "dandiset_stars"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed for the per-Dandiset counts of listings and ``ordering=stars``.
    dandiset_id: Mapped[int] = mapped_column(
        ForeignKey("dandisets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created: Mapped[datetime] = mapped_column(default=utcnow)


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("dandiset_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dandiset_id: Mapped[int] = mapped_column(ForeignKey("dandisets.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    status: Mapped[VersionStatus] = mapped_column(
        _enum(VersionStatus, "version_status"), default=VersionStatus.PENDING
    )
    # Bumped on every change of the metadata, of the asset set or of which assets are
    # valid (the assetsSummary counts those), so a validation job that started before a
    # change never records its now-stale verdict, and manifests know they are stale.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    validation_errors: Mapped[list[dict[str, str]]] = mapped_column(JSONDocument, default=list)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow)
    # Draft only, while Publishing: {"version", "user_id", "release_notes", "requested"}.
    # Kept in the row so a publish interrupted by a crash resumes with the same version id.
    publish_request: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    # The revision whose manifests are in the bucket (None: not written yet).
    manifests_revision: Mapped[int | None] = mapped_column(Integer)
    # Published versions only: when an admin withdrew it. The row, its assets and its
    # manifests stay (as a tombstone); it is no longer listed or the most recent.
    withdrawn: Mapped[datetime | None] = mapped_column()

    dandiset: Mapped[Dandiset] = relationship(back_populates="versions")

    @property
    def is_draft(self) -> bool:
        return self.version == "draft"


class AssetBlob(Base):
    """Stored bytes of one distinct content, shared by every asset that has that content."""

    __tablename__ = "asset_blobs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    etag: Mapped[str] = mapped_column(String(40), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    embargoed: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    # Fixity: when the stored bytes were last re-hashed, and whether they still matched.
    fixity_checked: Mapped[datetime | None] = mapped_column(index=True)
    fixity_ok: Mapped[bool | None] = mapped_column(Boolean)
    fixity_message: Mapped[str | None] = mapped_column(Text)
    # What the bytes are, looked at once by ``inspect_container`` (containers/): NULL until
    # then, else {"content": "sif" | "docker-archive" | ... | "other", "image": {...}}.
    container: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)


class NwbInspection(Base):
    """What the NWB Inspector found in a blob's bytes (``standards.nwb``): one row per
    blob, so content uploaded twice is inspected once and a changed file (a new blob) is
    inspected anew. ``state`` is queued, running (``token`` names the run) or done;
    ``outcome`` is "checked", or "not-checked" with the ``reason`` (not HDF5, unreadable,
    inspector crashed or timed out) -- never taken for a pass."""

    __tablename__ = "nwb_inspections"

    blob_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("asset_blobs.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16), default="queued")
    token: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    # Each finding as ``standards.finding`` makes it, with the inspector's importance.
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    inspector_version: Mapped[str | None] = mapped_column(String(32))
    bytes_read: Mapped[int | None] = mapped_column(BigInteger)  # of the blob, by the run
    updated: Mapped[datetime] = mapped_column(default=utcnow)


class BlobGrant(Base):
    """A Dandiset whose owners may use a blob because its bytes were uploaded into it.

    Embargoed content is found (by digest) and reused only by those who may read it:
    owners of a Dandiset that holds it in an asset, or into which the bytes were
    uploaded (a record here). Anyone else uploads the bytes themselves.
    """

    __tablename__ = "blob_grants"

    blob_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("asset_blobs.id", ondelete="CASCADE"), primary_key=True
    )
    dandiset_id: Mapped[int] = mapped_column(
        ForeignKey("dandisets.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Zarr(Base):
    """A Zarr tree of a Dandiset, stored object by object under ``zarr/{id}/``.

    ``file_count``, ``size`` and the directory digests describe the tree as of the last
    ingest; ``checksum`` is only set while the Zarr is Complete.
    """

    __tablename__ = "zarrs"
    __table_args__ = (
        # Names are unique among a Dandiset's live Zarrs; frozen ones keep theirs.
        Index(
            "uq_zarrs_live_name",
            "dandiset_id",
            "name",
            unique=True,
            sqlite_where=text("frozen_from IS NULL"),
            postgresql_where=text("frozen_from IS NULL"),
        ),
        CheckConstraint(
            "(checksum IS NULL) = (status <> 'Complete')", name="checksum_iff_complete"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    dandiset_id: Mapped[int] = mapped_column(ForeignKey("dandisets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(PathString)
    status: Mapped[ZarrStatus] = mapped_column(
        _enum(ZarrStatus, "zarr_status"), default=ZarrStatus.PENDING
    )
    checksum: Mapped[str | None] = mapped_column(String(128))
    file_count: Mapped[int] = mapped_column(BigInteger, default=0)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # What the OME-NGFF inspection found: {"multiscales": ...} or {"errors": [...]}.
    ngff: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    # Identifies the ingest run that set Ingesting, so a run presumed lost and restarted
    # never has its work applied twice.
    ingest_token: Mapped[str | None] = mapped_column(String(32))
    # A frozen Zarr (of a published version) is an immutable copy of the live Zarr it
    # names here; its objects are content-addressed copies, complete once ``preserved``.
    frozen_from: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("zarrs.id", ondelete="CASCADE"), index=True
    )
    preserved: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def key_prefix(self) -> str:
        return f"zarr/{self.id}/"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_from is not None


class ZarrContent(Base):
    """A frozen object: the bytes with this MD5 of a live Zarr, stored once at
    ``zarr-content/{zarr_id}/{md5}`` whatever the paths and versions that hold them."""

    __tablename__ = "zarr_contents"

    zarr_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("zarrs.id", ondelete="CASCADE"), primary_key=True
    )
    md5: Mapped[str] = mapped_column(String(32), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)


class ZarrFile(Base):
    """An object of a Zarr as last ingested: a leaf of the checksum tree."""

    __tablename__ = "zarr_files"
    __table_args__ = (Index("ix_zarr_files_directory", "zarr_id", "directory"),)

    zarr_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("zarrs.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(ZarrPathString, primary_key=True)
    directory: Mapped[str] = mapped_column(ZarrPathString)  # "" for the root
    size: Mapped[int] = mapped_column(BigInteger)
    md5: Mapped[str] = mapped_column(String(32))
    modified: Mapped[datetime] = mapped_column()


class ZarrDirectory(Base):
    """A directory's digest (``{md5}-{files}--{bytes}``), kept so that a change re-hashes
    only the directories above it instead of the whole tree."""

    __tablename__ = "zarr_directories"
    __table_args__ = (Index("ix_zarr_directories_parent", "zarr_id", "parent"),)

    zarr_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("zarrs.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(ZarrPathString, primary_key=True)  # "" for the root
    parent: Mapped[str | None] = mapped_column(ZarrPathString)
    digest: Mapped[str] = mapped_column(String(128))
    file_count: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(BigInteger)


class ZarrChange(Base):
    """A path written (an upload URL was handed out) or deleted since the last ingest.

    Finalizing records what storage holds for each (``seen_*``); ingesting applies it.
    A path whose announced upload had not arrived while a URL for it still worked is
    ``awaiting``: the ingest applies what was there and keeps the row (``seen`` reset),
    so the next finalize looks at it again should the old URL still deliver.
    """

    __tablename__ = "zarr_changes"

    zarr_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("zarrs.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(ZarrPathString, primary_key=True)
    md5: Mapped[str | None] = mapped_column(String(32))  # announced upload; None = deleted
    expires: Mapped[datetime | None] = mapped_column()  # when the upload URL stops working
    seen: Mapped[bool] = mapped_column(Boolean, default=False)
    awaiting: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    seen_size: Mapped[int | None] = mapped_column(BigInteger)
    seen_md5: Mapped[str | None] = mapped_column(String(32))
    seen_modified: Mapped[datetime | None] = mapped_column()


class Asset(Base):
    """A file of a Dandiset: a blob or a Zarr, plus its metadata (stored without
    computed fields)."""

    __tablename__ = "assets"
    __table_args__ = (
        CheckConstraint("(blob_id IS NULL) <> (zarr_id IS NULL)", name="blob_xor_zarr"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    path: Mapped[str] = mapped_column(String(512))
    blob_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("asset_blobs.id", ondelete="RESTRICT"), index=True
    )
    # A Zarr goes only with its Dandiset, and then so do the assets that show it.
    zarr_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("zarrs.id", ondelete="CASCADE"), index=True
    )
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    status: Mapped[AssetStatus] = mapped_column(
        _enum(AssetStatus, "asset_status"), default=AssetStatus.PENDING, index=True
    )
    validation_errors: Mapped[list[dict[str, str]]] = mapped_column(JSONDocument, default=list)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow)

    blob: Mapped[AssetBlob | None] = relationship(lazy="joined")
    zarr: Mapped[Zarr | None] = relationship(lazy="joined")

    @property
    def size(self) -> int:
        if self.blob is not None:
            return self.blob.size
        # A published version's Zarr assets show frozen Zarrs, whose size never changes.
        return self.zarr.size if self.zarr is not None else 0


class VersionAsset(Base):
    """Membership of an asset in a version, with its path denormalised for lookups."""

    __tablename__ = "version_assets"
    __table_args__ = (
        Index(
            "uq_version_assets_path",
            "version_id",
            "path",
            unique=True,
            postgresql_include=["asset_id"],
        ),
        Index("ix_version_assets_folder", "version_id", "folder", "path"),
    )

    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    path: Mapped[str] = mapped_column(PathString)
    folder: Mapped[str] = mapped_column(PathString)


class Folder(Base):
    """A folder of a version with the number and total size of the files below it.

    The root folder has path ``""``; its totals are the version's asset count and size.
    """

    __tablename__ = "folders"
    __table_args__ = (Index("ix_folders_parent", "version_id", "parent", "path"),)

    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(PathString, primary_key=True)
    parent: Mapped[str | None] = mapped_column(PathString)
    file_count: Mapped[int] = mapped_column(BigInteger, default=0)
    total_size: Mapped[int] = mapped_column(BigInteger, default=0)


class DoiState(enum.StrEnum):
    RESERVED = "reserved"  # minted, but no DataCite account is configured
    PENDING = "pending"  # to be sent to DataCite
    DRAFT = "draft"  # registered at DataCite as a draft
    FINDABLE = "findable"  # registered and public
    FAILED = "failed"  # DataCite refused or was unreachable; retried by the sweep
    # A withdrawn version's DOI: DataCite's "registered" state (it still resolves, to the
    # tombstone, but is no longer findable; a findable DOI can never be deleted).
    REGISTERED = "registered"
    # A withdrawn version's DOI that never became findable: removed at DataCite (or
    # never sent there), and never registered again.
    DELETED = "deleted"


class Doi(Base):
    """A DOI of a Dandiset: a version DOI, or (version_id None) its concept DOI,
    which always resolves to the newest published version."""

    __tablename__ = "dois"

    doi: Mapped[str] = mapped_column(String(255), primary_key=True)
    dandiset_id: Mapped[int] = mapped_column(
        ForeignKey("dandisets.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[DoiState] = mapped_column(_enum(DoiState, "doi_state"))
    # Where registration should take it: "draft" or "findable".
    target: Mapped[DoiState] = mapped_column(_enum(DoiState, "doi_target"))
    message: Mapped[str | None] = mapped_column(Text)
    updated: Mapped[datetime] = mapped_column(default=utcnow)


class StandardCheck(Base):
    """A data standard's validator run over part of a draft: a BIDS dataset (``root``, the
    folder holding its ``dataset_description.json``, "" for the top). One row per draft,
    standard and root, so runs are coalesced: a change bumps ``generation`` and queues a
    run only if none is queued or running; a run that finds the generation moved on
    drops its result and runs once more (``standards.bids``)."""

    __tablename__ = "standard_checks"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    standard: Mapped[str] = mapped_column(String(32), primary_key=True)
    root: Mapped[str] = mapped_column(PathString, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued, running, done
    generation: Mapped[int] = mapped_column(Integer, default=0)
    # Set once done: "checked", or "not-checked" (the validator crashed, timed out or is
    # missing; ``reason`` says which) -- never taken for a pass.
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    # What the validator said of the dataset as a whole (subjects, datatypes, versions).
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    updated: Mapped[datetime] = mapped_column(default=utcnow)


class StandardFinding(Base):
    """An issue a standard's validator found in a draft: about the asset at ``path``, or
    (``path`` None) about the dataset as a whole. Errors and "could not be checked" block
    publishing; warnings are advice. Replaced as a whole by each run of its check."""

    __tablename__ = "standard_findings"
    __table_args__ = (Index("ix_standard_findings_check", "version_id", "standard", "root"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"))
    standard: Mapped[str] = mapped_column(String(32))
    root: Mapped[str] = mapped_column(PathString)
    path: Mapped[str | None] = mapped_column(PathString)
    severity: Mapped[str] = mapped_column(String(16))  # error, warning, not-checked
    code: Mapped[str] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(255), default="")
    message: Mapped[str] = mapped_column(Text)


class Upload(Base):
    """A multipart upload in progress; it becomes an AssetBlob once validated."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    dandiset_id: Mapped[int] = mapped_column(
        ForeignKey("dandisets.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    etag: Mapped[str] = mapped_column(String(40), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(255))
    multipart_id: Mapped[str] = mapped_column(String(1024))
    embargoed: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(default=utcnow)


# The search index's tables live in their own module; import it so they are part of
# Base.metadata wherever the models are.
from dandi_archive.db import search as _search  # noqa: E402, F401


class AuditEvent(Base):
    """One change of a Dandiset (upstream's ``AuditRecord``), written in the same
    transaction as the change and never updated. ``dandiset_id`` has no foreign key:
    the history outlives a deleted Dandiset. The actor's username and name are copied,
    so the record stays true if the account changes; no e-mail address is kept."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_dandiset_created", "dandiset_id", "created"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    dandiset_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(150), default="")
    user_name: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(32), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    created: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OAuthClient(Base):
    """An application that signs people in with the archive (OAuth 2 / OpenID Connect).
    Only the SHA-256 of its secret is kept; redirect URIs are compared exactly."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    redirect_uris: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    # Trusted by an administrator: people are not asked to consent.
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthAuthorizationCode(Base):
    """A code given to a client for one person's consent, kept by its SHA-256; used once
    (``used``), after which a second try revokes the tokens it gave (RFC 6749 4.1.2)."""

    __tablename__ = "oauth_authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, default="")
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(16))
    auth_time: Mapped[datetime] = mapped_column()
    expires: Mapped[datetime] = mapped_column()
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthToken(Base):
    """An access token (and its refresh token) a client holds for a person, kept by
    SHA-256. ``grant_id`` names the consent it descends from (the code's hash), so a
    replayed code revokes every token of that line, refreshed ones included."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    grant_id: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    issued: Mapped[datetime] = mapped_column(default=utcnow)
    access_expires: Mapped[datetime] = mapped_column()
    refresh_expires: Mapped[datetime | None] = mapped_column()
    access_revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    refresh_revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()
    client: Mapped[OAuthClient] = relationship()


class OAuthSigningKey(Base):
    """The RSA key that signs ID tokens, made once and shared by every API process
    (``id`` 1 is the one in use; the JWKS lists them all)."""

    __tablename__ = "oauth_signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_jwk: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class OutgoingMail(Base):
    """A mail to send, written in the transaction of the change it tells about and sent
    by a job after commit (``dandi_archive.mail``), so a refusing SMTP server never
    undoes the change: the row waits and is tried again after ``due``.

    ``due`` is when it may be tried next: its first send, the pause after a failure, or a
    job's claim on it while it sends. A digest's text is composed when it is sent (it
    lists what waits then); ``dedupe_key`` keeps two of them from being queued at once.
    """

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(32), index=True)
    recipients: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    subject: Mapped[str] = mapped_column(String(255), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    due: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent: Mapped[datetime | None] = mapped_column(index=True)


class Transfer(Base):
    """A copy of an embedded archive into this database (``dandi-archive transfer``).

    ``source`` identifies the archive copied from, so that an interrupted transfer
    resumes here while any other archive's data is refused; the times say how far it
    got (rows all copied, then every object too).
    """

    __tablename__ = "transfers"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    started: Mapped[datetime] = mapped_column(default=utcnow)
    rows_copied: Mapped[datetime | None] = mapped_column()
    finished: Mapped[datetime | None] = mapped_column()


class HelpRequest(Base):
    """A signed-in user's question to the administrators (the helpdesk), optionally
    about one Dandiset they can see. Administrators read the open ones and answer once;
    both the question and the answer are mailed (``dandi_archive.helpdesk``)."""

    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Kept when the Dandiset is deleted: the question stays readable, without the link.
    dandiset_id: Mapped[int | None] = mapped_column(
        ForeignKey("dandisets.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # None while open; the admin's answer, once written, is what the requester reads.
    answer: Mapped[str | None] = mapped_column(Text)
    answered: Mapped[datetime | None] = mapped_column(index=True)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)
    answerer: Mapped[User | None] = relationship(foreign_keys=[answered_by], lazy="joined")

    @property
    def is_open(self) -> bool:
        return self.answered is None
