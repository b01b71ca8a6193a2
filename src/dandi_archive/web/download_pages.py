"""What a landing page offers to take away: the citation in each format, a folder (or
the whole version) as one .zip, and the SHA-256 manifest of the same files.

Each is read with the rule every page and asset download applies
(``get_readable_version``): an embargoed Dandiset's files and citation only for its
owners, readers and administrators; anonymous visitors are sent to sign in.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from dandi_archive.api.deps import ArchiveDep, SessionDep
from dandi_archive.assets import bundles
from dandi_archive.dandisets import citations
from dandi_archive.dandisets import metadata as md
from dandi_archive.dandisets.versions import get_readable_version
from dandi_archive.db.models import Dandiset, Version
from dandi_archive.web.session import WebUser

router = APIRouter(include_in_schema=False)
V = "/dandiset/{dandiset_id}/{version}"
PATH = Query("", description="A folder of the version; empty for all of it")


def publisher() -> str:
    """Who publishes the data, as the APA citation in the metadata says it."""
    return f"{md.instance_name()} Archive"


def citation_work(version: Version) -> citations.Work:
    return citations.work(version.metadata_ or {}, publisher())


def _attachment(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(filename)}"


def _download_name(dandiset: Dandiset, version: Version, ending: str) -> str:
    return f"{md.instance_name().lower()}-{dandiset.identifier}-{version.version}{ending}"


def _add_citation_route(fmt: citations.Format) -> None:
    ending = "-CITATION.cff" if fmt.filename == "CITATION.cff" else fmt.filename[4:]

    @router.get(f"{V}/{fmt.filename}", name=f"cite_{fmt.name}")
    def cite(session: SessionDep, user: WebUser, dandiset_id: str, version: str) -> Response:
        dandiset, found = get_readable_version(session, user, dandiset_id, version)
        body = fmt.write(citation_work(found))
        headers = {"Content-Disposition": _attachment(_download_name(dandiset, found, ending))}
        return Response(body, media_type=fmt.media_type, headers=headers)


for _format in citations.FORMATS:
    _add_citation_route(_format)


@router.get(f"{V}/download.zip")
def download_zip(
    archive: ArchiveDep,
    session: SessionDep,
    user: WebUser,
    dandiset_id: str,
    version: str,
    path: str = PATH,
) -> Response:
    dandiset, found = get_readable_version(session, user, dandiset_id, version)
    limit = archive.settings.zip_download_max_bytes
    chosen = bundles.bundle(session, dandiset, found, path, max_bytes=limit)
    stream = bundles.zip_stream(archive.store, chosen)
    archive.downloads.add([dandiset.id])
    return StreamingResponse(
        stream,
        media_type="application/zip",
        headers={
            "Content-Length": str(len(stream)),
            "Content-Disposition": _attachment(f"{chosen.top}.zip"),
        },
    )


@router.get(f"{V}/SHA256SUMS")
def checksums(
    session: SessionDep, user: WebUser, dandiset_id: str, version: str, path: str = PATH
) -> Response:
    dandiset, found = get_readable_version(session, user, dandiset_id, version)
    chosen = bundles.bundle(session, dandiset, found, path)
    return PlainTextResponse(
        bundles.manifest(chosen),
        headers={"Content-Disposition": _attachment(f"{chosen.top}.sha256")},
    )
