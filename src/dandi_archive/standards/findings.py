"""Reading what the standards' checks found in a draft: for its verdict, its pages, its
API answers and the publishing rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from dandi_archive.db.models import StandardCheck, StandardFinding
from dandi_archive.standards import BLOCKING, DONE, WARNING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def as_dict(row: StandardFinding) -> dict[str, Any]:
    return {
        "field": row.field,
        "message": row.message,
        "code": row.code,
        "severity": row.severity,
        "standard": row.standard,
    }


def dataset_findings(
    session: Session, version_id: int, severities: tuple[str, ...] = BLOCKING, limit: int = 200
) -> list[dict[str, Any]]:
    """Findings about the dataset as a whole (no asset), in the given severities."""
    rows = session.scalars(
        select(StandardFinding)
        .where(
            StandardFinding.version_id == version_id,
            StandardFinding.path.is_(None),
            StandardFinding.severity.in_(severities),
        )
        .order_by(StandardFinding.id)
        .limit(limit)
    )
    return [as_dict(r) for r in rows]


def asset_findings(session: Session, version_id: int, path: str) -> list[dict[str, Any]]:
    """Every finding about the asset at ``path`` of a version, blocking ones first."""
    rows = session.scalars(
        select(StandardFinding)
        .where(StandardFinding.version_id == version_id, StandardFinding.path == path)
        .order_by((StandardFinding.severity == WARNING), StandardFinding.id)
    )
    return [as_dict(r) for r in rows]


def blocking_asset_findings(
    session: Session, version_id: int, limit: int
) -> list[tuple[str, dict[str, Any]]]:
    """(path, finding) of blocking findings about assets, by path."""
    rows = session.scalars(
        select(StandardFinding)
        .where(
            StandardFinding.version_id == version_id,
            StandardFinding.path.is_not(None),
            StandardFinding.severity.in_(BLOCKING),
        )
        .order_by(StandardFinding.path, StandardFinding.id)
        .limit(limit)
    )
    return [(r.path or "", as_dict(r)) for r in rows]


def warnings(session: Session, version_id: int, limit: int) -> list[dict[str, Any]]:
    """Warnings (advice), each with the ``path`` of its asset ("" for the dataset)."""
    rows = session.scalars(
        select(StandardFinding)
        .where(StandardFinding.version_id == version_id, StandardFinding.severity == WARNING)
        .order_by(StandardFinding.path.is_not(None), StandardFinding.path, StandardFinding.id)
        .limit(limit)
    )
    return [{**as_dict(r), "path": r.path or ""} for r in rows]


def counts(session: Session, version_id: int) -> dict[str, int]:
    """Findings by severity."""
    rows = session.execute(
        select(StandardFinding.severity, func.count())
        .where(StandardFinding.version_id == version_id)
        .group_by(StandardFinding.severity)
    )
    return {severity: n for severity, n in rows}


def checks(session: Session, version_id: int) -> list[StandardCheck]:
    return list(
        session.scalars(
            select(StandardCheck)
            .where(StandardCheck.version_id == version_id)
            .order_by(StandardCheck.standard, StandardCheck.root)
        )
    )


def publish_problem(session: Session, version_id: int) -> tuple[bool, str] | None:
    """Why the standards' checks keep a draft from being published, or None:
    (pending, message) -- pending when a check is still to run or under way."""
    unfinished = session.scalar(
        select(func.count())
        .select_from(StandardCheck)
        .where(StandardCheck.version_id == version_id, StandardCheck.state != DONE)
    )
    if unfinished:
        return True, "BIDS validation is still running for this Dandiset; try again shortly."
    rows = session.execute(
        select(StandardFinding.path.is_(None), func.count())
        .where(
            StandardFinding.version_id == version_id,
            StandardFinding.severity.in_(BLOCKING),
        )
        .group_by(StandardFinding.path.is_(None))
    )
    by_scope = {dataset_level: n for dataset_level, n in rows}
    files, dataset = by_scope.get(False, 0), by_scope.get(True, 0)
    if files or dataset:
        parts = []
        if dataset:
            parts.append(f"{dataset} about the dataset")
        if files:
            parts.append(f"{files} about files")
        return False, (
            "The BIDS validator found errors (or could not check the data): "
            f"{' and '.join(parts)}. Fix them and upload again."
        )
    return None
