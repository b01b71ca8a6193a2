"""Upstream's asset-facet search (``/api/dandisets/search/``) and its autocompletes.

Answered from ``search_assets``, which the index keeps per draft file in each change's
transaction (``search.index.asset_filter_fields``), instead of upstream's materialized
view. A Dandiset matches when one of its files passes every chosen filter; within one
filter the chosen values are alternatives. ``asset_counts`` counts, per filter, the
files of a Dandiset that pass that filter alone, as upstream does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import visible_to_user
from dandi_archive.db.models import Asset, AssetBlob, Dandiset, EmbargoStatus, User, Zarr
from dandi_archive.db.search import SearchAsset
from dandi_archive.errors import BadRequest

# Upstream's choices: the value sent (an encoding-format prefix) and its short name,
# which we accept too.
FILE_TYPES = {
    "application/x-nwb": "nwb",
    "image/": "image",
    "text/": "text",
    "video/": "video",
}
MEASUREMENT_TECHNIQUES = (
    "signal filtering technique",
    "spike sorting technique",
    "multi electrode extracellular electrophysiology recording technique",
    "voltage clamp technique",
    "surgical technique",
    "behavioral technique",
    "current clamp technique",
    "fourier analysis technique",
    "two-photon microscopy technique",
    "patch clamp technique",
    "analytical technique",
)
GENOTYPE_LIMIT = 10


@dataclass(frozen=True)
class AssetFilters:
    file_type: list[str] = field(default_factory=list)
    file_size_min: int | None = None
    file_size_max: int | None = None
    measurement_technique: list[str] = field(default_factory=list)
    genotype: list[str] = field(default_factory=list)
    species: list[str] = field(default_factory=list)


def _visible(user: User | None) -> ColumnElement[bool]:
    if user is None:
        return Dandiset.embargo_status == EmbargoStatus.OPEN
    return true() if user.is_admin else visible_to_user(user.id)


def _size() -> ColumnElement[int]:
    # A Zarr's size grows after it joined the draft, so it is read, not indexed.
    return func.coalesce(AssetBlob.size, Zarr.size, 0)


def _choices(name: str, given: list[str], allowed: dict[str, str]) -> list[str]:
    unknown = [v for v in given if v not in allowed]
    if unknown:
        raise BadRequest(
            f"{name}: {', '.join(repr(v) for v in unknown)} is not a valid choice; "
            f"choose from {', '.join(sorted(set(allowed.values())))}."
        )
    return sorted({allowed[v] for v in given})


def validate(session: Session, user: User | None, filters: AssetFilters) -> AssetFilters:
    """The filters with short file-type names resolved; 400 naming any bad value."""
    for name in ("file_size_min", "file_size_max"):
        value = getattr(filters, name)
        if value is not None and value < 0:
            raise BadRequest(f"{name} must be at least 0.")
    if (
        filters.file_size_min is not None
        and filters.file_size_max is not None
        and filters.file_size_max < filters.file_size_min
    ):
        raise BadRequest("file_size_max must be greater than file_size_min")
    types = {**{k: k for k in FILE_TYPES}, **{v: k for k, v in FILE_TYPES.items()}}
    techniques = {t: t for t in MEASUREMENT_TECHNIQUES}
    # Upstream's species choices are the species its files name; ours, those the caller
    # may see, so a choice reveals nothing about embargoed files.
    known = set(
        session.scalars(
            select(SearchAsset.species)
            .join(Dandiset, Dandiset.id == SearchAsset.dandiset_id)
            .where(SearchAsset.species.in_(filters.species), _visible(user))
            .distinct()
        )
    )
    return AssetFilters(
        file_type=_choices("file_type", filters.file_type, types),
        file_size_min=filters.file_size_min,
        file_size_max=filters.file_size_max,
        measurement_technique=_choices(
            "measurement_technique", filters.measurement_technique, techniques
        ),
        genotype=sorted(set(filters.genotype)),
        species=_choices("species", filters.species, {s: s for s in known}),
    )


def _conditions(filters: AssetFilters) -> dict[str, ColumnElement[bool]]:
    """One condition on ``search_assets`` (and the size) per chosen filter."""
    found: dict[str, ColumnElement[bool]] = {}
    if filters.file_type:
        lowered = func.lower(SearchAsset.encoding_format)
        found["file_type"] = or_(
            *(lowered.startswith(t.lower(), autoescape=True) for t in filters.file_type)
        )
    sizes = []
    if filters.file_size_min is not None:
        sizes.append(_size() >= filters.file_size_min)
    if filters.file_size_max is not None:
        sizes.append(_size() <= filters.file_size_max)
    if sizes:
        found["file_size"] = sizes[0] if len(sizes) == 1 else sizes[0] & sizes[1]
    if filters.genotype:
        found["genotype"] = SearchAsset.genotype.in_(filters.genotype)
    if filters.species:
        found["species"] = SearchAsset.species.in_(filters.species)
    if filters.measurement_technique:
        found["measurement_technique"] = or_(
            *(
                SearchAsset.techniques.contains(f"|{t}|", autoescape=True)
                for t in filters.measurement_technique
            )
        )
    return found


def _with_sizes(stmt: Select, filters: AssetFilters) -> Select:
    if filters.file_size_min is None and filters.file_size_max is None:
        return stmt
    return (
        stmt.join(Asset, Asset.id == SearchAsset.asset_id)
        .outerjoin(AssetBlob, AssetBlob.id == Asset.blob_id)
        .outerjoin(Zarr, Zarr.id == Asset.zarr_id)
    )


def matching_dandisets(filters: AssetFilters) -> Select:
    """Ids of the Dandisets with a file that passes every chosen filter (with none
    chosen: the Dandisets with files), to be combined with the listing's own query."""
    conditions = list(_conditions(filters).values())
    stmt = select(SearchAsset.dandiset_id).where(*conditions)
    return _with_sizes(stmt, filters)


def asset_counts(
    session: Session, dandiset_ids: list[int], filters: AssetFilters
) -> dict[int, dict[str, int]]:
    """Per Dandiset of a page, per chosen filter, its files passing that filter; one
    grouped query for the whole page."""
    conditions = _conditions(filters)
    if not dandiset_ids:
        return {}
    if not conditions:
        return {i: {} for i in dandiset_ids}
    counts = [func.count().filter(c).label(name) for name, c in conditions.items()]
    stmt = _with_sizes(
        select(SearchAsset.dandiset_id, *counts)
        .where(SearchAsset.dandiset_id.in_(dandiset_ids))
        .group_by(SearchAsset.dandiset_id),
        filters,
    )
    found: dict[int, dict[str, int]] = {i: dict.fromkeys(conditions, 0) for i in dandiset_ids}
    for row in session.execute(stmt):
        found[row.dandiset_id] = {name: int(getattr(row, name)) for name in conditions}
    return found


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    if not text:
        return true()
    return func.lower(column).contains(text.lower(), autoescape=True)


def species_names(user: User | None, text: str) -> Select:
    """Species named by the visible files containing ``text`` (any case), A to Z; the
    caller pages the statement."""
    return (
        select(SearchAsset.species)
        .join(Dandiset, Dandiset.id == SearchAsset.dandiset_id)
        .where(SearchAsset.species != "", _contains(SearchAsset.species, text), _visible(user))
        .distinct()
        .order_by(SearchAsset.species)
    )


def genotypes(session: Session, user: User | None, text: str) -> list[str]:
    """Up to ten genotypes of the visible files containing ``text`` (any case), A to Z."""
    stmt = (
        select(SearchAsset.genotype)
        .join(Dandiset, Dandiset.id == SearchAsset.dandiset_id)
        .where(SearchAsset.genotype != "", _contains(SearchAsset.genotype, text), _visible(user))
        .distinct()
        .order_by(SearchAsset.genotype)
        .limit(GENOTYPE_LIMIT)
    )
    return list(session.scalars(stmt))
