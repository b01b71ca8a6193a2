"""Every row of the embedded database copied into the target database.

Tables go in foreign-key order (``Base.metadata.sorted_tables``), each streamed from
one read transaction of the source a batch at a time; each batch is one transaction
of the target, so an interrupted copy keeps what it wrote. A row already in the target
under the same primary key is left alone if it is the same, and stops the copy if it
is not: the target then holds something other than this archive. Afterwards each
PostgreSQL sequence is moved past the copied ids, so new rows get fresh ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Integer,
    Select,
    Table,
    Text,
    bindparam,
    case,
    cast,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import SQLAlchemyError

from dandi_archive.db.models import Base, Transfer
from dandi_archive.db.session import Database
from dandi_archive.errors import Conflict
from dandi_archive.transfer.urls import UrlRewrite

BATCH = 1000
RowProgress = Callable[[str, int], None]
# A JSON column holds SQL NULL or the JSON value null, which read back alike as None;
# the copy keeps them apart (queries test `IS NULL`): JSON is read as its text, and
# written with this type, for which None is SQL NULL and JSON.NULL is JSON's null.
JSON_EXACT = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def tables() -> list[Table]:
    """The archive's tables, each after those it refers to (the transfer's own
    bookkeeping excluded: it describes the target, not the archive)."""
    return [t for t in Base.metadata.sorted_tables if t.name != Transfer.__tablename__]


@dataclass
class TableCount:
    copied: int = 0
    present: int = 0  # already in the target (an earlier, interrupted run)


def count_rows(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t)) or 0 for t in tables()}


def copy_rows(
    source: Database,
    target: Database,
    rewrite: UrlRewrite,
    progress: RowProgress = lambda _table, _n: None,
    batch: int = BATCH,
) -> dict[str, TableCount]:
    """Copy every table; ``progress(table, rows)`` after each batch. Raises Conflict
    (nothing of that batch written) on a row the target holds differently."""
    counts: dict[str, TableCount] = {}
    # One read transaction: a consistent snapshot of the whole source (WAL mode).
    with source.engine.connect() as read, read.begin():
        for table in tables():
            count = counts[table.name] = TableCount()
            for rows in _batches(read, table, batch):
                rows = [_rewritten(table, row, rewrite) for row in rows]
                _write_batch(target, table, rows, count)
                progress(table.name, len(rows))
            _check_no_extra_rows(read, target, table)
    if target.engine.dialect.name == "postgresql":
        advance_sequences(target)
    return counts


def _batches(read: Connection, table: Table, size: int) -> Iterator[list[dict[str, Any]]]:
    # Rows that refer to a row of their own table (a frozen Zarr to its live one) come
    # after those that do not, so the row referred to is always written first (the
    # archive's only such reference is one level deep: frozen Zarrs name live ones).
    self_refs = [fk.parent for fk in table.foreign_keys if fk.column.table is table]
    order = [case((c.is_(None), 0), else_=1) for c in self_refs]
    query = _select(table).order_by(*order, *table.primary_key.columns)
    result = read.execution_options(yield_per=size).execute(query)
    for partition in result.partitions():
        yield [_decoded(table, row._mapping) for row in partition]


def _json_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if isinstance(c.type, JSON)]


def _select(table: Table) -> Select[Any]:
    """Every column of ``table``, JSON ones as their stored text."""
    json_keys = {c.key for c in _json_columns(table)}
    return select(*(cast(c, Text).label(c.key) if c.key in json_keys else c for c in table.columns))


def _decoded(table: Table, row: Any) -> dict[str, Any]:
    values = dict(row)
    for column in _json_columns(table):
        raw = values[column.key]
        if raw is not None:
            parsed = json.loads(raw)
            values[column.key] = JSON.NULL if parsed is None else parsed
    return values


def _insert(table: Table) -> Any:
    """INSERT of ``table`` whose JSON columns take None as SQL NULL (see JSON_EXACT)."""
    return table.insert().values(
        {c.key: bindparam(c.key, type_=JSON_EXACT) for c in _json_columns(table)}
    )


def _rewritten(table: Table, row: dict[str, Any], rewrite: UrlRewrite) -> dict[str, Any]:
    for column in _json_columns(table):
        if row[column.key] is not None and row[column.key] is not JSON.NULL:
            row[column.key] = rewrite.value(row[column.key])
    return row


def _key(table: Table, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c.key] for c in table.primary_key.columns)


def _write_batch(
    target: Database, table: Table, rows: list[dict[str, Any]], count: TableCount
) -> None:
    pk = list(table.primary_key.columns)
    keys = [_key(table, row) for row in rows]
    matcher = pk[0].in_([k[0] for k in keys]) if len(pk) == 1 else tuple_(*pk).in_(keys)
    try:
        with target.engine.begin() as write:
            held = (
                _decoded(table, r._mapping) for r in write.execute(_select(table).where(matcher))
            )
            present = {_key(table, row): row for row in held}
            missing = []
            for key, row in zip(keys, rows, strict=True):
                there = present.get(key)
                if there is None:
                    missing.append(row)
                elif there != row:
                    raise Conflict(
                        f"The target database holds row {_shown(key)} of table {table.name} "
                        "with other values than this archive: it was changed since the "
                        "transfer began (has the new instance been started?), or holds "
                        "another archive. Transfer into an empty database."
                    )
            if missing:
                write.execute(_insert(table), missing)
    except SQLAlchemyError as exc:
        raise Conflict(
            f"Could not write {len(rows)} row(s) of table {table.name} to the target "
            f"database: {_first_line(exc)}"
        ) from None
    count.copied += len(missing)
    count.present += len(rows) - len(missing)


def _check_no_extra_rows(read: Connection, target: Database, table: Table) -> None:
    """Once a table is copied the target holds exactly the source's rows: a row only
    the target has was not written by this transfer."""
    with target.engine.connect() as conn:
        held = conn.scalar(select(func.count()).select_from(table)) or 0
    expected = read.scalar(select(func.count()).select_from(table)) or 0
    if held != expected:
        raise Conflict(
            f"The target database holds {held} row(s) of table {table.name}, the archive "
            f"{expected}: it holds data of its own. Transfer into an empty database."
        )


def advance_sequences(target: Database) -> None:
    """Move each table's id sequence past its largest id (ids were copied, not drawn)."""
    with target.engine.begin() as conn:
        for table in tables():
            column = _sequence_column(table)
            if column is None:
                continue
            sequence = conn.scalar(select(func.pg_get_serial_sequence(table.name, column.name)))
            if sequence is None:
                continue
            top = conn.scalar(select(func.max(column))) or 0
            conn.execute(
                text("SELECT setval(CAST(:seq AS regclass), :next, false)"),
                {"seq": sequence, "next": top + 1},
            )


def _sequence_column(table: Table) -> Column[Any] | None:
    columns = list(table.primary_key.columns)
    if len(columns) != 1 or not isinstance(columns[0].type, Integer):
        return None
    return columns[0]


def _shown(key: tuple[Any, ...]) -> str:
    return str(key[0]) if len(key) == 1 else str(tuple(str(k) for k in key))


def _first_line(exc: SQLAlchemyError) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__
