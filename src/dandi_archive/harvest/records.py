"""Published versions as harvestable records: identifier, datestamp, sets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from dandi_archive.db.models import Asset, Dandiset, EmbargoStatus, Version, VersionAsset

# Data standards as dandischema names them in ``assetsSummary.dataStandard``, as sets.
STANDARD_SETS = {
    "Neurodata Without Borders (NWB)": "nwb",
    "Brain Imaging Data Structure (BIDS)": "bids",
    "OME/NGFF Standard": "ome-ngff",
}


@dataclass(frozen=True)
class Record:
    """One published version, as OAI-PMH, the sitemap and Signposting see it."""

    dandiset_id: int
    version: str
    moment: datetime  # exact, as stored: the harvest order
    deleted: bool
    metadata: dict[str, Any]
    sets: tuple[str, ...]

    @property
    def datestamp(self) -> datetime:
        """The OAI-PMH datestamp: UTC, to the second."""
        return self.moment.astimezone(UTC).replace(microsecond=0)

    @property
    def key(self) -> tuple[datetime, int, str]:
        """Where this record stands in the harvest order (for resumption)."""
        return (self.moment, self.dandiset_id, self.version)

    @property
    def doi(self) -> str | None:
        return self.metadata.get("doi") or None


def _datestamp() -> ColumnElement[datetime]:
    # Published: when it was made. Withdrawn: when it left (that is the change).
    return func.coalesce(Version.withdrawn, Version.created)


def _published() -> Select[tuple[Version]]:
    return (
        select(Version)
        .join(Dandiset, Dandiset.id == Version.dandiset_id)
        .where(Version.version != "draft", Dandiset.embargo_status == EmbargoStatus.OPEN)
        .options(joinedload(Version.dandiset))
    )


def _record(version: Version) -> Record:
    metadata = version.metadata_ or {}
    return Record(
        dandiset_id=version.dandiset_id,
        version=version.version,
        moment=version.withdrawn or version.created,
        deleted=version.withdrawn is not None,
        metadata=metadata,
        sets=sets_of(metadata),
    )


def licence_set(licence: str) -> str:
    """``spdx:CC-BY-4.0`` -> ``license:cc-by-4.0``."""
    name = licence.split(":", 1)[-1]
    return "license:" + re.sub(r"[^a-z0-9.-]+", "-", name.lower()).strip("-")


def sets_of(metadata: dict[str, Any]) -> tuple[str, ...]:
    specs = {licence_set(licence) for licence in metadata.get("license") or []}
    summary = metadata.get("assetsSummary") or {}
    for standard in summary.get("dataStandard") or []:
        name = STANDARD_SETS.get(standard.get("name", ""))
        if name:
            specs.add(f"standard:{name}")
    return tuple(sorted(specs))


def records(
    session: Session,
    *,
    after: tuple[datetime, int, str] | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    batch: int = 200,
) -> Iterator[Record]:
    """Published versions in harvest order (datestamp, Dandiset, version), streamed in
    batches so a large archive is never loaded whole."""
    stamp = _datestamp()
    query = _published().order_by(stamp, Version.dandiset_id, Version.version)
    if since is not None:
        query = query.where(stamp >= since)
    if before is not None:
        query = query.where(stamp < before)
    while True:
        page = query
        if after is not None:
            at, dandiset_id, version = after
            same_dandiset = and_(stamp == at, Version.dandiset_id == dandiset_id)
            page = page.where(
                or_(
                    stamp > at,
                    and_(stamp == at, Version.dandiset_id > dandiset_id),
                    and_(same_dandiset, Version.version > version),
                )
            )
        rows = list(session.scalars(page.limit(batch)))
        for row in rows:
            yield _record(row)
        if len(rows) < batch:
            return
        last = rows[-1]
        after = (last.withdrawn or last.created, last.dandiset_id, last.version)


def find(session: Session, dandiset_id: int, version: str) -> Record | None:
    found = session.scalar(
        _published().where(Version.dandiset_id == dandiset_id, Version.version == version)
    )
    return None if found is None else _record(found)


def earliest_datestamp(session: Session) -> datetime | None:
    return session.scalar(
        select(func.min(_datestamp()))
        .join(Dandiset, Dandiset.id == Version.dandiset_id)
        .where(Version.version != "draft", Dandiset.embargo_status == EmbargoStatus.OPEN)
    )


def all_sets(session: Session) -> list[str]:
    """Every set some published version is in (a small archive-wide scan)."""
    specs: set[str] = set()
    for record in records(session):
        specs.update(record.sets)
    return sorted(specs)


def first_files(session: Session, version_id: int, limit: int) -> list[tuple[str, str | None]]:
    """(asset id, media type) of the version's first files in path order: the items a
    landing page's Signposting links to (Zarrs are folders, not items)."""
    rows = session.execute(
        select(Asset.id, Asset.metadata_["encodingFormat"].as_string())
        .join(VersionAsset, VersionAsset.asset_id == Asset.id)
        .where(VersionAsset.version_id == version_id, Asset.blob_id.is_not(None))
        .order_by(VersionAsset.path)
        .limit(limit)
    )
    return [(str(asset_id), media_type) for asset_id, media_type in rows]
