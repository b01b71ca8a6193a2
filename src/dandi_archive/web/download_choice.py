"""The landing page's download section: pick a version (the draft, the latest or any
published one) and, optionally, a folder or one file; get the ``dandi download``
command for exactly that, the .zip link (when small enough) and the checksum manifest.

The choice travels in the page's query (``?get=<version>&path=<folder or file>``), so
it works without JavaScript and a link to it can be shared.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from dandi_archive.db.models import Dandiset, Folder, Version, VersionAsset
from dandi_archive.instance import Archive

SUBJECT = re.compile(r"(?:^|[/_])sub-([A-Za-z0-9]+)")
SESSION = re.compile(r"(?:^|[/_])ses-([A-Za-z0-9]+)")
MAX_COUNTED_PATHS = 50_000  # beyond, sessions are not counted on each page view


@dataclass(frozen=True)
class Option:
    value: str  # what ?get= carries: "draft", "latest" or a version
    label: str
    version: Version


@dataclass(frozen=True)
class Choice:
    options: list[Option]
    chosen: str  # the option's value
    version: Version
    path: str
    kind: str  # "version", "folder", "file" or "missing"
    command: str
    size: int
    zip_url: str | None  # None for a file, a missing path or a folder over the limit
    manifest_url: str | None
    file_url: str | None  # a single file's download
    too_large: bool


def options(versions: Iterable[Version], latest: Version | None) -> list[Option]:
    result = []
    for v in versions:
        if v.is_draft:
            result.insert(0, Option("draft", "Draft (may still change)", v))
    if latest is not None:
        result.append(Option("latest", f"Latest published ({latest.version})", latest))
    result += [Option(v.version, v.version, v) for v in versions if not v.is_draft]
    return result


def choose(
    archive: Archive,
    session: Session,
    dandiset: Dandiset,
    shown: Version,
    versions: list[Version],
    latest: Version | None,
    get: str | None,
    path: str | None,
) -> Choice:
    listed = options(versions, latest)
    picked = next((o for o in listed if o.value == get), None) or next(
        (o for o in listed if o.version.id == shown.id and o.value != "latest"),
        Option(shown.version, shown.version, shown),
    )
    version = picked.version
    path = (path or "").strip().strip("/")
    settings = archive.settings
    page = f"{settings.webui_url}/dandiset/{dandiset.identifier}/{version.version}"
    base = f"/dandiset/{dandiset.identifier}/{version.version}"
    kind, size, file_url = "version", 0, None
    asset_id = None
    if path:
        folder = session.get(Folder, (version.id, path))
        if folder is not None:
            kind, size = "folder", folder.total_size
        else:
            asset_id = session.scalar(
                select(VersionAsset.asset_id).where(
                    VersionAsset.version_id == version.id, VersionAsset.path == path
                )
            )
            kind = "file" if asset_id is not None else "missing"
    else:
        root = session.get(Folder, (version.id, ""))
        size = root.total_size if root else 0
    if kind == "file":
        url = f"{settings.api_url}/dandisets/{dandiset.identifier}/versions/{version.version}"
        # The client reads this path as written (it does not unquote it).
        command = f"dandi download {shlex.quote(f'{url}/assets/?path={path}')}"
        file_url = f"/api/assets/{asset_id}/download/"
    elif kind == "folder":
        command = f"dandi download {shlex.quote(f'{page}/files?location={quote(path)}/')}"
    else:
        command = f"dandi download {page}"
    too_large = size > settings.zip_download_max_bytes
    packable = kind in ("version", "folder")
    suffix = f"?path={quote(path, safe='/')}" if path else ""
    return Choice(
        options=listed,
        chosen=picked.value,
        version=version,
        path=path,
        kind=kind,
        command=command,
        size=size,
        zip_url=f"{base}/download.zip{suffix}" if packable and not too_large else None,
        manifest_url=f"{base}/SHA256SUMS{suffix}" if packable else None,
        file_url=file_url,
        too_large=packable and too_large,
    )


def subjects_and_sessions(session: Session, version: Version) -> tuple[int | None, int | None]:
    """Subjects (the assetsSummary's count) and sessions. dandischema's summary counts no
    sessions, so they are read from BIDS-style file names (``sub-X/…_ses-Y_…``): one per
    distinct subject and session pair; None when the names say nothing of sessions."""
    summary = (version.metadata_ or {}).get("assetsSummary") or {}
    subjects = summary.get("numberOfSubjects")
    root = session.get(Folder, (version.id, ""))
    if root is None or root.file_count > MAX_COUNTED_PATHS:
        return subjects, None
    pairs: set[tuple[str, str]] = set()
    found_subjects: set[str] = set()
    paths = session.scalars(select(VersionAsset.path).where(VersionAsset.version_id == version.id))
    for path in paths:
        subject = SUBJECT.search(path)
        if subject:
            found_subjects.add(subject[1])
            ses = SESSION.search(path)
            if ses:
                pairs.add((subject[1], ses[1]))
    if subjects is None and found_subjects:
        subjects = len(found_subjects)
    return subjects, len(pairs) or None
