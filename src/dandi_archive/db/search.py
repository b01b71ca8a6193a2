"""Tables of the search index (kept up to date by ``services.search_index``).

* ``search_dandisets``: one row per Dandiset with the words of its draft's metadata in
  three weighted columns (title; keywords and facet values; everything else).
* ``search_assets``: one row per file of a draft: its path and NWB types as words, and
  the fields ``/api/dandisets/search/`` filters files by (encoding format, first
  participant's species and genotype, measurement techniques); sizes are read from the
  blob or Zarr at query time, as a Zarr's grows after it joined the draft.
* ``search_terms``: per Dandiset, each word of its files with the number of files that
  contain it (one row per word and Dandiset, however many files).
* ``search_facets``: per Dandiset, each facet value (species, approach, ...) with the
  number of its files that carry it; values from the metadata itself are flagged.
* ``search_facet_totals`` (PostgreSQL only): per facet value, the number of Dandisets
  that have it, kept by triggers on ``search_facets`` (migration 0008), so a query that
  matches most Dandisets counts its facets from the few Dandisets it does not match.

The words are produced in Python (lower case, split at anything not a letter or digit)
so both engines index the same tokens. PostgreSQL adds a generated ``tsvector`` column
with a GIN index to the first two tables; SQLite adds FTS5 tables kept in step by
triggers. Both are created by migration 0002, not here, as they differ per engine.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    column,
    table,
)
from sqlalchemy.orm import Mapped, mapped_column

from dandi_archive.db.models import Base, PathString

# Byte order on both engines, so a word prefix is a key range of the index.
TermString = String(255).with_variant(String(255, collation="C"), "postgresql")
# SQLite only gives a 64-bit auto-increment rowid to INTEGER PRIMARY KEY columns.
RowId = BigInteger().with_variant(Integer(), "sqlite")


class SearchDandiset(Base):
    __tablename__ = "search_dandisets"

    dandiset_id: Mapped[int] = mapped_column(
        ForeignKey("dandisets.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text, default="")
    name_words: Mapped[str] = mapped_column(Text, default="")
    keyword_words: Mapped[str] = mapped_column(Text, default="")
    body_words: Mapped[str] = mapped_column(Text, default="")


class SearchAsset(Base):
    __tablename__ = "search_assets"
    __table_args__ = (
        Index("ix_search_assets_dandiset_path", "dandiset_id", "path"),
        Index("ix_search_assets_asset", "asset_id"),
        Index("ix_search_assets_species", "species", "dandiset_id"),
        Index("ix_search_assets_genotype", "genotype", "dandiset_id"),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    dandiset_id: Mapped[int] = mapped_column(ForeignKey("dandisets.id", ondelete="CASCADE"))
    asset_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    path: Mapped[str] = mapped_column(PathString)
    words: Mapped[str] = mapped_column(Text, default="")
    encoding_format: Mapped[str] = mapped_column(String(255), default="", server_default="")
    species: Mapped[str] = mapped_column(String(255), default="", server_default="")
    genotype: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # Names of its measurement techniques, each enclosed in "|" ("|a|b|"), so one is
    # matched by a LIKE on both engines.
    techniques: Mapped[str] = mapped_column(Text, default="", server_default="")


class SearchTerm(Base):
    """A word of a Dandiset's files with the number of its files that contain it, so a
    word found in a million files is still one row per Dandiset."""

    __tablename__ = "search_terms"
    __table_args__ = (Index("ix_search_terms_term", "term", "dandiset_id"),)

    dandiset_id: Mapped[int] = mapped_column(
        ForeignKey("dandisets.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(TermString, primary_key=True)
    files: Mapped[int] = mapped_column(BigInteger, default=0)


class SearchFacet(Base):
    __tablename__ = "search_facets"
    __table_args__ = (Index("ix_search_facets_value", "facet", "value", "dandiset_id"),)

    dandiset_id: Mapped[int] = mapped_column(
        ForeignKey("dandisets.id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(255), primary_key=True)
    files: Mapped[int] = mapped_column(BigInteger, default=0)
    in_metadata: Mapped[bool] = mapped_column(Boolean, default=False)


# Not a model: it exists on PostgreSQL only and is written by triggers, never by the ORM.
search_facet_totals = table(
    "search_facet_totals",
    column("facet", String),
    column("value", String),
    column("dandisets", BigInteger),
)

FULL_TEXT_TABLES = ("search_dandisets_fts", "search_assets_fts")  # SQLite FTS5 (+ shadows)
FULL_TEXT_INDEXES = ("ix_search_dandisets_tsv", "ix_search_assets_tsv")  # PostgreSQL GIN


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic ``include_object`` hook: the per-engine full-text objects (FTS5 tables,
    generated ``tsv`` columns and their GIN indexes, made by migration 0004) and the
    facet totals (0008) are not models, so schema comparisons leave them out."""
    if type_ == "table" and name and name.startswith((*FULL_TEXT_TABLES, "search_facet_totals")):
        return False
    if type_ == "index" and name in FULL_TEXT_INDEXES:
        return False
    return not (type_ == "column" and name == "tsv" and obj.table.name.startswith("search_"))
