"""BIDS datasets in a draft: their entities, and the BIDS validator run over them.

A BIDS dataset is a folder of a draft holding ``dataset_description.json`` (its *root*).
Any change below a root queues one run of the validator the dandi client uses
(``bids-validator-deno``) for that root, coalesced per draft and root
(``db.models.StandardCheck``): a change while a run is queued or under way only bumps the
check's generation, and the run, finding it moved on, drops its result and runs again.

The run rebuilds the dataset's tree in a temporary folder: sidecars and tables (JSON,
TSV, bval/bvec, README, ...) read from storage, every other file a sparse file of its
size and a Zarr an empty folder, then validates it with ``--ignoreNiftiHeaders`` (the
headers are not fetched). Its issues become findings (``standards``): errors and
warnings about an asset by its path, or about the dataset when they name no asset.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata as importlib_metadata
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select

from dandi_archive import paths as path_syntax
from dandi_archive.db.models import (
    Asset,
    AssetBlob,
    StandardCheck,
    StandardFinding,
    Version,
    VersionAsset,
)
from dandi_archive.standards import (
    BLOCKING,
    CHECKED,
    DONE,
    ERROR,
    NOT_CHECKED,
    QUEUED,
    RUNNING,
    WARNING,
    not_checked,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.instance import Archive
    from dandi_archive.storage.base import BlobStore

log = logging.getLogger(__name__)

STANDARD = "bids"
DESCRIPTION = "dataset_description.json"
# Exit codes of bids-validator-deno that mean "validated": 16 says errors were found.
_VALIDATED = (0, 16)
# Findings kept per dataset and run; the rest are counted in one dataset-level note.
MAX_ERRORS = 10_000
MAX_WARNINGS = 2_000
MAX_MESSAGE = 2_000

# -- entities ------------------------------------------------------------------------

# Datatype folders of BIDS (and of its electrophysiology extensions used with NWB).
DATATYPES = frozenset(
    {
        *("anat", "beh", "dwi", "eeg", "emg", "fmap", "func", "ieeg", "meg", "micr"),
        *("motion", "mrs", "nirs", "perf", "pet", "ecephys", "icephys"),
    }
)
_LABEL = r"[A-Za-z0-9]+"
_SUBJECT_DIR = re.compile(rf"sub-({_LABEL})")
_SESSION_DIR = re.compile(rf"ses-({_LABEL})")
_ENTITY = re.compile(rf"([a-z]+)-({_LABEL})")


def entities(path: str) -> dict[str, str] | None:
    """BIDS entities of a data file's path (``.../sub-01/ses-a/anat/sub-01_ses-a_T1w.nii.gz``
    -> subject, session, datatype, suffix and the file name's other entities), or None
    if the path is not laid out as BIDS: a subject folder, an optional session folder,
    a datatype folder, and a name starting with the subject's entity. (The dandi layout
    of NWB files, ``sub-01/sub-01_ses-a_ecephys.nwb``, has no datatype folder.)"""
    parts = path.split("/")
    if len(parts) < 3:
        return None
    name, folders = parts[-1], parts[:-1]
    at = next((i for i, f in enumerate(folders) if _SUBJECT_DIR.fullmatch(f)), None)
    if at is None:
        return None
    subject = _SUBJECT_DIR.fullmatch(folders[at])
    assert subject is not None
    rest = folders[at + 1 :]
    found: dict[str, str] = {"subject": subject.group(1)}
    if rest and (session := _SESSION_DIR.fullmatch(rest[0])):
        found["session"] = session.group(1)
        rest = rest[1:]
    if len(rest) != 1 or rest[0] not in DATATYPES:
        return None
    found["datatype"] = rest[0]
    stem = name.split(".", 1)[0]
    *keyed, suffix = stem.split("_")
    if not keyed or keyed[0] != f"sub-{found['subject']}" or "-" in suffix:
        return None
    for pair in keyed[1:]:
        entity = _ENTITY.fullmatch(pair)
        if entity is None:
            return None
        found.setdefault(entity.group(1), entity.group(2))
    if found.get("ses", found.get("session")) != found.get("session"):
        return None  # the name's session is not its folder's
    found.pop("ses", None)
    found["suffix"] = suffix
    return found


def with_entities(path: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """The metadata with what a BIDS path says added where the metadata is silent, as
    dandischema places it for NWB files: the subject as a ``Participant`` in
    ``wasAttributedTo``, the session as a ``Session`` in ``wasGeneratedBy``; the datatype
    and suffix as ``keywords`` (``bids:datatype:anat``, ``bids:suffix:T1w``)."""
    found = entities(path)
    if found is None:
        return metadata
    meta = dict(metadata)
    attributed = list(meta.get("wasAttributedTo") or [])
    if not any(isinstance(a, dict) and a.get("schemaKey") == "Participant" for a in attributed):
        meta["wasAttributedTo"] = [
            *attributed,
            {"schemaKey": "Participant", "identifier": found["subject"]},
        ]
    generated = list(meta.get("wasGeneratedBy") or [])
    if "session" in found and not any(
        isinstance(g, dict) and g.get("schemaKey") == "Session" for g in generated
    ):
        meta["wasGeneratedBy"] = [
            *generated,
            {"schemaKey": "Session", "identifier": found["session"], "name": found["session"]},
        ]
    keywords = list(meta.get("keywords") or [])
    for entity in ("datatype", "suffix"):
        keyword = f"bids:{entity}:{found[entity]}"
        if keyword not in keywords:
            keywords.append(keyword)
    meta["keywords"] = keywords
    return meta


# -- roots and coalescing ------------------------------------------------------------


def _under(path: str, root: str) -> bool:
    return root == "" or path.startswith(root + "/")


def note_change(
    archive: Archive, session: Session, version: Version, changed: Iterable[str]
) -> None:
    """Paths of a draft were added, replaced or removed (the draft is locked): create or
    drop the checks of roots whose ``dataset_description.json`` came or went, and queue
    a run of every check below which something changed."""
    if not archive.settings.bids_validator_command.strip():
        return
    checks = {
        c.root: c
        for c in session.scalars(
            select(StandardCheck).where(
                StandardCheck.version_id == version.id, StandardCheck.standard == STANDARD
            )
        )
    }
    changed = list(changed)
    for path in changed:
        if PurePosixPath(path).name != DESCRIPTION:
            continue
        root = path_syntax.parent_of(path)
        present = session.scalar(
            select(VersionAsset.asset_id).where(
                VersionAsset.version_id == version.id, VersionAsset.path == path
            )
        )
        if present is not None and root not in checks:
            checks[root] = StandardCheck(
                version_id=version.id, standard=STANDARD, root=root, state=DONE, generation=0
            )
            session.add(checks[root])
        elif present is None and root in checks:
            drop_check(session, checks.pop(root))
    for check in checks.values():
        if any(_under(path, check.root) for path in changed):
            _bump(archive, session, check)


def drop_check(session: Session, check: StandardCheck) -> None:
    session.execute(
        delete(StandardFinding).where(
            StandardFinding.version_id == check.version_id,
            StandardFinding.standard == check.standard,
            StandardFinding.root == check.root,
        )
    )
    session.delete(check)


def _bump(archive: Archive, session: Session, check: StandardCheck) -> None:
    check.generation = (check.generation or 0) + 1
    check.updated = datetime.now(UTC)
    if check.state not in (QUEUED, RUNNING):
        check.state = QUEUED
        session.flush()
        archive.defer(session, "check_bids", version_id=check.version_id, root=check.root)


# -- a run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetFile:
    path: str  # relative to the root
    size: int
    key: str | None  # the blob's key; None for a Zarr


class NotChecked(Exception):
    """The validator could not judge the dataset (the message says why)."""


def files_of(session: Session, version_id: int, root: str) -> list[DatasetFile]:
    query = (
        select(VersionAsset.path, AssetBlob.size, AssetBlob.key)
        .join(Asset, Asset.id == VersionAsset.asset_id)
        .outerjoin(AssetBlob, AssetBlob.id == Asset.blob_id)
        .where(VersionAsset.version_id == version_id)
    )
    if root:
        # A key range: the paths below the root (PathString compares byte-wise).
        query = query.where(VersionAsset.path > root + "/", VersionAsset.path < root + "0")
    prefix = len(root) + 1 if root else 0
    return [
        DatasetFile(path[prefix:], size or 0, key)
        for path, size, key in session.execute(query)
        if _under(path, root)
    ]


_TEXT_NAMES = ("README", "CHANGES", "LICENSE", "CITATION.cff", ".bidsignore")
_TEXT_SUFFIXES = (".json", ".tsv", ".bval", ".bvec", ".txt", ".md", ".rst", ".csv", ".cff")


def is_text(path: str) -> bool:
    """Files the validator reads whole (sidecars, tables, top-level texts); their
    content is fetched, every other file stands in as its size only."""
    name = PurePosixPath(path).name
    return name.startswith(_TEXT_NAMES) or name.endswith(_TEXT_SUFFIXES)


def materialise(store: BlobStore, files: list[DatasetFile], dest: Path, text_max: int) -> list[str]:
    """Lay the dataset out under ``dest``; answer the text files too large to read."""
    skipped: list[str] = []
    for f in files:
        target = dest / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if f.key is None:
            target.mkdir(exist_ok=True)  # a Zarr: the validator sees a folder
            continue
        if is_text(f.path) and f.size <= text_max:
            with target.open("wb") as out:
                for chunk in store.iter_bytes(f.key):
                    out.write(chunk)
            continue
        if is_text(f.path):
            skipped.append(f.path)
        with target.open("wb") as out:
            out.truncate(f.size)  # sparse: no disk used
    return skipped


def run_validator(command: str, directory: Path, timeout: float) -> dict[str, Any]:
    """The validator's JSON report on ``directory``; NotChecked if it gave none."""
    args = shlex.split(command)
    args[0] = _program(args[0])
    with tempfile.TemporaryDirectory(prefix="bids-out-") as out_dir:
        outfile = Path(out_dir) / "report.json"
        errfile = Path(out_dir) / "stderr.txt"
        argv = [
            *args,
            "--format",
            "json",
            "--ignoreNiftiHeaders",
            "--outfile",
            str(outfile),
            str(directory),
        ]
        try:
            with errfile.open("wb") as err:
                # Its own process group, so a timeout stops whatever it started too.
                proc = subprocess.Popen(
                    argv, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
                )
        except OSError as exc:
            raise NotChecked(f"the BIDS validator ({args[0]}) cannot be run: {exc}") from exc
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise NotChecked(f"the BIDS validator took longer than {timeout:g} s") from None
        stderr = errfile.read_text(errors="replace").strip()
        if code not in _VALIDATED or not outfile.exists():
            tail = f": {stderr[-500:]}" if stderr else ""
            raise NotChecked(f"the BIDS validator failed (exit code {code}){tail}")
        try:
            report = json.loads(outfile.read_text())
            if not isinstance(report["issues"]["issues"], list):
                raise TypeError("its issues are not a list")
        except (ValueError, KeyError, TypeError) as exc:
            raise NotChecked(f"the BIDS validator's report could not be read: {exc}") from None
    return report


def _program(name: str) -> str:
    """A bare program name found on PATH or, as a server started from a virtualenv
    without activating it has the validator's wheel installed there, beside Python."""
    if "/" in name or shutil.which(name):
        return name
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else name


def validator_version() -> str | None:
    try:
        return importlib_metadata.version("bids-validator-deno")
    except importlib_metadata.PackageNotFoundError:
        return None


def _message(issue: dict[str, Any], code_messages: dict[str, str]) -> str:
    parts = [code_messages.get(issue["code"], "").strip() or issue["code"]]
    detail = str(issue.get("issueMessage") or "").strip()
    if detail:
        parts.append(detail)
    return "\n".join(parts)[:MAX_MESSAGE]


def interpret(
    report: dict[str, Any], root: str, asset_paths: set[str]
) -> list[tuple[str | None, dict[str, Any]]]:
    """(asset path or None for the dataset, finding) for each issue of the report."""
    code_messages = report["issues"].get("codeMessages") or {}
    found: list[tuple[str | None, dict[str, Any]]] = []
    counts = {ERROR: 0, WARNING: 0}
    dropped = {ERROR: 0, WARNING: 0}
    for issue in report["issues"]["issues"]:
        severity = issue.get("severity")
        if severity not in (ERROR, WARNING):
            continue  # "ignore"
        counts[severity] += 1
        if counts[severity] > (MAX_ERRORS if severity == ERROR else MAX_WARNINGS):
            dropped[severity] += 1
            continue
        location = str(issue.get("location") or "").strip("/")
        path = f"{root}/{location}" if root and location else location
        message = _message(issue, code_messages)
        if path not in asset_paths:
            if location:
                message = f"{location}: {message}"
            path = None
        finding = {
            "field": str(issue.get("subCode") or "")[:255],
            "message": message,
            "code": f"BIDS.{issue['code']}"[:100],
            "severity": severity,
            "standard": STANDARD,
        }
        found.append((path, finding))
    for severity, n in dropped.items():
        if n:
            found.append(
                (
                    None,
                    {
                        "field": "",
                        "message": f"{n} more {severity}s of the BIDS validator not listed.",
                        "code": "BIDS.MORE",
                        "severity": severity,
                        "standard": STANDARD,
                    },
                )
            )
    return found


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    summary = report.get("summary") or {}
    keep = ("subjects", "sessions", "tasks", "modalities", "dataTypes", "schemaVersion")
    return {k: summary[k] for k in keep if k in summary} | {"validator": validator_version()}


def _validate(
    archive: Archive, root: str, files: list[DatasetFile]
) -> tuple[list[tuple[str | None, dict[str, Any]]], str | None, dict[str, Any] | None]:
    """Findings, the reason it could not be checked (None if it was), the summary."""
    settings = archive.settings
    asset_paths = {f"{root}/{f.path}" if root else f.path for f in files}
    try:
        with tempfile.TemporaryDirectory(prefix="bids-") as tmp:
            dataset = Path(tmp) / "dataset"
            dataset.mkdir()
            skipped = materialise(archive.store, files, dataset, settings.bids_text_max_bytes)
            report = run_validator(
                settings.bids_validator_command, dataset, settings.bids_validator_timeout_seconds
            )
    except NotChecked as exc:
        return [(None, not_checked(STANDARD, str(exc)))], str(exc), None
    except Exception as exc:  # storage or disk: still an answer, never a stuck check
        log.exception("BIDS validation of %r failed", root)
        reason = f"the dataset could not be prepared for the validator: {exc}"
        return [(None, not_checked(STANDARD, reason))], reason, None
    found = interpret(report, root, asset_paths)
    for path in skipped:
        full = f"{root}/{path}" if root else path
        found.append(
            (
                full,
                {
                    "field": "",
                    "message": "Larger than the archive reads for BIDS validation; only its "
                    "name and size were checked.",
                    "code": "BIDS.NOT_READ",
                    "severity": WARNING,
                    "standard": STANDARD,
                },
            )
        )
    return found, None, _summary(report)


def _dataset_blockers(session: Session, version_id: int) -> set[tuple[str, str]]:
    return set(
        session.execute(
            select(StandardFinding.code, StandardFinding.message).where(
                StandardFinding.version_id == version_id,
                StandardFinding.path.is_(None),
                StandardFinding.severity.in_(BLOCKING),
            )
        )
    )


def requeue_stuck(
    archive: Archive, session: Session, cutoff: datetime, *, restarted: bool = False
) -> None:
    """Queue again the runs a crash or a lost message left undone (the sweep): a queued
    check untouched since ``cutoff``, or a running one that has outlived the validator's
    timeout too (or whose process died: ``restarted``)."""
    running_cutoff = cutoff - timedelta(seconds=archive.settings.bids_validator_timeout_seconds)
    stuck = session.scalars(
        select(StandardCheck).where(
            StandardCheck.standard == STANDARD,
            or_(
                (StandardCheck.state == QUEUED) & (StandardCheck.updated <= cutoff),
                (StandardCheck.state == RUNNING)
                & (StandardCheck.updated <= (cutoff if restarted else running_cutoff)),
            ),
        )
    )
    for check in stuck:
        check.state = QUEUED
        check.updated = datetime.now(UTC)
        archive.defer(session, "check_bids", version_id=check.version_id, root=check.root)


def run_check(archive: Archive, version_id: int, root: str) -> None:
    """One run of the check of ``root`` in a draft (the ``check_bids`` job)."""
    with archive.db.session(write=True) as session:
        version = session.get(Version, version_id, with_for_update=True)
        check = session.get(StandardCheck, (version_id, STANDARD, root), with_for_update=True)
        if version is None or check is None or check.state != QUEUED:
            return
        check.state = RUNNING
        check.updated = datetime.now(UTC)
        generation = check.generation
        files = files_of(session, version_id, root)
    found, reason, summary = _validate(archive, root, files)
    with archive.db.session(write=True) as session:
        version = session.get(Version, version_id, with_for_update=True)
        check = session.get(StandardCheck, (version_id, STANDARD, root), with_for_update=True)
        if version is None or check is None:
            return  # the draft or the dataset went meanwhile
        check.updated = datetime.now(UTC)
        if check.generation != generation:
            check.state = QUEUED  # changed under this run: run once more
            archive.defer(session, "check_bids", version_id=version_id, root=root)
            return
        before = _dataset_blockers(session, version_id)
        session.execute(
            delete(StandardFinding).where(
                StandardFinding.version_id == version_id,
                StandardFinding.standard == STANDARD,
                StandardFinding.root == root,
            )
        )
        session.add_all(
            StandardFinding(
                version_id=version_id,
                standard=STANDARD,
                root=root,
                path=path,
                severity=f["severity"],
                code=f["code"],
                field=f["field"],
                message=f["message"],
            )
            for path, f in found
        )
        check.state = DONE
        check.outcome = NOT_CHECKED if reason else CHECKED
        check.reason = reason
        check.summary = summary
        session.flush()
        if _dataset_blockers(session, version_id) != before:
            # The draft's own verdict lists dataset-level findings: it must be redone.
            archive.defer(session, "revalidate_draft", version_id=version_id)
