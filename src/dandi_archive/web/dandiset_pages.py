"""Reading a Dandiset: its landing page per version, its files and each file."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import is_owner
from dandi_archive.api.deps import ArchiveDep, SessionDep
from dandi_archive.assets import assets as asset_service
from dandi_archive.containers import facts as container_facts
from dandi_archive.containers import software as container_software
from dandi_archive.dandisets import citations, dois, stars
from dandi_archive.dandisets import dandisets as dandiset_service
from dandi_archive.dandisets import metadata as md
from dandi_archive.dandisets import versions as version_service
from dandi_archive.dandisets.folders import version_totals
from dandi_archive.db.models import Dandiset, Folder, User, Version
from dandi_archive.db.search import SearchFacet
from dandi_archive.embargo import requests as access_requests
from dandi_archive.harvest import records as harvest_records
from dandi_archive.harvest import signposting
from dandi_archive.instance import Archive
from dandi_archive.publishing import publish as publish_service
from dandi_archive.publishing.manifests import manifest_prefix
from dandi_archive.standards import findings as standard_findings
from dandi_archive.standards import nwb as nwb_standard
from dandi_archive.web import download_choice, jsonld, viewers
from dandi_archive.web.download_pages import citation_work
from dandi_archive.web.embargo_pages import request_page
from dandi_archive.web.session import WebUser
from dandi_archive.web.templating import render

router = APIRouter(include_in_schema=False)
MAX_SHOWN_WARNINGS = 100
FILES_PER_PAGE = 100


def shown_version(session: Session, dandiset: Dandiset, version: str | None) -> Version:
    """The requested version, or the newest published one, or the draft."""
    if version:
        return version_service.get_version(session, dandiset, version)
    drafts, published = dandiset_service.versions_for_listing(session, [dandiset.id])
    return published.get(dandiset.id) or drafts[dandiset.id]


def facet_values(session: Session, dandiset: Dandiset, version: Version) -> dict[str, list[str]]:
    """Species, approaches, ... of a version: from its assetsSummary when that lists them
    (published metadata may), else from the search index, which follows the draft."""
    summary = version.metadata_.get("assetsSummary") or {}
    values: dict[str, list[str]] = {}
    for facet, key in (
        ("species", "species"),
        ("approach", "approach"),
        ("technique", "measurementTechnique"),
        ("standard", "dataStandard"),
    ):
        names = [i.get("name") for i in summary.get(key) or [] if isinstance(i, dict)]
        if names:
            values[facet] = [n for n in names if n]
    if summary.get("variableMeasured"):
        values["variable"] = list(summary["variableMeasured"])
    if values:
        return values
    rows = session.execute(
        select(SearchFacet.facet, SearchFacet.value)
        .where(SearchFacet.dandiset_id == dandiset.id, SearchFacet.files > 0)
        .order_by(SearchFacet.value)
    )
    for facet, value in rows:
        values.setdefault(facet, []).append(value)
    return values


def download_command(archive: Archive, dandiset: Dandiset, version: Version) -> str:
    url = f"{archive.settings.webui_url}/dandiset/{dandiset.identifier}/{version.version}"
    return f"dandi download {url}"


def landing_context(
    archive: Archive,
    session: Session,
    user: User | None,
    dandiset: Dandiset,
    version: Version,
    get: str | None = None,
    path: str | None = None,
) -> dict[str, Any]:
    meta = version.metadata_ or {}
    versions = list(session.scalars(version_service.list_versions(session, dandiset, "-created")))
    # The shown version may be a withdrawn one, which the list leaves out.
    totals = version_totals(session, [v.id for v in versions] + [version.id])
    owner = is_owner(session, dandiset.id, user)
    values = facet_values(session, dandiset, version)
    settings = archive.settings
    url = f"{settings.webui_url}/dandiset/{dandiset.identifier}/{version.version}"
    doc = jsonld.dataset(
        {**meta, "name": version.name},
        url=url,
        catalog_name=md.instance_name(),
        catalog_url=settings.webui_url,
        open_access=dandiset.embargo_status == "OPEN",
        size=totals[version.id][1],
        species=values.get("species", []),
        techniques=values.get("technique", []),
    )
    errors: dict[str, Any] = {}
    refusal = None
    standards: dict[str, Any] = {}
    if owner and version.is_draft:
        errors = {
            "version": version.validation_errors or [],
            "assets": version_service.asset_validation_errors(session, version),
        }
        # What data standards' validators (BIDS) said: their state and their advice.
        standards = {
            "checks": standard_findings.checks(session, version.id),
            "warnings": standard_findings.warnings(session, version.id, MAX_SHOWN_WARNINGS),
            "counts": standard_findings.counts(session, version.id),
        }
        # The rule publishing applies, so "Publish…" is offered only when it can succeed.
        refusal = publish_service.publish_refusal(session, dandiset, version)
    can_edit = owner and user is not None and user.is_approved and version.is_draft
    _, newest = dandiset_service.versions_for_listing(session, [dandiset.id])
    latest = newest.get(dandiset.id)
    subjects, sessions = download_choice.subjects_and_sessions(session, version)
    return {
        "dandiset": dandiset,
        "version": version,
        "meta": meta,
        "versions": versions,
        "totals": totals,
        "owners": dandiset_service.owners(session, dandiset),
        "is_owner": owner,
        "can_edit": can_edit,
        "publish_refusal": refusal,
        "can_publish": can_edit and refusal is None,
        "latest": latest,
        "doi": None if version.is_draft else dois.describe(session, version),
        "values": values,
        "download_command": download_command(archive, dandiset, version),
        "citations": [(f, f.write(citation_work(version))) for f in citations.FORMATS],
        "choice": download_choice.choose(
            archive, session, dandiset, version, versions, latest, get, path
        ),
        "zip_limit": settings.zip_download_max_bytes,
        "subjects": subjects,
        "sessions": sessions,
        "stars": stars.star_infos(session, [dandiset.id], user)[dandiset.id],
        # Writing to the owners: approved accounts other than the owners themselves.
        "can_contact": user is not None and user.is_approved and not owner,
        "jsonld": Markup(jsonld.script_json(doc)),  # escaped for <script> by script_json
        "canonical_url": url,
        "errors": errors,
        "standards": standards,
        "api_url": settings.api_url,
        "software": container_software.listing(session, version.id, settings.api_url),
        "pending_requests": (
            len(access_requests.pending_requests(session, dandiset))
            if owner and dandiset.embargo_status != "OPEN"
            else 0
        ),
    }


@router.get("/dandiset/{dandiset_id}", response_class=HTMLResponse)
@router.get("/dandiset/{dandiset_id}/{version}", response_class=HTMLResponse)
def landing(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    version: str | None = None,
    get: str | None = None,
    path: str | None = None,
) -> Response:
    dandiset = dandiset_service.get_dandiset(session, dandiset_id)
    if (asking := request_page(request, session, user, dandiset)) is not None:
        return asking
    dandiset = dandiset_service.get_readable_dandiset(session, dandiset_id, user)
    shown = shown_version(session, dandiset, version)
    page = render(
        request,
        "dandiset.html",
        **landing_context(archive, session, user, dandiset, shown, get, path),
    )
    if dandiset.embargo_status == "OPEN":
        page.headers["Link"] = signposts(archive, session, dandiset, shown)
    return page


# RO-Crate 1.2's profile URI: a typed link with it tells a harvester that this JSON-LD
# is the crate, not the plain metadata.
RO_CRATE_PROFILE = "https://w3id.org/ro/crate"


def signposts(archive: Archive, session: Session, dandiset: Dandiset, version: Version) -> str:
    """The landing page's FAIR Signposting links (open Dandisets only)."""
    settings = archive.settings
    meta = version.metadata_ or {}
    api = f"{settings.api_url}/dandisets/{dandiset.identifier}/versions/{version.version}/"
    described_by: list[tuple[str, str] | tuple[str, str, str]] = [
        (api, "application/ld+json"),
        (f"{api}ro-crate-metadata.json", "application/ld+json", RO_CRATE_PROFILE),
    ]
    if not version.is_draft:
        prefix = manifest_prefix(dandiset.identifier, version.version)
        manifest = archive.store.public_url(prefix + "dandiset.jsonld")
        described_by.append((manifest, "application/ld+json"))
    files = harvest_records.first_files(session, version.id, signposting.MAX_ITEMS)
    return signposting.link_header(
        landing_url=f"{settings.webui_url}/dandiset/{dandiset.identifier}/{version.version}",
        described_by=described_by,
        doi=None if version.is_draft else meta.get("doi"),
        licences=meta.get("license") or [],
        items=[
            signposting.Item(f"{settings.api_url}/assets/{asset_id}/download/", media_type)
            for asset_id, media_type in files
        ],
    )


def breadcrumbs(path: str) -> list[tuple[str, str]]:
    """(name, folder path) of each folder above and including ``path``."""
    parts = [p for p in path.split("/") if p]
    return [(part, "/".join(parts[: i + 1])) for i, part in enumerate(parts)]


@router.get("/dandiset/{dandiset_id}/{version}/files", response_class=HTMLResponse)
def files(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    version: str,
    location: str = "",
    page: int = 1,
) -> HTMLResponse:
    dandiset, found = version_service.get_readable_version(session, user, dandiset_id, version)
    location = location.strip("/")
    page = max(page, 1)
    count, entries = asset_service.list_folder(session, found, location, page, FILES_PER_PAGE)
    pages = max(1, -(-count // FILES_PER_PAGE))
    folder = session.get(Folder, (found.id, location))
    return render(
        request,
        "files.html",
        folder_size=folder.total_size if folder else 0,
        zip_limit=archive.settings.zip_download_max_bytes,
        dandiset=dandiset,
        version=found,
        location=location,
        crumbs=breadcrumbs(location),
        entries=entries,
        count=count,
        page=page,
        pages=pages,
    )


def nwb_summary(meta: dict[str, Any]) -> dict[str, Any]:
    """Session, subject and data types of an NWB file, from its asset metadata."""
    subjects = [a for a in meta.get("wasAttributedTo") or [] if isinstance(a, dict)]
    sessions = [
        a
        for a in meta.get("wasGeneratedBy") or []
        if isinstance(a, dict) and a.get("schemaKey") == "Session"
    ]
    return {
        "subjects": [
            {
                "id": s.get("identifier", ""),
                "species": (s.get("species") or {}).get("name", ""),
                "sex": (s.get("sex") or {}).get("name", ""),
                "age": (s.get("age") or {}).get("value", ""),
            }
            for s in subjects
        ],
        "sessions": [
            {
                "id": s.get("identifier", ""),
                "name": s.get("name", ""),
                "description": s.get("description", ""),
                "start": s.get("startDate", ""),
            }
            for s in sessions
        ],
        "types": [v.get("value") for v in meta.get("variableMeasured") or [] if v.get("value")],
        "techniques": [t.get("name") for t in meta.get("measurementTechnique") or []],
        "approaches": [t.get("name") for t in meta.get("approach") or []],
    }


@router.get("/dandiset/{dandiset_id}/{version}/files/{asset_id}", response_class=HTMLResponse)
def asset(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    version: str,
    asset_id: str,
) -> HTMLResponse:
    dandiset, found = version_service.get_readable_version(session, user, dandiset_id, version)
    item = asset_service.get_asset_in_version(session, found, asset_id)
    embargoed = dandiset.embargo_status != "OPEN"
    meta = asset_service.documents(archive, session, [item], embargoed=embargoed)[0]
    owner = is_owner(session, dandiset.id, user)
    return render(
        request,
        "asset.html",
        dandiset=dandiset,
        version=found,
        asset=item,
        meta=meta,
        crumbs=breadcrumbs(item.path.rpartition("/")[0]),
        name=item.path.rpartition("/")[2],
        nwb=nwb_summary(meta),
        image=meta.get("ngff"),
        thumbnail=(item.zarr.ngff or {}).get("thumbnail") if item.zarr else None,
        is_owner=owner,
        # What data standards' validators (BIDS) found of this file, for its owners.
        standard_findings=(
            standard_findings.asset_findings(session, found.id, item.path) if owner else []
        ),
        api_url=archive.settings.api_url,
        viewers=_viewers(archive, dandiset, found, item, meta, embargoed),
        embargoed=embargoed,
        warnings=container_facts.asset_warnings(item.path, item.blob and item.blob.container),
        inspection=nwb_standard.summary(nwb_standard.inspection_of(session, item)),
        importance=IMPORTANCE,
    )


# The NWB Inspector's importance levels as the file page says them.
IMPORTANCE = {
    "ERROR": "Check failed",
    "PYNWB_VALIDATION": "Schema error",
    "CRITICAL": "Critical",
    "BEST_PRACTICE_VIOLATION": "Best practice violation",
    "BEST_PRACTICE_SUGGESTION": "Suggestion",
}


def _viewers(
    archive: Archive,
    dandiset: Dandiset,
    version: Version,
    item: Any,
    meta: dict[str, Any],
    embargoed: bool,
) -> list[viewers.Viewer]:
    if embargoed or not archive.settings.external_viewers:
        return []
    key = item.blob.key if item.blob else item.zarr.key_prefix if item.zarr else None
    return viewers.viewers_for(
        path=item.path,
        encoding_format=meta.get("encodingFormat"),
        public_url=archive.store.public_url(key) if key else None,
        dandiset=dandiset.identifier,
        version=version.version,
    )
