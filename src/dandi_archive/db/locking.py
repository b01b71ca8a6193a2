"""The order in which transactions lock rows, and what to do when a lock is lost.

Two transactions that lock the same rows in opposite orders wait for each other until
PostgreSQL kills one of them (a deadlock). So every transaction that changes a Dandiset
or what it holds takes its locks in this order, skipping the steps it does not need:

1. the Dandiset's row: ``FOR NO KEY UPDATE`` to change what it holds (assets, Zarrs,
   uploads, metadata, publishing), ``FOR UPDATE`` to delete it or change its owners
   (:func:`dandi_archive.dandisets.dandisets.get_dandiset`);
2. its draft version's row, ``FOR UPDATE`` (every change of a draft, and the jobs
   that validate, publish or write manifests of a version);
3. Zarr rows, one at a time (an asset that shows a Zarr, an ingest);
4. the rows the change writes: assets, version memberships, folder totals, search rows.

Background jobs start at the step they need (a validation job at 2) and never go back
up. SQLite serialises writers instead (``BEGIN IMMEDIATE``), so it never deadlocks but
may report "database is locked" after its busy timeout.

What remains — a deadlock nobody foresaw, a serialization failure, a lock timeout — is
*transient*: the transaction was rolled back whole and the same work may simply be
tried again. Jobs retry it with backoff; the API answers 503 with ``Retry-After``.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

# deadlock_detected, serialization_failure, lock_not_available, query_canceled
# (statement or lock timeout) — PostgreSQL's SQLSTATEs for work that may be retried.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "55P03", "57014"})


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` means "rolled back by a lock conflict; try again"."""
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in TRANSIENT_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)
