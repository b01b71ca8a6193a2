"""Faceted full-text search over Dandisets and their files.

Every word of a query must begin a word of a Dandiset's metadata or of one of its files
(path, NWB types, species); the files listed under a result contain all the words.
PostgreSQL answers from ``tsvector`` columns with GIN indexes, SQLite from FTS5 tables,
both from a per-Dandiset table of file words; all index the same words
(``search_index.words``). Facets are counted "disjunctively": the counts of one facet
ignore that facet's own selection, so a person can widen a choice as well as narrow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    String,
    Subquery,
    and_,
    cast,
    exists,
    func,
    intersect,
    literal,
    literal_column,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from ..db.models import Dandiset, Folder, User, Version
from ..db.search import SearchAsset, SearchDandiset, SearchFacet, SearchTerm
from . import dandisets as dandiset_service
from .errors import BadRequest
from .paths import version_totals
from .search_index import FACETS, words

ALL_FACETS = (*FACETS, "embargo")
SORTS = ("relevance", "name", "modified", "size", "downloads")
MAX_TERMS = 16
MAX_FACET_VALUES = 30
MAX_PAGE_SIZE = 100
# Up to this many files, matching files are found by reading a Dandiset's files in path
# order (stops at the first few matches); above, through the full-text index.
SCAN_FILES_UP_TO = 50_000


@dataclass
class SearchQuery:
    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    page_size: int = 20
    files_per_dandiset: int = 3
    with_facets: bool = True  # facet counts cost a query per facet; lists may skip them

    def terms(self) -> list[str]:
        return words(self.text).split()[:MAX_TERMS]


@dataclass
class FileHit:
    asset_id: str
    path: str


@dataclass
class DandisetHit:
    identifier: str
    name: str
    description: str
    version: str
    embargo_status: str
    modified: datetime
    file_count: int
    size: int
    rank: float
    species: list[str]
    license: list[str]
    files: list[FileHit]
    more_files: bool


@dataclass
class SearchResult:
    count: int
    hits: list[DandisetHit]
    facets: dict[str, list[tuple[str, int]]]
    query: SearchQuery


# -- engines --------------------------------------------------------------------------


class _Postgres:
    """``tsvector @@ tsquery`` on GIN-indexed generated columns."""

    def __init__(self, terms: list[str]) -> None:
        self.tsquery = self._query(terms)

    @staticmethod
    def _query(terms: list[str]) -> Any:
        # Terms are letter/digit runs only, so they cannot break the tsquery syntax.
        return func.to_tsquery(
            literal_column("'simple'::regconfig"), " & ".join(f"{t}:*" for t in terms)
        )

    def metadata_ids(self, term: str) -> Select:
        tsv = literal_column("search_dandisets.tsv")
        return select(SearchDandiset.dandiset_id.label("dandiset_id")).where(
            tsv.op("@@")(self._query([term]))
        )

    def metadata_hits(self) -> Select:
        tsv = literal_column("search_dandisets.tsv")
        return select(
            SearchDandiset.dandiset_id.label("dandiset_id"),
            func.ts_rank(tsv, self.tsquery).label("rank"),
        ).where(tsv.op("@@")(self.tsquery))

    def files_of(self, dandiset_id: int, limit: int, file_count: int) -> Select:
        tsv = literal_column("search_assets.tsv")
        if file_count > SCAN_FILES_UP_TO:
            return (
                select(SearchAsset.asset_id, SearchAsset.path)
                .where(SearchAsset.dandiset_id == dandiset_id, tsv.op("@@")(self.tsquery))
                .order_by(SearchAsset.path)
                .limit(limit)
            )
        # A Dandiset's files in path order, tested one by one until enough match: cheaper
        # than the GIN index, whose posting lists for a common prefix span all files.
        files = (
            select(SearchAsset.asset_id, SearchAsset.path, tsv.label("tsv"))
            .where(SearchAsset.dandiset_id == dandiset_id)
            .order_by(SearchAsset.path)
            .cte("files")
            .prefix_with("MATERIALIZED")
        )
        return (
            select(files.c.asset_id, files.c.path)
            .where(files.c.tsv.op("@@")(self.tsquery))
            .limit(limit)
        )


class _SQLite:
    """FTS5 ``MATCH`` with bm25 column weights (title 10, keywords 4, rest 1)."""

    def __init__(self, terms: list[str]) -> None:
        self.match = " AND ".join(f'"{t}"*' for t in terms)
        self.count = 0

    def metadata_ids(self, term: str) -> Select:
        self.count += 1  # each use needs a bind parameter name of its own
        name = f"term{self.count}"
        fts = (
            text(
                "SELECT rowid AS dandiset_id FROM search_dandisets_fts "
                f"WHERE search_dandisets_fts MATCH :{name}"
            )
            .bindparams(**{name: f'"{term}"*'})
            .columns(dandiset_id=Integer)
            .subquery(f"fts_{name}")
        )
        return select(fts.c.dandiset_id)

    def metadata_hits(self) -> Select:
        fts = (
            text(
                "SELECT rowid AS dandiset_id, "
                "-bm25(search_dandisets_fts, 10.0, 4.0, 1.0) AS rank "
                "FROM search_dandisets_fts WHERE search_dandisets_fts MATCH :match"
            )
            .bindparams(match=self.match)
            .columns(dandiset_id=Integer, rank=Float)
            .subquery("fts")
        )
        return select(fts.c.dandiset_id, fts.c.rank)

    def _matching_files(self) -> Subquery:
        return (
            text("SELECT rowid AS id FROM search_assets_fts WHERE search_assets_fts MATCH :amatch")
            .bindparams(amatch=self.match)
            .columns(id=Integer)
            .subquery("afts")
        )

    def files_of(self, dandiset_id: int, limit: int, file_count: int) -> Select:
        fts = self._matching_files()
        return (
            select(SearchAsset.asset_id, SearchAsset.path)
            .join(fts, fts.c.id == SearchAsset.id)
            .where(SearchAsset.dandiset_id == dandiset_id)
            .order_by(SearchAsset.path)
            .limit(limit)
        )


def _engine(session: Session, terms: list[str]) -> _Postgres | _SQLite:
    if session.get_bind().dialect.name == "postgresql":
        return _Postgres(terms)
    return _SQLite(terms)


# -- the query --------------------------------------------------------------------------


def check_query(query: SearchQuery) -> None:
    if query.sort not in SORTS:
        raise BadRequest(f"Unknown sort {query.sort!r}; use one of {', '.join(SORTS)}.")
    unknown = set(query.filters) - set(ALL_FACETS)
    if unknown:
        raise BadRequest(
            f"Unknown facet {sorted(unknown)[0]!r}; use one of {', '.join(ALL_FACETS)}."
        )
    if query.page < 1 or not 1 <= query.page_size <= MAX_PAGE_SIZE:
        raise BadRequest(f"page must be >= 1 and page_size between 1 and {MAX_PAGE_SIZE}.")


def _visible(session: Session, user: User | None) -> Select:
    """Dandisets the caller may see, by the same rule as the Dandiset listing."""
    listing = dandiset_service.DandisetQuery(user=user, embargoed=user is not None)
    return dandiset_service.query_dandisets(session, listing).order_by(None)


def _facet_condition(facet: str, values: list[str]) -> Any:
    if facet == "embargo":
        return Dandiset.embargo_status.in_([v.upper() for v in values])
    return exists().where(
        SearchFacet.dandiset_id == Dandiset.id,
        SearchFacet.facet == facet,
        SearchFacet.value.in_(values),
    )


def _term_ids(term: str) -> Select:
    """Dandisets with a file containing a word that starts with ``term`` (a key range)."""
    return select(SearchTerm.dandiset_id.label("dandiset_id")).where(
        SearchTerm.term >= term, SearchTerm.term < term + "\U0010ffff"
    )


@dataclass
class _Matches:
    found: Subquery  # dandiset_id of every Dandiset matching the words
    ranked: Subquery  # the same with the rank of their metadata, for ordering a page


def _matches(session: Session, terms: list[str]) -> _Matches | None:
    """Dandisets matching the words (None: no words, all match).

    Each word must occur in the metadata or in some file of the Dandiset; a word found in
    a million files costs one row per Dandiset (``search_terms``), not a million. The
    rank is that of the metadata for all the words (0 when the files supplied some); it
    is computed only for ordering, as it reads every matching document.
    """
    if not terms:
        return None
    engine = _engine(session, terms)
    per_term = []
    for n, term in enumerate(terms):
        # Each union wrapped in a subquery: SQLite cannot nest compound SELECTs.
        either = union(engine.metadata_ids(term), _term_ids(term)).subquery(f"term{n}")
        per_term.append(select(either.c.dandiset_id))
    found = intersect(*per_term) if len(per_term) > 1 else per_term[0]
    ids, again = found.subquery("found"), found.subquery("found_ranked")
    meta = engine.metadata_hits().subquery("meta")
    ranked = (
        select(again.c.dandiset_id, func.coalesce(meta.c.rank, 0.0).label("rank"))
        .outerjoin(meta, meta.c.dandiset_id == again.c.dandiset_id)
        .subquery("matches")
    )
    return _Matches(found=ids, ranked=ranked)


def _filtered(
    base: Select, matches: Subquery | None, filters: dict[str, list[str]], skip: str | None = None
) -> Select:
    stmt = base.join(SearchDandiset, SearchDandiset.dandiset_id == Dandiset.id)
    if matches is not None:
        stmt = stmt.join(matches, matches.c.dandiset_id == Dandiset.id)
    conditions = [_facet_condition(f, v) for f, v in filters.items() if v and f != skip]
    return stmt.where(and_(*conditions)) if conditions else stmt


def _facet_counts(
    session: Session, base: Select, matches: Subquery | None, filters: dict[str, list[str]]
) -> dict[str, list[tuple[str, int]]]:
    """Counts per facet value. Facets without a selection share one set of Dandisets, so
    they are counted together in one statement; each selected facet needs a set of its
    own (its counts ignore its own selection)."""
    counts: dict[str, list[tuple[str, int]]] = {facet: [] for facet in ALL_FACETS}
    groups: dict[str | None, list[str]] = {None: [f for f in ALL_FACETS if not filters.get(f)]}
    groups.update({f: [f] for f in ALL_FACETS if filters.get(f)})
    for skip, facets in groups.items():
        if not facets:
            continue
        ids = (
            _filtered(base, matches, filters, skip=skip)
            .with_only_columns(Dandiset.id.label("id"))
            .cte(f"ids_{skip or 'all'}")
        )
        parts = []
        named = [f for f in facets if f != "embargo"]
        if named:
            parts.append(
                select(SearchFacet.facet, SearchFacet.value, func.count().label("n"))
                .where(SearchFacet.facet.in_(named), SearchFacet.dandiset_id.in_(select(ids.c.id)))
                .group_by(SearchFacet.facet, SearchFacet.value)
            )
        if "embargo" in facets:
            status = cast(Dandiset.embargo_status, String)
            parts.append(
                select(literal("embargo").label("facet"), status.label("value"), func.count())
                .where(Dandiset.id.in_(select(ids.c.id)))
                .group_by(status)
            )
        statement = union_all(*parts) if len(parts) > 1 else parts[0]
        for facet, value, n in session.execute(statement):
            counts[facet].append((str(value), n))
    return {
        facet: sorted(values, key=lambda item: (-item[1], item[0]))[:MAX_FACET_VALUES]
        for facet, values in counts.items()
    }


def _order(stmt: Select, sort: str, ranked: Subquery | None) -> Select:
    if sort == "relevance" and ranked is not None:
        return stmt.order_by(ranked.c.rank.desc(), Dandiset.modified.desc(), Dandiset.id)
    if sort == "name":
        return stmt.order_by(func.lower(SearchDandiset.title), Dandiset.id)
    if sort == "size":
        size = (
            select(Folder.total_size)
            .where(Folder.version_id == SearchDandiset.version_id, Folder.path == "")
            .scalar_subquery()
        )
        return stmt.order_by(size.desc(), Dandiset.id)
    if sort == "downloads":
        return stmt.order_by(
            Dandiset.download_count.desc(), Dandiset.modified.desc(), Dandiset.id.desc()
        )
    return stmt.order_by(Dandiset.modified.desc(), Dandiset.id.desc())


def search(session: Session, user: User | None, query: SearchQuery) -> SearchResult:
    check_query(query)
    filters = {f: [v for v in vs if v] for f, vs in query.filters.items() if vs}
    terms = query.terms()
    base = _visible(session, user)
    matches = _matches(session, terms)
    ranked = matches.ranked if matches is not None else None
    stmt = _filtered(base, ranked, filters)
    rank = ranked.c.rank if ranked is not None else literal(0.0)
    # The total comes with the page (a window count), so the matches are found once.
    columns = (Dandiset.id, rank.label("rank"), func.count().over().label("total"))
    page = session.execute(
        _order(stmt.with_only_columns(*columns), query.sort, ranked)
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    ).all()
    if page:
        count = page[0].total
    else:  # beyond the last page
        count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    hits = _describe(session, [(r[0], float(r[1] or 0)) for r in page], terms, query)
    return SearchResult(
        count=count,
        hits=hits,
        facets=(
            _facet_counts(session, base, matches.found if matches else None, filters)
            if query.with_facets
            else {}
        ),
        query=query,
    )


# -- describing a page of results -------------------------------------------------------


def _describe(
    session: Session, ranked: list[tuple[int, float]], terms: list[str], query: SearchQuery
) -> list[DandisetHit]:
    ids = [i for i, _ in ranked]
    if not ids:
        return []
    dandisets = {d.id: d for d in session.scalars(select(Dandiset).where(Dandiset.id.in_(ids)))}
    drafts, published = dandiset_service.versions_for_listing(session, ids)
    shown: dict[int, Version] = {i: published.get(i) or drafts[i] for i in ids}
    totals = version_totals(session, [v.id for v in shown.values()])
    facet_rows = session.execute(
        select(SearchFacet.dandiset_id, SearchFacet.facet, SearchFacet.value)
        .where(SearchFacet.dandiset_id.in_(ids), SearchFacet.facet.in_(["species", "license"]))
        .order_by(SearchFacet.value)
    )
    values: dict[tuple[int, str], list[str]] = {}
    for dandiset_id, facet, value in facet_rows:
        values.setdefault((dandiset_id, facet), []).append(value)
    engine = _engine(session, terms) if terms else None
    hits = []
    for dandiset_id, rank in ranked:
        version = shown[dandiset_id]
        files: list[FileHit] = []
        more = False
        if engine is not None and query.files_per_dandiset:
            count = totals[version.id][0]
            limit = query.files_per_dandiset + 1
            rows = session.execute(engine.files_of(dandiset_id, limit, count)).all()
            more = len(rows) > query.files_per_dandiset
            files = [FileHit(str(a), p) for a, p in rows[: query.files_per_dandiset]]
        description = str((version.metadata_ or {}).get("description") or "")
        hits.append(
            DandisetHit(
                identifier=dandisets[dandiset_id].identifier,
                name=version.name,
                description=description,
                version=version.version,
                embargo_status=dandisets[dandiset_id].embargo_status.value,
                modified=dandisets[dandiset_id].modified,
                file_count=totals[version.id][0],
                size=totals[version.id][1],
                rank=rank,
                species=values.get((dandiset_id, "species"), []),
                license=values.get((dandiset_id, "license"), []),
                files=files,
                more_files=more,
            )
        )
    return hits
