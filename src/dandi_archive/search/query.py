"""Faceted full-text search over Dandisets and their files.

Every word of a query must begin a word of a Dandiset's metadata or of one of its files
(path, NWB types, species); the files listed under a result contain all the words.
PostgreSQL answers from ``tsvector`` columns with GIN indexes, SQLite from FTS5 tables,
both from a per-Dandiset table of file words; all index the same words
(``search_index.words``). Facets are counted "disjunctively": the counts of one facet
ignore that facet's own selection, so a person can widen a choice as well as narrow it.

The statements are built once per query *shape* (engine, number of words, which facets
are selected, sort, caller's kind) with the words, chosen values, page and caller as
bound parameters: building and compiling them cost more Python time than running them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from dandi_archive.access.permissions import visible_to_user
from dandi_archive.db.models import Dandiset, EmbargoStatus, Folder, User, Version
from dandi_archive.db.search import (
    SearchAsset,
    SearchDandiset,
    SearchFacet,
    SearchTerm,
    search_facet_totals,
)
from dandi_archive.errors import BadRequest
from dandi_archive.search.index import FACETS, words

ALL_FACETS = (*FACETS, "embargo")
SORTS = ("relevance", "name", "modified", "size", "downloads")
MAX_TERMS = 16
MAX_FACET_VALUES = 30
MAX_PAGE_SIZE = 100
MAX_PAGE = 1_000_000  # keeps the row offsets far inside 64 bits
# Matching files are looked up in the full-text index by the query's rarest word when it
# is in at most this many files of the archive; otherwise each Dandiset's files are read
# in path order until enough match (the index would gather most files' postings).
RARE_TERM_FILES = 20_000
RARE_TERM_ROWS = 2_000  # (Dandiset, word) rows read to count a word's files, at most


@dataclass
class SearchQuery:
    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    page_size: int = 20
    files_per_dandiset: int = 3
    with_facets: bool = True  # facet counts cost a query per facet; lists may skip them
    hide_empty: bool = False  # leave out Dandisets none of whose versions has a file

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
    downloads: int
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

    name = "postgresql"

    @staticmethod
    def tsquery(parameter: str) -> Any:
        return func.to_tsquery(literal_column("'simple'::regconfig"), bindparam(parameter))

    @staticmethod
    def word_parameters(terms: list[str]) -> dict[str, str]:
        # Terms are letter/digit runs only, so they cannot break the tsquery syntax.
        found = {f"word{n}": f"{t}:*" for n, t in enumerate(terms)}
        return {**found, "words": " & ".join(found.values())}

    def term_condition(self, n: int) -> Any:
        """The Dandiset's files or its metadata have a word starting with word ``n``."""
        tsv = literal_column("search_dandisets.tsv")
        # The file words first: a hashed lookup, which spares the tsvector test for the
        # Dandisets whose files have the word (PostgreSQL evaluates OR left to right).
        return or_(Dandiset.id.in_(_term_ids(n)), tsv.op("@@")(self.tsquery(f"word{n}")))

    def metadata_condition(self) -> Any:
        """The Dandiset's metadata has all the words."""
        return literal_column("search_dandisets.tsv").op("@@")(self.tsquery("words"))

    def with_rank(self, stmt: Select, metadata_only: bool) -> tuple[Select, Any]:
        # Ranked in the same pass that tests the words; 0 when files supplied some words.
        tsv = literal_column("search_dandisets.tsv")
        words = self.tsquery("words")
        if metadata_only:
            return stmt, func.ts_rank(tsv, words)  # every candidate has all the words
        return stmt, case((tsv.op("@@")(words), func.ts_rank(tsv, words)), else_=0.0)

    def files_of(
        self, session: Session, ids: list[int], terms: list[str], in_files: list[int], limit: int
    ) -> dict[int, list[tuple[str, str]]]:
        """Up to ``limit`` files with all the words, per Dandiset, in path order.
        ``in_files``: per word, the number of files of the archive that have it."""
        found: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
        files = min(in_files)
        if files == 0:
            return found  # no file anywhere has one of the words
        rarest = terms[in_files.index(files)]
        params = {**self.word_parameters(terms), "ids": ids, "limit": limit}
        if files <= RARE_TERM_FILES:
            params["rarest"] = f"{rarest}:*"
            rows = session.execute(_files_by_index(), params)
        else:
            rows = session.execute(_files_by_scan(), params)
        for dandiset_id, asset_id, path in rows:
            found[dandiset_id].append((str(asset_id), path))
        return found


@cache
def _files_by_index() -> Select:
    """Files of the Dandisets ``ids`` from the GIN index, looked up by the rarest word
    only: the other words are tested on those few rows (``ts_match_vq`` is not an
    indexable operator), since a common prefix such as ``sub:*`` would make the index
    gather the posting lists of most files."""
    tsv = literal_column("search_assets.tsv")
    position = (
        func.row_number()
        .over(partition_by=SearchAsset.dandiset_id, order_by=SearchAsset.path)
        .label("position")
    )
    hits = (
        select(SearchAsset.dandiset_id, SearchAsset.asset_id, SearchAsset.path, position)
        .where(
            SearchAsset.dandiset_id.in_(bindparam("ids", expanding=True)),
            tsv.op("@@")(_Postgres.tsquery("rarest")),
            func.ts_match_vq(tsv, _Postgres.tsquery("words")),
        )
        .subquery("hits")
    )
    return (
        select(hits.c.dandiset_id, hits.c.asset_id, hits.c.path)
        .where(hits.c.position <= bindparam("limit"))
        .order_by(hits.c.dandiset_id, hits.c.position)
    )


@cache
def _files_by_scan() -> Select:
    """Each Dandiset's files read in path order and tested one by one until enough
    match: cheaper than the index when every word is common."""
    tsv = literal_column("search_assets.tsv")
    wanted = select(func.unnest(bindparam("ids", type_=ARRAY(Integer))).label("id")).subquery(
        "wanted"
    )
    # OFFSET 0 keeps the path-ordered read from being merged with the word test.
    in_order = (
        select(SearchAsset.asset_id, SearchAsset.path, tsv.label("tsv"))
        .where(SearchAsset.dandiset_id == wanted.c.id)
        .order_by(SearchAsset.path)
        .offset(0)
        .correlate(wanted)
        .subquery("in_order")
    )
    first = (
        select(in_order.c.asset_id, in_order.c.path)
        .where(in_order.c.tsv.op("@@")(_Postgres.tsquery("words")))
        .limit(bindparam("limit"))
        .lateral("first")
    )
    return select(wanted.c.id, first.c.asset_id, first.c.path).select_from(
        wanted.join(first, true())
    )


class _SQLite:
    """FTS5 ``MATCH`` with bm25 column weights (title 10, keywords 4, rest 1)."""

    name = "sqlite"

    @staticmethod
    def word_parameters(terms: list[str]) -> dict[str, str]:
        found = {f"word{n}": f'"{t}"*' for n, t in enumerate(terms)}
        return {**found, "words": " AND ".join(found.values())}

    def term_condition(self, n: int) -> Any:
        fts = (
            text(
                "SELECT rowid AS dandiset_id FROM search_dandisets_fts "
                f"WHERE search_dandisets_fts MATCH :word{n}"
            )
            .columns(dandiset_id=Integer)
            .subquery(f"fts_word{n}")
        )
        return or_(Dandiset.id.in_(_term_ids(n)), Dandiset.id.in_(select(fts.c.dandiset_id)))

    def metadata_condition(self) -> Any:
        fts = (
            text(
                "SELECT rowid AS dandiset_id FROM search_dandisets_fts "
                "WHERE search_dandisets_fts MATCH :words"
            )
            .columns(dandiset_id=Integer)
            .subquery("fts_words")
        )
        return Dandiset.id.in_(select(fts.c.dandiset_id))

    def with_rank(self, stmt: Select, metadata_only: bool) -> tuple[Select, Any]:
        # bm25 is only defined inside a MATCH, so the ranked matches are joined.
        fts = (
            text(
                "SELECT rowid AS dandiset_id, "
                "-bm25(search_dandisets_fts, 10.0, 4.0, 1.0) AS rank "
                "FROM search_dandisets_fts WHERE search_dandisets_fts MATCH :words"
            )
            .columns(dandiset_id=Integer, rank=Float)
            .subquery("ranked")
        )
        stmt = stmt.outerjoin(fts, fts.c.dandiset_id == Dandiset.id)
        return stmt, func.coalesce(fts.c.rank, 0.0)

    def files_of(
        self, session: Session, ids: list[int], terms: list[str], in_files: list[int], limit: int
    ) -> dict[int, list[tuple[str, str]]]:
        # One statement per Dandiset: SQLite runs in-process, a statement costs little.
        words = self.word_parameters(terms)["words"]
        return {
            dandiset_id: [
                (str(a), p)
                for a, p in session.execute(
                    _sqlite_files(), {"words": words, "dandiset_id": dandiset_id, "limit": limit}
                )
            ]
            for dandiset_id in ids
        }


@cache
def _sqlite_files() -> Select:
    matching = (
        text("SELECT rowid AS id FROM search_assets_fts WHERE search_assets_fts MATCH :words")
        .columns(id=Integer)
        .subquery("afts")
    )
    return (
        select(SearchAsset.asset_id, SearchAsset.path)
        .join(matching, matching.c.id == SearchAsset.id)
        .where(SearchAsset.dandiset_id == bindparam("dandiset_id"))
        .order_by(SearchAsset.path)
        .limit(bindparam("limit"))
    )


_ENGINES = {"postgresql": _Postgres(), "sqlite": _SQLite()}


def _engine(session: Session) -> _Postgres | _SQLite:
    return _ENGINES[session.get_bind().dialect.name]


def _term_ids(n: int) -> Select:
    """Dandisets with a file containing a word that starts with word ``n`` (a key range
    of ``search_terms``)."""
    return select(SearchTerm.dandiset_id).where(*_term_range(n))


def _term_range(n: int) -> tuple[Any, Any]:
    return SearchTerm.term >= bindparam(f"from{n}"), SearchTerm.term < bindparam(f"to{n}")


def _range_parameters(terms: list[str]) -> dict[str, str]:
    ranges = {}
    for n, term in enumerate(terms):
        ranges[f"from{n}"] = term
        ranges[f"to{n}"] = term + "\U0010ffff"
    return ranges


def _files_per_term(session: Session, terms: list[str]) -> list[int]:
    """Per word, the number of files of the whole archive that have it, counted up to a
    bound (past it a word is simply common). One statement for all the words."""
    common = RARE_TERM_FILES + 1
    counts = [common] * len(terms)
    for n, rows, files in session.execute(_file_counts(len(terms)), _range_parameters(terms)):
        counts[n] = common if rows == RARE_TERM_ROWS else min(files, common)
    return counts


@cache
def _file_counts(terms: int) -> Any:
    parts = []
    for n in range(terms):
        sample = select(SearchTerm.files).where(*_term_range(n)).limit(RARE_TERM_ROWS).subquery()
        parts.append(select(literal(n), func.count(), func.coalesce(func.sum(sample.c.files), 0)))
    return union_all(*parts) if len(parts) > 1 else parts[0]


# -- the query --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    """What the SQL of a search depends on; everything else is a parameter."""

    engine: str
    terms: tuple[bool, ...]  # per word, whether some file of the archive has it
    filters: tuple[str, ...]  # the facets with a selection
    sort: str
    with_facets: bool
    hide_empty: bool
    viewer: str  # "public", "user" (sees their own embargoed Dandisets) or "admin"


def check_query(query: SearchQuery) -> None:
    if query.sort not in SORTS:
        raise BadRequest(f"Unknown sort {query.sort!r}; use one of {', '.join(SORTS)}.")
    unknown = set(query.filters) - set(ALL_FACETS)
    if unknown:
        raise BadRequest(
            f"Unknown facet {sorted(unknown)[0]!r}; use one of {', '.join(ALL_FACETS)}."
        )
    if not 1 <= query.page <= MAX_PAGE or not 1 <= query.page_size <= MAX_PAGE_SIZE:
        raise BadRequest(
            f"page must be between 1 and {MAX_PAGE} and page_size between 1 and {MAX_PAGE_SIZE}."
        )


def _viewer(user: User | None) -> str:
    if user is None:
        return "public"
    return "admin" if user.is_admin else "user"


def _visible(viewer: str) -> Select:
    """Dandisets the caller may see, by the rule of the Dandiset listing."""
    stmt = select(Dandiset)
    if viewer == "public":
        return stmt.where(Dandiset.embargo_status == EmbargoStatus.OPEN)
    if viewer == "user":
        return stmt.where(visible_to_user(bindparam("viewer_id")))
    return stmt


def _facet_condition(facet: str) -> Any:
    chosen = bindparam(f"chosen_{facet}", expanding=True)
    if facet == "embargo":
        return Dandiset.embargo_status.in_(chosen)
    return exists().where(
        SearchFacet.dandiset_id == Dandiset.id,
        SearchFacet.facet == facet,
        SearchFacet.value.in_(chosen),
    )


def _candidates(shape: _Shape) -> CTE:
    """The visible Dandisets that have every word, each with its rank, the keys of the
    chosen order and, per selected facet, whether it has one of the chosen values.

    The facet selections are columns rather than conditions because the facet counts
    read the same rows, each ignoring its own facet's selection. Used by every part of
    the statement, so derived once (a CTE referenced more than once is materialized).
    """
    stmt = _visible(shape.viewer).join(SearchDandiset, SearchDandiset.dandiset_id == Dandiset.id)
    rank: Any = literal(0.0)
    if shape.terms:
        engine = _ENGINES[shape.engine]
        metadata_only = not any(shape.terms)
        if metadata_only:  # no file has any of the words: one test of all of them
            stmt = stmt.where(engine.metadata_condition())
        else:
            stmt = stmt.where(*(engine.term_condition(n) for n in range(len(shape.terms))))
        stmt, rank = engine.with_rank(stmt, metadata_only)
    if shape.hide_empty:
        stmt = stmt.where(_has_files())
    columns = [
        Dandiset.id.label("id"),
        rank.label("rank"),
        Dandiset.modified.label("modified"),
        cast(Dandiset.embargo_status, String).label("embargo"),
        *_sort_keys(shape.sort),
        *(
            case((_facet_condition(facet), 1), else_=0).label(f"in_{facet}")
            for facet in shape.filters
        ),
    ]
    return stmt.with_only_columns(*columns).cte("candidates")


def _has_files() -> Any:
    """Some version of the Dandiset (a withdrawn one aside) holds a file."""
    return exists().where(
        Version.dandiset_id == Dandiset.id,
        Version.withdrawn.is_(None),
        Folder.version_id == Version.id,
        Folder.path == "",
        Folder.file_count > 0,
    )


def _sort_keys(sort: str) -> list[Any]:
    if sort == "name":
        return [func.lower(SearchDandiset.title).label("sort_key")]
    if sort == "size":
        size = (
            select(Folder.total_size)
            .where(Folder.version_id == SearchDandiset.version_id, Folder.path == "")
            .scalar_subquery()
        )
        return [size.label("sort_key")]
    if sort == "downloads":
        return [Dandiset.download_count.label("sort_key")]
    return []


def _order(found: CTE, sort: str, has_terms: bool) -> list[Any]:
    c = found.c
    if sort == "relevance" and has_terms:
        return [c.rank.desc(), c.modified.desc(), c.id]
    if sort == "name":
        return [c.sort_key, c.id]
    if sort == "size":
        return [c.sort_key.desc(), c.id]
    if sort == "downloads":
        return [c.sort_key.desc(), c.modified.desc(), c.id.desc()]
    return [c.modified.desc(), c.id.desc()]


def _selected(found: CTE, filters: tuple[str, ...], skip: str | None = None) -> list[Any]:
    return [found.c[f"in_{facet}"] == 1 for facet in filters if facet != skip]


def _row(
    kind: str,
    *,
    id: Any = None,
    rank: Any = None,
    facet: Any = None,
    value: Any = None,
    n: Any = None,
) -> list[Any]:
    """One shape for every part of the statement: (kind, id, rank, facet, value, n)."""
    return [
        literal(kind).label("kind"),
        (id if id is not None else cast(null(), Integer)).label("id"),
        (rank if rank is not None else cast(null(), Float)).label("rank"),
        (facet if facet is not None else cast(null(), String)).label("facet"),
        (value if value is not None else cast(null(), String)).label("value"),
        (n if n is not None else cast(null(), Integer)).label("n"),
    ]


def _page_part(found: CTE, shape: _Shape) -> Select:
    position = func.row_number().over(order_by=_order(found, shape.sort, bool(shape.terms)))
    ordered = (
        select(found.c.id, found.c.rank, position.label("position"))
        .where(*_selected(found, shape.filters))
        .subquery("ordered")
    )
    page = (
        select(*_row("hit", id=ordered.c.id, rank=ordered.c.rank, n=ordered.c.position))
        .where(ordered.c.position > bindparam("first"), ordered.c.position <= bindparam("last"))
        .subquery("page")
    )
    return select(page)


def _count_part(found: CTE, filters: tuple[str, ...]) -> Select:
    return (
        select(*_row("total", n=func.count())).select_from(found).where(*_selected(found, filters))
    )


def _facet_parts(found: CTE, filters: tuple[str, ...], postgres: bool) -> list[Select]:
    """Counts per facet value. Facets without a selection share one set of Dandisets (all
    selections applied); each selected facet is counted over the Dandisets that pass the
    other selections, so a person can widen a choice as well as narrow it."""
    groups: dict[str | None, list[str]] = {None: [f for f in ALL_FACETS if f not in filters]}
    groups.update({f: [f] for f in ALL_FACETS if f in filters})
    parts = []
    for skip, facets in groups.items():
        conditions = _selected(found, filters, skip)
        named = [f for f in facets if f != "embargo"]
        name = skip or "all"
        if named and postgres and not conditions:
            parts += _counted_either_way(found, named, name)
        elif named:
            # One facet's values are read from its own index; several, per Dandiset.
            lateral = postgres and len(named) > 1
            parts.append(_counted(found, named, conditions, name, lateral))
        if "embargo" in facets:
            counts = (
                select(found.c.embargo, func.count().label("n"))
                .where(*conditions)
                .group_by(found.c.embargo)
                .subquery(f"embargo_{name}")
            )
            parts.append(
                select(
                    *_row("facet", facet=literal("embargo"), value=counts.c.embargo, n=counts.c.n)
                )
            )
    return parts


def _value_counts(ids: Any, facets: list[str], name: str, lateral: bool) -> Select:
    """(facet, value, n) over the Dandisets whose ``id`` column is ``ids``. On PostgreSQL
    each Dandiset's values are read through the primary key (a lateral subquery): the
    planner would otherwise hash all facet rows of the archive for a few hundred ids."""
    if lateral:
        values_of = (
            select(SearchFacet.facet, SearchFacet.value)
            .where(SearchFacet.dandiset_id == ids, SearchFacet.facet.in_(facets))
            .offset(0)  # else the planner flattens it into the hash join it would choose
            .lateral(f"values_{name}")
        )
        stmt = select(values_of.c.facet, values_of.c.value, func.count().label("n")).join_from(
            ids.table, values_of, true()
        )
        group = (values_of.c.facet, values_of.c.value)
    else:
        stmt = (
            select(SearchFacet.facet, SearchFacet.value, func.count().label("n"))
            .join(ids.table, ids == SearchFacet.dandiset_id)
            .where(SearchFacet.facet.in_(facets))
        )
        group = (SearchFacet.facet, SearchFacet.value)
    return stmt.group_by(*group)


def _counted(
    found: CTE, facets: list[str], conditions: list[Any], name: str, lateral: bool
) -> Select:
    """Facet values of the matching Dandisets, counted one by one."""
    counts = (
        _value_counts(found.c.id, facets, name, lateral)
        .where(*conditions)
        .subquery(f"facets_{name}")
    )
    return select(*_row("facet", facet=counts.c.facet, value=counts.c.value, n=counts.c.n))


def _counted_either_way(found: CTE, facets: list[str], name: str) -> list[Select]:
    """The same counts, from the smaller side: when the words match most Dandisets, the
    archive-wide totals less the values of the Dandisets that do not match. Both ways
    are in the statement; a one-time condition runs only one of them (PostgreSQL)."""
    matched = select(func.count()).select_from(found).scalar_subquery()
    everything = select(func.count()).select_from(Dandiset).scalar_subquery()
    # A CTE used by both ways, so the choice is computed once.
    choice = select((matched * 2 > everything).label("most")).cte(f"choice_{name}")
    most = select(choice.c.most).scalar_subquery()
    direct = _counted(found, facets, [], name, lateral=True).where(~most)
    unmatched = (
        select(Dandiset.id).where(Dandiset.id.not_in(select(found.c.id))).subquery("unmatched")
    )
    missing = _value_counts(unmatched.c.id, facets, f"un{name}", lateral=True).subquery(
        f"unmatched_{name}"
    )
    totals = search_facet_totals
    n = totals.c.dandisets - func.coalesce(missing.c.n, 0)
    from_totals = (
        select(*_row("facet", facet=totals.c.facet, value=totals.c.value, n=n))
        .outerjoin(
            missing, and_(missing.c.facet == totals.c.facet, missing.c.value == totals.c.value)
        )
        .where(totals.c.facet.in_(facets), n > 0, most)
    )
    return [direct, from_totals]


@lru_cache(maxsize=512)
def _statement(shape: _Shape) -> Any:
    """Page, total and facet counts of a search of this shape, as one statement."""
    found = _candidates(shape)
    parts = [_page_part(found, shape), _count_part(found, shape.filters)]
    if shape.with_facets:
        parts += _facet_parts(found, shape.filters, shape.engine == "postgresql")
    return union_all(*parts)


def _parameters(
    engine: _Postgres | _SQLite,
    query: SearchQuery,
    terms: list[str],
    filters: dict[str, list[str]],
    user: User | None,
) -> dict[str, Any]:
    first = (query.page - 1) * query.page_size
    params: dict[str, Any] = {"first": first, "last": first + query.page_size}
    if terms:
        params |= engine.word_parameters(terms) | _range_parameters(terms)
    for facet, chosen in filters.items():
        params[f"chosen_{facet}"] = [v.upper() for v in chosen] if facet == "embargo" else chosen
    if user is not None:
        params["viewer_id"] = user.id
    return params


def search(session: Session, user: User | None, query: SearchQuery) -> SearchResult:
    """One statement finds the matching Dandisets once and reads from them the page, the
    total and the facet counts; a few small ones then describe the page's Dandisets."""
    check_query(query)
    chosen = {f: [v for v in vs if v] for f, vs in query.filters.items()}
    # In a fixed order, so that the same selection is the same shape.
    filters = {f: chosen[f] for f in ALL_FACETS if chosen.get(f)}
    terms = query.terms()
    engine = _engine(session)
    in_files = _files_per_term(session, terms) if terms else []
    shape = _Shape(
        engine=engine.name,
        terms=tuple(n > 0 for n in in_files),
        filters=tuple(filters),
        sort=query.sort,
        with_facets=query.with_facets,
        hide_empty=query.hide_empty,
        viewer=_viewer(user),
    )
    rows = session.execute(_statement(shape), _parameters(engine, query, terms, filters, user))
    page: list[tuple[int, int, float]] = []
    count = 0
    facets: dict[str, list[tuple[str, int]]] = {facet: [] for facet in ALL_FACETS}
    for kind, id_, rank, facet, value, n in rows:
        if kind == "hit":
            page.append((n, id_, float(rank or 0)))
        elif kind == "total":
            count = n
        else:
            facets[facet].append((str(value), n))
    ranked = [(id_, rank) for _, id_, rank in sorted(page)]
    return SearchResult(
        count=count,
        hits=_describe(session, ranked, terms, in_files, query),
        facets={
            facet: sorted(values, key=lambda item: (-item[1], item[0]))[:MAX_FACET_VALUES]
            for facet, values in facets.items()
        }
        if query.with_facets
        else {},
        query=query,
    )


# -- describing a page of results -------------------------------------------------------


def _describe(
    session: Session,
    ranked: list[tuple[int, float]],
    terms: list[str],
    in_files: list[int],
    query: SearchQuery,
) -> list[DandisetHit]:
    ids = [i for i, _ in ranked]
    if not ids:
        return []
    shown = {row.id: row for row in session.execute(_shown_versions(), {"ids": ids})}
    facet_rows = session.execute(_shown_facets(), {"ids": ids})
    values: dict[tuple[int, str], list[str]] = {}
    for dandiset_id, facet, value in facet_rows:
        values.setdefault((dandiset_id, facet), []).append(value)
    files: dict[int, list[tuple[str, str]]] = {}
    if terms and query.files_per_dandiset:
        # One more than shown, to tell whether there are more.
        with_files = [i for i in ids if shown[i].file_count]
        files = _engine(session).files_of(
            session, with_files, terms, in_files, query.files_per_dandiset + 1
        )
    hits = []
    for dandiset_id, rank in ranked:
        row = shown[dandiset_id]
        matching = files.get(dandiset_id, [])
        hits.append(
            DandisetHit(
                identifier=f"{dandiset_id:06d}",
                name=row.name,
                description=str(row.description or ""),
                version=row.version,
                embargo_status=EmbargoStatus(row.embargo_status).value,
                modified=row.modified,
                file_count=row.file_count or 0,
                size=row.total_size or 0,
                downloads=row.download_count or 0,
                rank=rank,
                species=values.get((dandiset_id, "species"), []),
                license=values.get((dandiset_id, "license"), []),
                files=[FileHit(a, p) for a, p in matching[: query.files_per_dandiset]],
                more_files=len(matching) > query.files_per_dandiset,
            )
        )
    return hits


@cache
def _shown_facets() -> Select:
    return (
        select(SearchFacet.dandiset_id, SearchFacet.facet, SearchFacet.value)
        .where(
            SearchFacet.dandiset_id.in_(bindparam("ids", expanding=True)),
            SearchFacet.facet.in_(["species", "license"]),
        )
        .order_by(SearchFacet.value)
    )


@cache
def _shown_versions() -> Select:
    """What a result shows of each Dandiset (``ids``): its most recent published version,
    else its draft, with the version's totals. Built once: its shape never changes."""
    other = aliased(Version)
    newest_published = (
        select(func.max(other.id))
        .where(other.dandiset_id == Dandiset.id, other.version != "draft")
        .correlate(Dandiset)
        .scalar_subquery()
    )
    draft = (
        select(other.id)
        .where(other.dandiset_id == Dandiset.id, other.version == "draft")
        .correlate(Dandiset)
        .scalar_subquery()
    )
    return (
        select(
            Dandiset.id,
            Dandiset.embargo_status,
            Dandiset.modified,
            Dandiset.download_count,
            Version.version,
            Version.name,
            Version.metadata_["description"].as_string().label("description"),
            Folder.file_count,
            Folder.total_size,
        )
        .select_from(Dandiset)
        .join(Version, Version.id == func.coalesce(newest_published, draft))
        .outerjoin(Folder, and_(Folder.version_id == Version.id, Folder.path == ""))
        .where(Dandiset.id.in_(bindparam("ids", expanding=True)))
    )
