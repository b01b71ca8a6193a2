"""NWB files judged by the NWB Inspector, the checker ``dandi validate`` runs.

Each blob behind an ``.nwb`` asset is inspected once, in a job (``inspect_nwb``), and the
result kept by blob (``db.models.NwbInspection``): the same content uploaded twice is
inspected once, a changed file is a new blob and is inspected anew.

What it found goes two ways:

* importance CRITICAL, PyNWB's schema validation and checks that failed on the file are
  *errors*: the asset's validation (``assets.tasks.validate_asset``) adds them to its
  ``validation_errors``, so the asset is Invalid and publishing is refused as for any
  invalid asset;
* BEST_PRACTICE_VIOLATION and BEST_PRACTICE_SUGGESTION are *advice* (severity warning),
  shown on the file's page and in its validation answer, never blocking.

A file the inspector cannot judge -- not HDF5, unreadable by PyNWB, the inspector crashed,
timed out or is not installed -- is "not checked", with the reason, which blocks like an
error: never Valid by default. Until the run is done the asset stays Pending.

The inspector runs in a child process (``nwb_child``) that reads the file through ranged
reads (``ranged.RangedFile``): a local path on the folder store, a presigned URL on S3.
Neither the job's process nor the API's ever imports h5py, PyNWB or the inspector.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update

from dandi_archive.db.models import Asset, AssetBlob, AssetStatus, NwbInspection, utcnow
from dandi_archive.db.upsert import dialect_insert
from dandi_archive.standards import (
    BLOCKING,
    CHECKED,
    DONE,
    ERROR,
    NOT_CHECKED,
    QUEUED,
    RUNNING,
    WARNING,
    finding,
    not_checked,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.instance import Archive

log = logging.getLogger(__name__)

STANDARD = "nwb"
# Importances (nwbinspector.Importance) that make a file invalid; the others are advice.
BLOCKING_IMPORTANCE = ("ERROR", "PYNWB_VALIDATION", "CRITICAL")
# A run still "running" this long after its time limit was lost with its process.
GRACE_SECONDS = 120
# The archive knows a file's name (its asset's path); the inspector sees only bytes.
_NOT_ABOUT_BYTES = ("check_file_extension",)


def is_nwb(asset: Asset) -> bool:
    """Whether an asset is an NWB file the inspector reads (HDF5; NWB Zarrs are not)."""
    return asset.blob_id is not None and asset.path.lower().endswith(".nwb")


def blocking_errors(archive: Archive, session: Session, asset: Asset) -> list[dict] | None:
    """The errors the inspection of an NWB asset's blob adds to its validation, or None
    while that inspection is still to run (it is queued here if need be; when done, it
    validates the asset again)."""
    if not is_nwb(asset):
        return []
    assert asset.blob_id is not None
    row = session.get(NwbInspection, asset.blob_id)
    if row is None:
        session.execute(
            dialect_insert(session, NwbInspection)
            .values(blob_id=asset.blob_id, state=QUEUED, findings=[], updated=utcnow())
            .on_conflict_do_nothing()
        )
        archive.defer(session, "inspect_nwb", blob_id=str(asset.blob_id))
        return None
    if row.state != DONE:
        # Queued again when the sweep finds the asset still waiting: a queued run whose
        # message was lost, or a running one whose process died, is run anew (the job
        # claims the row, so a run still under way is never doubled).
        if row.state == QUEUED or _stale(archive, row):
            archive.defer(session, "inspect_nwb", blob_id=str(asset.blob_id))
        return None
    return [f for f in row.findings if f.get("severity") in BLOCKING]


def _stale(archive: Archive, row: NwbInspection) -> bool:
    limit = archive.settings.nwb_inspection_timeout_seconds + GRACE_SECONDS
    return row.updated < utcnow() - timedelta(seconds=limit)


def inspection_of(session: Session, asset: Asset) -> NwbInspection | None:
    """The inspection of an NWB asset's blob, if one was queued."""
    if not is_nwb(asset) or asset.blob_id is None:
        return None
    return session.get(NwbInspection, asset.blob_id)


def summary(row: NwbInspection | None) -> dict[str, Any] | None:
    """The inspection as the API and the file page show it."""
    if row is None:
        return None
    return {
        "state": row.state,
        "outcome": row.outcome,
        "reason": row.reason,
        "inspector_version": row.inspector_version,
        "bytes_read": row.bytes_read,
        "errors": [f for f in row.findings if f.get("severity") in BLOCKING],
        "advice": advice(row),
    }


def advice(row: NwbInspection | None) -> list[dict[str, Any]]:
    """The advice, violations of best practice before suggestions."""
    found = [f for f in (row.findings if row else []) if f.get("severity") == WARNING]
    return sorted(found, key=lambda f: f.get("importance") != "BEST_PRACTICE_VIOLATION")


# -- the job -------------------------------------------------------------------------------


def run(archive: Archive, blob_id: str) -> None:
    """Inspect a blob (if its row is queued, or its run was lost), record what was
    found, and validate again the assets that waited for it."""
    bid = uuid.UUID(blob_id)
    token = uuid.uuid4().hex
    now = utcnow()
    lost = now - timedelta(seconds=archive.settings.nwb_inspection_timeout_seconds + GRACE_SECONDS)
    with archive.db.session(write=True) as session:
        blob = session.get(AssetBlob, bid)
        if blob is None:
            return
        claimed = session.execute(
            update(NwbInspection)
            .where(
                NwbInspection.blob_id == bid,
                or_(
                    NwbInspection.state == QUEUED,
                    and_(NwbInspection.state == RUNNING, NwbInspection.updated < lost),
                ),
            )
            .values(state=RUNNING, token=token, updated=now)
        ).rowcount
        if not claimed:
            return
        key, size = blob.key, blob.size
    result = inspect_blob(archive, key, size)
    findings = findings_of(result)
    with archive.db.session(write=True) as session:
        recorded = session.execute(
            update(NwbInspection)
            .where(NwbInspection.blob_id == bid, NwbInspection.token == token)
            .values(
                state=DONE,
                outcome=result["outcome"],
                reason=result.get("reason"),
                findings=findings,
                inspector_version=result.get("inspector_version"),
                bytes_read=result.get("bytes_read"),
                updated=utcnow(),
            )
        ).rowcount
        if not recorded:
            return  # taken over by a later run (this one was presumed lost)
        for asset_id in session.scalars(
            select(Asset.id).where(Asset.blob_id == bid, Asset.status == AssetStatus.PENDING)
        ):
            archive.defer(session, "validate_asset", asset_id=str(asset_id))
    log.info(
        "NWB inspection of blob %s: %s, %d findings, %s of %d bytes read",
        blob_id,
        result["outcome"],
        len(findings),
        result.get("bytes_read"),
        size,
    )


def inspect_blob(archive: Archive, key: str, size: int) -> dict[str, Any]:
    """Run the inspector's child process over a stored object: its answer, or a
    not-checked outcome saying why there is none."""
    timeout = archive.settings.nwb_inspection_timeout_seconds
    url, _options = archive.store.fsspec_location(key)
    if url.startswith("file://"):
        location = url.removeprefix("file://")  # the folder store: the file itself
    else:
        location = archive.store.presign_download(key, expires=int(timeout) + GRACE_SECONDS)
    command = [sys.executable, "-m", "dandi_archive.standards.nwb_child", location, str(size)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"outcome": NOT_CHECKED, "reason": f"the inspection took longer than {timeout:g} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return {
            "outcome": NOT_CHECKED,
            "reason": f"the inspector crashed (exit status {done.returncode}): {last[:500]}",
        }
    try:
        result = json.loads(done.stdout)
    except ValueError:
        return {"outcome": NOT_CHECKED, "reason": "the inspector gave no readable answer"}
    if not isinstance(result, dict) or result.get("outcome") not in (CHECKED, NOT_CHECKED):
        return {"outcome": NOT_CHECKED, "reason": "the inspector gave no readable answer"}
    return result


def findings_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The child's answer as findings in the shape every standard uses."""
    if result["outcome"] != CHECKED:
        return [not_checked(STANDARD, result.get("reason") or "no reason given")]
    found = []
    for m in result.get("messages", []):
        if m.get("check") in _NOT_ABOUT_BYTES:
            continue
        importance = m.get("importance", "")
        if importance == "PYNWB_VALIDATION":
            code = "PYNWB.VALIDATION"
        else:
            code = f"NWBI.{m.get('check', '')}"
        severity = ERROR if importance in BLOCKING_IMPORTANCE else WARNING
        item = finding(STANDARD, severity, code, m.get("message", ""), m.get("location") or "/")
        item.update(
            importance=importance,
            object_type=m.get("object_type", ""),
            object_name=m.get("object_name", ""),
        )
        found.append(item)
    if result.get("truncated"):
        found.append(
            finding(STANDARD, WARNING, "NWBI.TRUNCATED", "Only the first findings are listed.", "/")
        )
    return found
