"""Assets: nested under a version (``…/versions/{v}/assets/``) and by id (``/api/assets/``).

The read routes both URL forms have (metadata, info, download) are written once, in
:func:`add_read_routes`: each form only says how it finds the asset (a dependency giving
a :class:`Found`) and keeps its own route names, so the operation ids stay as they were.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from dandi_archive.api import linked
from dandi_archive.api.deps import ArchiveDep, SessionDep, UserDep
from dandi_archive.api.pagination import Page, PageParams, page_params, paginated
from dandi_archive.api.schemas import AssetOut, AssetValidation, AssetWrite, PathAsset, PathEntryOut
from dandi_archive.assets import assets as service
from dandi_archive.containers import facts as container_facts
from dandi_archive.dandisets.dandisets import get_dandiset
from dandi_archive.dandisets.versions import get_readable_version
from dandi_archive.db.models import Asset, AssetStatus, Dandiset, Version
from dandi_archive.errors import BadRequest, Conflict
from dandi_archive.instance import Archive
from dandi_archive.standards import BLOCKING, nwb
from dandi_archive.standards import findings as standard_findings

router = APIRouter(prefix="/api/dandisets/{dandiset_id}/versions/{version}/assets", tags=["assets"])
REDIRECT: dict[int | str, dict] = {302: {"description": "To the file's bytes (Location)"}}
by_id = APIRouter(prefix="/api/assets", tags=["assets"])
PageDep = Annotated[PageParams, Depends(page_params)]


@dataclass(frozen=True)
class Found:
    """An asset the caller may read, found through either URL form."""

    asset: Asset
    embargoed: bool
    # The Dandiset named in the URL, or (for /api/assets/{id}/) every one holding it:
    # a download counts for each.
    dandisets: list[Dandiset]
    version: Version | None = None  # the version named in the URL; None for /api/assets/{id}/


def readable_version(
    session: SessionDep, user: UserDep, dandiset_id: str, version: str
) -> tuple[Dandiset, Version]:
    """The version named in the URL, if the caller may read it."""
    return get_readable_version(session, user, dandiset_id, version)


@dataclass(frozen=True)
class AssetAddress:
    """The path parameters naming an asset of a version."""

    dandiset_id: str
    version: str
    asset_id: str


async def asset_address(dandiset_id: str, version: str, asset_id: str) -> AssetAddress:
    """A dependency, so the routes list the path parameters in URL order (async: no
    thread-pool hand-off)."""
    return AssetAddress(dandiset_id, version, asset_id)


AddressDep = Annotated[AssetAddress, Depends(asset_address)]


def asset_in_version(session: SessionDep, user: UserDep, address: AddressDep) -> Found:
    """An asset of a version the caller may read."""
    dandiset, found = get_readable_version(session, user, address.dandiset_id, address.version)
    asset = service.get_asset_in_version(session, found, address.asset_id)
    return Found(asset, is_embargoed(dandiset), [dandiset], found)


def asset_by_id(session: SessionDep, user: UserDep, asset_id: str) -> Found:
    """An asset by id alone, if the caller may read it (see get_readable_asset)."""
    asset, embargoed, dandisets = service.get_readable_asset(session, user, asset_id)
    return Found(asset, embargoed, dandisets)


VersionDep = Annotated[tuple[Dandiset, Version], Depends(readable_version)]
InVersionDep = Annotated[Found, Depends(asset_in_version)]


def is_embargoed(dandiset: Dandiset) -> bool:
    return dandiset.embargo_status != "OPEN"


def full_metadata(
    archive: Archive, session: Session, asset: Asset, embargoed: bool
) -> dict[str, Any]:
    return service.documents(archive, session, [asset], embargoed=embargoed)[0]


def asset_out(
    archive: Archive,
    asset: Asset,
    *,
    session: Session | None = None,
    embargoed: bool = False,
) -> AssetOut:
    """An asset for the API; with its full metadata when given a ``session``."""
    return AssetOut(
        asset_id=asset.id,
        blob=asset.blob_id,
        zarr=asset.zarr_id,
        path=asset.path,
        size=asset.size,
        created=asset.created,
        modified=asset.modified,
        metadata=full_metadata(archive, session, asset, embargoed) if session else None,
    )


def written_asset_out(
    archive: Archive, session: Session, dandiset_id: str, asset: Asset
) -> AssetOut:
    """The answer to adding or replacing an asset of a draft: the asset as stored."""
    embargoed = is_embargoed(get_dandiset(session, dandiset_id))
    return asset_out(archive, asset, session=session, embargoed=embargoed)


def download_redirect(
    archive: Archive, asset: Asset, disposition: str = "attachment"
) -> RedirectResponse:
    if asset.zarr_id is not None:
        raise BadRequest(
            "A Zarr asset is a tree of files, not one file: list them with "
            f"/api/zarr/{asset.zarr_id}/files and download each."
        )
    if asset.blob is None:
        raise BadRequest("This asset has no blob to download.")
    if asset.blob.fixity_ok is False:
        raise Conflict(
            "This file failed its integrity check and is not served; the archive's "
            "administrators have been alerted."
        )
    filename = posixpath.basename(asset.path) if disposition == "attachment" else None
    url = archive.store.presign_download(
        asset.blob.key, archive.settings.download_url_expiry_seconds, filename
    )
    return RedirectResponse(url, status_code=302)


def count_download(archive: Archive, request: Request, dandisets: list[Dandiset]) -> None:
    """Count a download: a GET that starts at the first byte (a reader's later ranges and
    HEAD requests are not new downloads)."""
    if request.method != "GET" or not request.headers.get("range", "bytes=0-").startswith(
        "bytes=0-"
    ):
        return
    archive.downloads.add(d.id for d in dandisets)


# -- the read routes of both URL forms --------------------------------------------------------


@dataclass(frozen=True)
class ReadRouteNames:
    """What differs between the two forms' read routes: the names (the operation ids are
    made from them) and, kept as they were published, the info route's methods and title."""

    metadata: str
    info: str
    download: str
    info_methods: tuple[str, ...]
    info_summary: str


def add_read_routes(target: APIRouter, locate: Callable[..., Found], names: ReadRouteNames) -> None:
    """Register metadata, info and download on ``target``, finding the asset with the
    dependency ``locate`` (whose parameters become the routes' path parameters)."""
    # ``Depends`` as a default, not in ``Annotated``: these functions are local, and the
    # module's postponed annotations are resolved in its globals, where ``locate`` is not.

    @target.get(
        "/{asset_id}/",
        summary="Full metadata of an asset",
        name=names.metadata,
        responses=linked.RESPONSES,
    )
    def metadata(
        request: Request,
        response: Response,
        archive: ArchiveDep,
        session: SessionDep,
        found: Found = Depends(locate),
    ) -> dict[str, Any]:
        document = full_metadata(archive, session, found.asset, found.embargoed)
        return linked.negotiated(request, response, archive, document)  # type: ignore[return-value]

    @target.api_route(
        "/{asset_id}/info/",
        methods=list(names.info_methods),
        response_model=AssetOut,
        summary=names.info_summary,
        name=names.info,
    )
    def info(archive: ArchiveDep, session: SessionDep, found: Found = Depends(locate)) -> AssetOut:
        return asset_out(archive, found.asset, session=session, embargoed=found.embargoed)

    @target.api_route(
        "/{asset_id}/download/",
        methods=["GET", "HEAD"],
        summary="Download (redirect)",
        responses=REDIRECT,
        name=names.download,
    )
    def download(
        request: Request,
        archive: ArchiveDep,
        session: SessionDep,
        found: Found = Depends(locate),
        content_disposition: Literal["attachment", "inline"] = "attachment",
    ) -> RedirectResponse:
        response = download_redirect(archive, found.asset, content_disposition)
        count_download(archive, request, found.dandisets)
        return response


# -- nested under a version -----------------------------------------------------------------


@router.get(
    "/", response_model=Page[AssetOut], response_model_exclude_none=False, summary="List assets"
)
def list_assets(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    readable: VersionDep,
    params: PageDep,
    path: str | None = Query(None, description="Path prefix (or the exact path of one asset)"),
    glob: str | None = Query(None, description="Pattern over paths; '*' and '?' are wildcards"),
    metadata: bool = Query(False, description="Include each asset's full metadata"),
    zarr: bool = Query(False, description="Only Zarr assets"),
    order: str | None = Query(
        None, description="path (default), created or modified; '-' reverses"
    ),
) -> JSONResponse:
    dandiset, found = readable
    page = service.list_assets(
        session,
        found,
        path=path,
        glob=glob,
        order=order,
        page=params.page,
        page_size=params.page_size,
        with_metadata=metadata,
        zarr_only=zarr,
    )
    embargoed = is_embargoed(dandiset)
    # Built directly: without metadata=true the key is left out, not sent as null. The
    # metadata dicts are already plain JSON and are attached as they are: having
    # pydantic walk and re-encode a thousand nested documents per page was a fifth of
    # the cost of a metadata=true page.
    results = [
        asset_out(archive, asset).model_dump(mode="json", exclude={"metadata"})
        for asset in page.assets
    ]
    if metadata:
        documents = service.documents(archive, session, page.assets, embargoed=embargoed)
        for result, document in zip(results, documents, strict=True):
            result["metadata"] = document
    return JSONResponse(paginated(request, params, page.count, results, page.has_next))


@router.post("/", response_model=AssetOut, summary="Add an asset to the draft")
def create_asset(
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    version: str,
    body: AssetWrite,
) -> AssetOut:
    asset = service.add_asset(
        archive, session, user, dandiset_id, version, body.metadata, body.blob_id, body.zarr_id
    )
    return written_asset_out(archive, session, dandiset_id, asset)


@router.get("/paths/", response_model=Page[PathEntryOut], summary="Folders and files in a folder")
def list_paths(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    readable: VersionDep,
    params: PageDep,
    path_prefix: str = Query("", description="Folder to list; empty for the root"),
) -> dict:
    _, found = readable
    count, entries = service.list_folder(session, found, path_prefix, params.page, params.page_size)
    results = [
        PathEntryOut(
            path=e.path,
            version=found.id,
            aggregate_files=e.file_count,
            aggregate_size=e.total_size,
            asset=PathAsset(
                asset_id=e.asset_id, url=f"{archive.settings.api_url}/assets/{e.asset_id}/download/"
            )
            if e.asset_id
            else None,
        )
        for e in entries
    ]
    return paginated(request, params, count, results, params.offset + len(results) < count)


add_read_routes(
    router,
    asset_in_version,
    ReadRouteNames(
        metadata="get_asset_metadata",
        info="get_asset_info",
        download="download_nested",
        info_methods=("GET",),
        info_summary="An asset with its metadata",
    ),
)


@router.put("/{asset_id}/", response_model=AssetOut, summary="Replace an asset of the draft")
def update_asset(
    archive: ArchiveDep, session: SessionDep, user: UserDep, address: AddressDep, body: AssetWrite
) -> AssetOut:
    asset = service.update_asset(
        archive,
        session,
        user,
        address.dandiset_id,
        address.version,
        address.asset_id,
        body.metadata,
        body.blob_id,
        body.zarr_id,
    )
    return written_asset_out(archive, session, address.dandiset_id, asset)


@router.delete("/{asset_id}/", status_code=204, summary="Remove an asset from the draft")
def delete_asset(
    archive: ArchiveDep, session: SessionDep, user: UserDep, address: AddressDep
) -> Response:
    dandiset_id, version, asset_id = address.dandiset_id, address.version, address.asset_id
    service.remove_asset(archive, session, user, dandiset_id, version, asset_id)
    return Response(status_code=204)


@router.get("/{asset_id}/validation/", response_model=AssetValidation, summary="Validation state")
def get_asset_validation(session: SessionDep, found: InVersionDep) -> AssetValidation:
    """The asset's metadata errors and what data standards' validators found of it: BIDS
    findings in this version (errors make the asset Invalid) and, for an NWB file, the
    NWB Inspector's run (its critical findings are already among the asset's errors);
    advice and warnings are listed apart."""
    asset = found.asset
    assert found.version is not None
    standard = standard_findings.asset_findings(session, found.version.id, asset.path)
    blocking = [f for f in standard if f["severity"] in BLOCKING]
    status = asset.status.value
    if blocking and asset.status == AssetStatus.VALID:
        status = AssetStatus.INVALID.value
    inspection = nwb.inspection_of(session, asset)
    return AssetValidation(
        status=status,
        validation_errors=[*(asset.validation_errors or []), *blocking],
        validation_warnings=[
            *(f for f in standard if f["severity"] not in BLOCKING),
            *nwb.advice(inspection),
            *container_facts.asset_warnings(
                asset.path, asset.blob.container if asset.blob else None
            ),
        ],
        nwb_inspection=nwb.summary(inspection),
    )


# -- by asset id ----------------------------------------------------------------------------

add_read_routes(
    by_id,
    asset_by_id,
    ReadRouteNames(
        metadata="asset_metadata",
        info="asset_info",
        download="asset_download",
        info_methods=("GET", "HEAD"),
        info_summary="Asset",
    ),
)
