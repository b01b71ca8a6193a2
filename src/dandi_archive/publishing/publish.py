"""Publishing: a draft becomes an immutable version ``0.YYMMDD.HHMM``.

Two steps, as on dandiarchive.org:

1. :func:`request_publish` (the HTTP request) checks that the draft and every asset are
   Valid, locks the draft (status Publishing) and records the new version id in it.
2. :func:`publish_draft` (a background job) makes the version in one transaction, with
   set-based statements whatever the number of assets: the version shares the draft's
   asset rows (which become read-only) and copies its folder totals. A crash leaves
   either the draft still Publishing (the sweep runs the job again, with the same
   version id) or the finished version.

After the commit, jobs write the version's manifests to the bucket and register its
DOI; both are resumed by the sweep if interrupted.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import Session

from dandi_archive import paths
from dandi_archive.access.permissions import require_owner
from dandi_archive.audit import events as audit
from dandi_archive.dandisets import dois
from dandi_archive.dandisets import metadata as md
from dandi_archive.dandisets.dandisets import get_dandiset
from dandi_archive.dandisets.folders import version_totals
from dandi_archive.dandisets.versions import VERSION_ID
from dandi_archive.db.models import (
    Asset,
    AssetStatus,
    Dandiset,
    EmbargoStatus,
    Folder,
    User,
    Version,
    VersionAsset,
    VersionStatus,
)
from dandi_archive.errors import ArchiveError, BadRequest, Conflict, Locked, NotFound
from dandi_archive.publishing.manifests import manifest_prefix
from dandi_archive.standards import findings as standard_findings
from dandi_archive.zarr import freeze as zarr_freeze
from dandi_archive.zarr import zarrs

if TYPE_CHECKING:
    from dandi_archive.instance import Archive

log = logging.getLogger(__name__)

MAX_RELEASE_NOTES = 5000
NOT_VALID = "Dandiset metadata or asset metadata is not valid."


def version_id_for(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("0.%y%m%d.%H%M")


def next_version_id(session: Session, dandiset_id: int, now: datetime) -> str:
    """``0.YYMMDD.HHMM`` of now, a minute later for each one already taken."""
    taken = set(session.scalars(select(Version.version).where(Version.dandiset_id == dandiset_id)))
    moment = now
    while version_id_for(moment) in taken:
        moment += timedelta(minutes=1)
    return version_id_for(moment)


def _check_publishable(session: Session, dandiset: Dandiset, draft: Version) -> None:
    if dandiset.embargo_status != EmbargoStatus.OPEN:
        raise BadRequest("Operation only allowed on OPEN dandisets; lift the embargo first.")
    status = draft.status
    if status == VersionStatus.PUBLISHED:
        raise BadRequest("There have been no changes to the draft version since the last publish.")
    if status == VersionStatus.PUBLISHING:
        raise Locked("Dandiset is currently being published.")
    if status in (VersionStatus.PENDING, VersionStatus.VALIDATING):
        raise Conflict("Metadata validation is pending for this Dandiset; try again shortly.")
    if status == VersionStatus.INVALID:
        raise BadRequest(NOT_VALID)
    count, _ = version_totals(session, [draft.id])[draft.id]
    if count == 0:
        raise BadRequest("An empty Dandiset cannot be published: add files before publishing.")
    unfinished = zarrs.unfinished_zarrs(session, draft)
    if unfinished:
        raise Conflict(
            f"Zarr(s) {', '.join(unfinished)} are not Complete yet; finish their upload "
            "(finalize) and wait for the checksum before publishing."
        )
    member = select(VersionAsset.asset_id).where(VersionAsset.version_id == draft.id)
    rows = session.execute(
        select(Asset.status, func.count())
        .where(Asset.id.in_(member), Asset.status != AssetStatus.VALID)
        .group_by(Asset.status)
    )
    statuses = {status: count for status, count in rows}
    if statuses.get(AssetStatus.INVALID):
        raise BadRequest(f"{NOT_VALID} {statuses[AssetStatus.INVALID]} asset(s) are invalid.")
    if statuses:
        raise Conflict(
            f"{sum(statuses.values())} asset(s) are still being validated; try again shortly."
        )
    # Data standards' validators (BIDS): errors, or data they could not check, block.
    problem = standard_findings.publish_problem(session, draft.id)
    if problem is not None:
        pending, message = problem
        raise Conflict(message) if pending else BadRequest(message)


def publish_refusal(session: Session, dandiset: Dandiset, draft: Version) -> str | None:
    """Why :func:`request_publish` would refuse this draft now, or None if it would not:
    the same rule, so a page offers "Publish" exactly when publishing can succeed."""
    try:
        _check_publishable(session, dandiset, draft)
    except ArchiveError as exc:
        return exc.message
    return None


def publication_state(session: Session, dandiset: Dandiset, version: str) -> str:
    """Where the publication of ``version`` (the id :func:`request_publish` gave) is:
    "published" once the version exists, "publishing" while the job is still to make
    it, else "refused" (the job found the draft unpublishable after all)."""
    if version == "draft" or not VERSION_ID.match(version):
        raise NotFound(f"{version!r} is not a published version's id (0.YYMMDD.HHMM).")
    found = session.scalar(
        select(Version.id).where(Version.dandiset_id == dandiset.id, Version.version == version)
    )
    if found is not None:
        return "published"
    draft = session.scalars(
        select(Version).where(Version.dandiset_id == dandiset.id, Version.version == "draft")
    ).one()
    request = draft.publish_request or {}
    if draft.status == VersionStatus.PUBLISHING and request.get("version") == version:
        return "publishing"
    return "refused"


def request_publish(
    archive: Archive,
    session: Session,
    user: User | None,
    identifier: str,
    release_notes: Any = None,
) -> Version:
    dandiset = get_dandiset(session, identifier, lock="change")
    user = require_owner(session, dandiset, user)
    if release_notes is not None and (
        not isinstance(release_notes, str) or len(release_notes) > MAX_RELEASE_NOTES
    ):
        raise BadRequest(f"release_notes must be text of at most {MAX_RELEASE_NOTES} characters.")
    draft = session.scalars(
        select(Version)
        .where(Version.dandiset_id == dandiset.id, Version.version == "draft")
        .with_for_update()
    ).one()
    _check_publishable(session, dandiset, draft)
    now = datetime.now(UTC)
    draft.status = VersionStatus.PUBLISHING
    draft.publish_request = {
        "version": next_version_id(session, dandiset.id, now),
        "user_id": user.id,
        "release_notes": release_notes or None,
        "requested": md.iso(now),
    }
    archive.defer(session, "publish_draft", version_id=draft.id)
    return draft


def publish_draft(archive: Archive, draft_id: int) -> None:
    """Make the published version (the job behind :func:`request_publish`)."""
    with archive.db.session(write=True) as session:
        dandiset_id = session.scalar(select(Version.dandiset_id).where(Version.id == draft_id))
        if dandiset_id is None:
            return
        # The Dandiset's row before the draft's: the lock order of every change.
        dandiset = session.get(Dandiset, dandiset_id, with_for_update={"key_share": True})
        draft = session.get(Version, draft_id, with_for_update=True)
        if (
            dandiset is None
            or draft is None
            or draft.status != VersionStatus.PUBLISHING
            or not draft.publish_request
        ):
            return
        request = draft.publish_request
        now = datetime.now(UTC)
        version = Version(
            dandiset_id=dandiset.id,
            version=request["version"],
            name=draft.name,
            metadata_={},
            status=VersionStatus.VALID,
            created=now,
            modified=now,
        )
        version.dandiset = dandiset
        session.add(version)
        session.flush()
        published_by = md.published_by(now)
        metadata = published_metadata(archive, dandiset, draft, version, published_by, now)
        errors = md.validate_published_dandiset(metadata)
        if errors:
            session.rollback()
            _refuse(archive, draft_id, errors)
            return
        version.metadata_ = metadata
        try:
            _share_assets(archive, session, draft, version)
        except ArchiveError as exc:  # a Zarr changed since the request was accepted
            session.rollback()
            _refuse(archive, draft_id, [{"field": "", "message": exc.message}])
            return
        draft.status = VersionStatus.PUBLISHED
        draft.publish_request = None
        # The draft changed (its status), so it was modified now, as upstream's save() says.
        draft.modified = now
        dandiset.modified = now
        dois.mint_for_version(archive, session, dandiset, version)
        publisher = session.get(User, request.get("user_id")) if request.get("user_id") else None
        audit.publish_dandiset(session, dandiset.id, publisher, version.version)
        archive.defer(session, "write_manifests", version_id=version.id)
        archive.defer(session, "register_dois", dandiset_id=dandiset.id)
    log.info("published %s/%s", dandiset.identifier, version.version)


def _refuse(archive: Archive, draft_id: int, errors: list[dict[str, str]]) -> None:
    """The draft cannot be published after all: back to Invalid, with the reasons."""
    with archive.db.session(write=True) as session:
        draft = session.get(Version, draft_id, with_for_update=True)
        if draft is not None and draft.status == VersionStatus.PUBLISHING:
            draft.status = VersionStatus.INVALID
            draft.validation_errors = errors
            draft.publish_request = None


def published_metadata(
    archive: Archive,
    dandiset: Dandiset,
    draft: Version,
    version: Version,
    published_by: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    metadata = dict(draft.metadata_)
    metadata["publishedBy"] = published_by
    metadata["datePublished"] = md.iso(now)
    notes = (draft.publish_request or {}).get("release_notes")
    if notes:
        metadata["releaseNotes"] = notes
    doi = dois.version_doi(dandiset, version.version)
    if doi:
        metadata["doi"] = doi
    # A Valid draft carries the summary of its current assets (see services.summary).
    metadata["assetsSummary"] = draft.metadata_.get("assetsSummary")
    populated = md.populate_version_metadata(archive, dandiset, version, metadata)
    prefix = manifest_prefix(dandiset.identifier, version.version)
    populated["manifestLocation"] = [archive.store.public_url(prefix + "assets.yaml")]
    return populated


def _share_assets(archive: Archive, session: Session, draft: Version, version: Version) -> None:
    """Give the new version the draft's assets and folders, set-based.

    Blob assets are shared as they are (their rows never change again; see
    :func:`publication_stamps`). A Zarr can still change in the draft, so each Zarr
    asset is replaced in the version by one showing a frozen copy of its Zarr.
    """
    zarr_assets = list(
        session.scalars(
            select(Asset)
            .join(VersionAsset, VersionAsset.asset_id == Asset.id)
            .where(VersionAsset.version_id == draft.id, Asset.zarr_id.is_not(None))
        )
    )
    session.execute(
        insert(VersionAsset).from_select(
            ["version_id", "asset_id", "path", "folder"],
            select(
                literal(version.id),
                VersionAsset.asset_id,
                VersionAsset.path,
                VersionAsset.folder,
            )
            .join(Asset, Asset.id == VersionAsset.asset_id)
            .where(VersionAsset.version_id == draft.id, Asset.zarr_id.is_(None)),
        )
    )
    for live in zarr_assets:
        frozen = zarr_freeze.freeze(archive, session, live.zarr)
        copy = Asset(
            path=live.path,
            zarr_id=frozen.id,
            metadata_=live.metadata_,
            status=live.status,
            validation_errors=live.validation_errors,
            created=live.created,
            modified=live.modified,
        )
        session.add(copy)
        session.flush()
        session.add(
            VersionAsset(
                version_id=version.id,
                asset_id=copy.id,
                path=live.path,
                folder=paths.parent_of(live.path),
            )
        )
    session.execute(
        insert(Folder).from_select(
            ["version_id", "path", "parent", "file_count", "total_size"],
            select(
                literal(version.id),
                Folder.path,
                Folder.parent,
                Folder.file_count,
                Folder.total_size,
            ).where(Folder.version_id == draft.id),
        )
    )
