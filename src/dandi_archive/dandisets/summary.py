"""A version's ``assetsSummary``: files, bytes, subjects, species, approaches,
techniques, variables measured and data standards of its valid assets.

Computed by dandischema's own ``aggregate_assets_summary``, fed with each asset's stored
metadata plus its path and size (all the aggregation reads), streamed in batches. The
draft's validation job computes it, so a Valid draft always carries a current summary
and publishing just copies it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dandischema.consts import DANDI_SCHEMA_VERSION
from dandischema.metadata import aggregate_assets_summary
from sqlalchemy import select
from sqlalchemy.orm import Session

from dandi_archive.dandisets.metadata import ZARR_ENCODING_FORMAT
from dandi_archive.db.models import Asset, AssetStatus, Version, VersionAsset
from dandi_archive.standards import bids

BATCH = 1000


def _valid_assets(session: Session, version: Version) -> Iterator[dict[str, Any]]:
    query = (
        select(Asset)
        .join(VersionAsset, VersionAsset.asset_id == Asset.id)
        .where(VersionAsset.version_id == version.id, Asset.status == AssetStatus.VALID)
        .execution_options(yield_per=BATCH)
    )
    for asset in session.scalars(query):
        meta = {
            **bids.with_entities(asset.path, asset.metadata_),
            "path": asset.path,
            "contentSize": asset.size,
        }
        # The aggregation insists on these; a Zarr asset's format is set by the server
        # and the schema version only needs to be one dandischema accepts.
        if asset.zarr_id is not None:
            meta["encodingFormat"] = ZARR_ENCODING_FORMAT
        meta["schemaVersion"] = DANDI_SCHEMA_VERSION
        yield meta


def summarize(session: Session, version: Version) -> dict[str, Any]:
    return aggregate_assets_summary(_valid_assets(session, version))
