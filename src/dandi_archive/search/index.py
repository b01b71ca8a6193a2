"""Keeping the search index in step with drafts: their metadata and their files.

Called by the services that change a draft, in the same transaction, so the index is
never behind what the API shows. Facet values of files are counted per Dandiset
(like folder totals), so adding or removing one file touches a few small rows and
never rescans the Dandiset.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dandi_archive.db.models import Asset, Dandiset, Version, VersionAsset
from dandi_archive.db.search import SearchAsset, SearchDandiset, SearchFacet, SearchTerm
from dandi_archive.standards import bids

# Facets shown in search; "variable" (NWB types) is indexed as words and counted too.
FACETS = ("species", "approach", "technique", "standard", "datatype", "license")
NWB_STANDARD = "Neurodata Without Borders (NWB)"
BIDS_STANDARD = "Brain Imaging Data Structure (BIDS)"
NGFF_STANDARD = "OME/NGFF Standard"
_WORD = re.compile(r"[^\W_]+")
MAX_VALUE = 255


def words(*texts: Any) -> str:
    """Lower-case letter/digit runs of the given texts, space separated."""
    found: list[str] = []
    for text in texts:
        if text:
            found.extend(_WORD.findall(str(text).lower()))
    return " ".join(found)


def _names(items: Any, key: str = "name") -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(i[key]) for i in items if isinstance(i, dict) and i.get(key)]


def license_label(value: str) -> str:
    return value.removeprefix("spdx:")


def metadata_facets(metadata: dict[str, Any]) -> set[tuple[str, str]]:
    """Facet values a Dandiset's own metadata states (its assetsSummary once published)."""
    summary = metadata.get("assetsSummary") or {}
    values = {("license", license_label(str(v))) for v in metadata.get("license") or []}
    for facet, key in (
        ("species", "species"),
        ("approach", "approach"),
        ("technique", "measurementTechnique"),
        ("standard", "dataStandard"),
    ):
        values.update((facet, name) for name in _names(summary.get(key)))
    values.update(("variable", str(v)) for v in summary.get("variableMeasured") or [] if v)
    return {(f, v[:MAX_VALUE]) for f, v in values}


def asset_facets(path: str, metadata: dict[str, Any]) -> set[tuple[str, str]]:
    """Facet values of one file, read as dandischema's assetsSummary reads them."""
    values: set[tuple[str, str]] = set()
    for agent in metadata.get("wasAttributedTo") or []:
        if isinstance(agent, dict) and isinstance(agent.get("species"), dict):
            name = agent["species"].get("name")
            if name:
                values.add(("species", str(name)))
    values.update(("approach", n) for n in _names(metadata.get("approach")))
    values.update(("technique", n) for n in _names(metadata.get("measurementTechnique")))
    values.update(("variable", n) for n in _names(metadata.get("variableMeasured"), "value"))
    encoding = str(metadata.get("encodingFormat") or "")
    name = PurePosixPath(path).name
    if "nwb" in encoding or name.endswith(".nwb"):
        values.add(("standard", NWB_STANDARD))
    if name == "dataset_description.json":
        values.add(("standard", BIDS_STANDARD))
    if name.endswith(".ome.zarr"):
        values.add(("standard", NGFF_STANDARD))
    # A BIDS data file's datatype folder (anat, func, micr, ...), read from its path.
    found = bids.entities(path)
    if found is not None:
        values.add(("datatype", found["datatype"]))
    return {(f, v[:MAX_VALUE]) for f, v in values}


def _first_participant(metadata: dict[str, Any]) -> dict[str, Any]:
    agents = metadata.get("wasAttributedTo") or []
    first = agents[0] if isinstance(agents, list) and agents else None
    return first if isinstance(first, dict) else {}


def _label(value: Any) -> str:
    """A genotype or species as a string: dandischema allows a plain string or an object
    with a ``name``."""
    if isinstance(value, dict):
        value = value.get("name")
    return str(value)[:MAX_VALUE] if value else ""


def asset_filter_fields(metadata: dict[str, Any]) -> dict[str, str]:
    """What ``/api/dandisets/search/`` filters a file by, read as upstream reads it: the
    encoding format, the first participant's species and genotype, the techniques."""
    participant = _first_participant(metadata)
    techniques = _names(metadata.get("measurementTechnique"))
    return {
        "encoding_format": str(metadata.get("encodingFormat") or "")[:MAX_VALUE],
        "species": _label(participant.get("species")),
        "genotype": _label(participant.get("genotype")),
        "techniques": "".join(f"|{t}" for t in techniques) + "|" if techniques else "",
    }


def asset_words(path: str, metadata: dict[str, Any]) -> str:
    facet_values = [v for f, v in asset_facets(path, metadata) if f in ("species", "variable")]
    return words(path, *facet_values)


# -- Dandisets ------------------------------------------------------------------------


def _facet_rows(session: Session, dandiset_id: int) -> dict[tuple[str, str], SearchFacet]:
    rows = session.scalars(
        select(SearchFacet)
        .where(SearchFacet.dandiset_id == dandiset_id)
        .execution_options(populate_existing=True)  # counts change by UPDATE statements
    )
    return {(r.facet, r.value): r for r in rows}


def _document(version: Version, facet_values: Iterable[tuple[str, str]]) -> dict[str, str]:
    meta = version.metadata_ or {}
    contributors = meta.get("contributor") or []
    affiliations = [
        a.get("name")
        for c in contributors
        if isinstance(c, dict)
        for a in c.get("affiliation") or []
        if isinstance(a, dict)
    ]
    return {
        "title": version.name,
        "name_words": words(version.name),
        "keyword_words": words(
            version.dandiset.identifier,
            *(meta.get("keywords") or []),
            *(v for _, v in sorted(facet_values)),
            *_names(meta.get("about")),
        ),
        "body_words": words(
            meta.get("description"),
            *_names(contributors),
            *affiliations,
            *(meta.get("studyTarget") or []),
            meta.get("acknowledgement"),
            *_names(meta.get("wasGeneratedBy")),
        ),
    }


def index_dandiset(session: Session, version: Version, *, new: bool = False) -> None:
    """(Re)write a draft's document and the facet values its metadata states.

    ``new``: the Dandiset was created in this transaction, so it has no facet rows and
    no document yet, and nothing needs to be read first."""
    if not version.is_draft:
        return
    dandiset_id = version.dandiset_id
    stated = metadata_facets(version.metadata_ or {})
    if new:
        session.add_all(
            SearchFacet(dandiset_id=dandiset_id, facet=f, value=v, files=0, in_metadata=True)
            for f, v in stated
        )
        doc = _document(version, stated)
        session.add(SearchDandiset(dandiset_id=dandiset_id, version_id=version.id, **doc))
        session.flush()
        return
    rows = _facet_rows(session, dandiset_id)
    for key, row in rows.items():
        row.in_metadata = key in stated
        if row.files <= 0 and not row.in_metadata:
            session.delete(row)
    for facet, value in stated - rows.keys():
        session.add(
            SearchFacet(
                dandiset_id=dandiset_id, facet=facet, value=value, files=0, in_metadata=True
            )
        )
    session.flush()
    _write_document(session, version, {*stated, *rows.keys()} & _live_keys(session, dandiset_id))


def _live_keys(session: Session, dandiset_id: int) -> set[tuple[str, str]]:
    rows = session.execute(
        select(SearchFacet.facet, SearchFacet.value).where(SearchFacet.dandiset_id == dandiset_id)
    )
    return {(facet, value) for facet, value in rows}


def _write_document(
    session: Session, version: Version, facet_values: Iterable[tuple[str, str]]
) -> None:
    doc = _document(version, facet_values)
    row = session.get(SearchDandiset, version.dandiset_id)
    if row is None:
        session.add(SearchDandiset(dandiset_id=version.dandiset_id, version_id=version.id, **doc))
    elif any(getattr(row, k) != v for k, v in doc.items()):
        for key, value in doc.items():
            setattr(row, key, value)
    session.flush()


# -- files ----------------------------------------------------------------------------


def _upsert(session: Session, table: Any = SearchFacet) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


MAX_TERM = 255


def _terms(text: str) -> list[str]:
    return sorted({t[:MAX_TERM] for t in text.split()})


def _count_terms(session: Session, dandiset_id: int, terms: list[str]) -> None:
    if not terms:
        return
    insert = _upsert(session, SearchTerm).values(
        [{"dandiset_id": dandiset_id, "term": t, "files": 1} for t in terms]
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["dandiset_id", "term"], set_={"files": SearchTerm.files + 1}
        )
    )


def _uncount_terms(session: Session, dandiset_id: int, terms: list[str]) -> None:
    if not terms:
        return
    where = (SearchTerm.dandiset_id == dandiset_id, SearchTerm.term.in_(terms))
    session.execute(
        update(SearchTerm)
        .where(*where)
        .values(files=SearchTerm.files - 1)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(SearchTerm)
        .where(*where, SearchTerm.files <= 0)
        .execution_options(synchronize_session=False)
    )


def index_asset(session: Session, version: Version, asset: Asset) -> None:
    """A file joined a draft: index its words and count its facet values."""
    if not version.is_draft:
        return
    meta = asset.metadata_ or {}
    text = asset_words(asset.path, meta)
    session.add(
        SearchAsset(
            dandiset_id=version.dandiset_id,
            asset_id=asset.id,
            path=asset.path,
            words=text,
            **asset_filter_fields(meta),
        )
    )
    _count_terms(session, version.dandiset_id, _terms(text))
    values = asset_facets(asset.path, meta)
    if not values:
        session.flush()
        return
    before = _live_keys(session, version.dandiset_id)
    insert = _upsert(session).values(
        [
            {
                "dandiset_id": version.dandiset_id,
                "facet": f,
                "value": v,
                "files": 1,
                "in_metadata": False,
            }
            for f, v in sorted(values)
        ]
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["dandiset_id", "facet", "value"],
            set_={"files": SearchFacet.files + 1},
        )
    )
    if not values <= before:  # a new value: the Dandiset's words change too
        _write_document(session, version, before | values)


def unindex_asset(session: Session, version: Version, asset: Asset) -> None:
    """A file left a draft: drop its words and uncount its facet values."""
    if not version.is_draft:
        return
    session.execute(
        delete(SearchAsset)
        .where(SearchAsset.dandiset_id == version.dandiset_id, SearchAsset.asset_id == asset.id)
        .execution_options(synchronize_session=False)
    )
    meta = asset.metadata_ or {}
    _uncount_terms(session, version.dandiset_id, _terms(asset_words(asset.path, meta)))
    values = asset_facets(asset.path, asset.metadata_ or {})
    if not values:
        return
    for facet, value in values:
        session.execute(
            update(SearchFacet)
            .where(
                SearchFacet.dandiset_id == version.dandiset_id,
                SearchFacet.facet == facet,
                SearchFacet.value == value,
            )
            .values(files=SearchFacet.files - 1)
            .execution_options(synchronize_session=False)
        )
    gone = session.execute(
        delete(SearchFacet)
        .where(
            SearchFacet.dandiset_id == version.dandiset_id,
            SearchFacet.files <= 0,
            SearchFacet.in_metadata.is_(False),
        )
        .execution_options(synchronize_session=False)
    )
    if gone.rowcount:
        _write_document(session, version, _live_keys(session, version.dandiset_id))


# -- everything ------------------------------------------------------------------------


def ensure_built(session: Session) -> int:
    """Build the index if it does not cover every Dandiset (after upgrading); cheap if it does."""
    dandisets = session.scalar(select(func.count()).select_from(Dandiset)) or 0
    indexed = session.scalar(select(func.count()).select_from(SearchDandiset)) or 0
    return rebuild_all(session) if dandisets != indexed else 0


def rebuild_all(session: Session) -> int:
    """Index every draft from scratch (after the migration, or if in doubt)."""
    session.execute(delete(SearchAsset))
    session.execute(delete(SearchTerm))
    session.execute(delete(SearchFacet))
    session.execute(delete(SearchDandiset))
    drafts = session.scalars(
        select(Version).join(Dandiset).where(Version.version == "draft").order_by(Version.id)
    ).all()
    for draft in drafts:
        members = session.scalars(
            select(Asset)
            .join(VersionAsset, VersionAsset.asset_id == Asset.id)
            .where(VersionAsset.version_id == draft.id)
            .execution_options(yield_per=1000)
        )
        for asset in members:
            index_asset(session, draft, asset)
        index_dandiset(session, draft)
    session.flush()
    return len(drafts)
