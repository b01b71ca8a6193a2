"""Assets: nested under a version (``…/versions/{v}/assets/``) and by id (``/api/assets/``)."""

from __future__ import annotations

import posixpath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from dandi_archive.api.deps import ArchiveDep, SessionDep, UserDep
from dandi_archive.api.pagination import Page, PageParams, page_params, paginated
from dandi_archive.api.schemas import AssetOut, AssetValidation, AssetWrite, PathAsset, PathEntryOut
from dandi_archive.assets import assets as service
from dandi_archive.assets.assets import dandisets_of_asset
from dandi_archive.dandisets import stats
from dandi_archive.dandisets.dandisets import get_dandiset
from dandi_archive.dandisets.versions import get_readable_version
from dandi_archive.db.models import Asset, Dandiset
from dandi_archive.errors import BadRequest, Conflict
from dandi_archive.instance import Archive

router = APIRouter(prefix="/api/dandisets/{dandiset_id}/versions/{version}/assets", tags=["assets"])
REDIRECT: dict[int | str, dict] = {302: {"description": "To the file's bytes (Location)"}}
by_id = APIRouter(prefix="/api/assets", tags=["assets"])
PageDep = Annotated[PageParams, Depends(page_params)]


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


def count_download(
    archive: Archive, request: Request, session: Session, asset: Asset, dandiset: Dandiset | None
) -> None:
    """Count a download: a GET that starts at the first byte (a reader's later ranges and
    HEAD requests are not new downloads)."""
    if request.method != "GET" or not request.headers.get("range", "bytes=0-").startswith(
        "bytes=0-"
    ):
        return
    dandisets = [dandiset] if dandiset else dandisets_of_asset(session, asset)
    stats.count_download(archive, [d.id for d in dandisets])


# -- nested under a version -----------------------------------------------------------------


@router.get(
    "/", response_model=Page[AssetOut], response_model_exclude_none=False, summary="List assets"
)
def list_assets(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    version: str,
    params: PageDep,
    path: str | None = Query(None, description="Path prefix (or the exact path of one asset)"),
    glob: str | None = Query(None, description="Pattern over paths; '*' and '?' are wildcards"),
    metadata: bool = Query(False, description="Include each asset's full metadata"),
    zarr: bool = Query(False, description="Only Zarr assets"),
    order: str | None = Query(
        None, description="path (default), created or modified; '-' reverses"
    ),
) -> JSONResponse:
    dandiset, found = get_readable_version(session, user, dandiset_id, version)
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
    embargoed = is_embargoed(get_dandiset(session, dandiset_id))
    return asset_out(archive, asset, session=session, embargoed=embargoed)


@router.get("/paths/", response_model=Page[PathEntryOut], summary="Folders and files in a folder")
def list_paths(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    version: str,
    params: PageDep,
    path_prefix: str = Query("", description="Folder to list; empty for the root"),
) -> dict:
    _, found = get_readable_version(session, user, dandiset_id, version)
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


@router.get("/{asset_id}/", summary="Full metadata of an asset")
def get_asset_metadata(
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    version: str,
    asset_id: str,
) -> dict[str, Any]:
    dandiset, found = get_readable_version(session, user, dandiset_id, version)
    asset = service.get_asset_in_version(session, found, asset_id)
    return full_metadata(archive, session, asset, is_embargoed(dandiset))


@router.put("/{asset_id}/", response_model=AssetOut, summary="Replace an asset of the draft")
def update_asset(
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    version: str,
    asset_id: str,
    body: AssetWrite,
) -> AssetOut:
    asset = service.update_asset(
        archive,
        session,
        user,
        dandiset_id,
        version,
        asset_id,
        body.metadata,
        body.blob_id,
        body.zarr_id,
    )
    embargoed = is_embargoed(get_dandiset(session, dandiset_id))
    return asset_out(archive, asset, session=session, embargoed=embargoed)


@router.delete("/{asset_id}/", status_code=204, summary="Remove an asset from the draft")
def delete_asset(
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    version: str,
    asset_id: str,
) -> Response:
    service.remove_asset(archive, session, user, dandiset_id, version, asset_id)
    return Response(status_code=204)


@router.get("/{asset_id}/info/", response_model=AssetOut, summary="An asset with its metadata")
def get_asset_info(
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    version: str,
    asset_id: str,
) -> AssetOut:
    dandiset, found = get_readable_version(session, user, dandiset_id, version)
    asset = service.get_asset_in_version(session, found, asset_id)
    return asset_out(archive, asset, session=session, embargoed=is_embargoed(dandiset))


@router.get("/{asset_id}/validation/", response_model=AssetValidation, summary="Validation state")
def get_asset_validation(
    session: SessionDep, user: UserDep, dandiset_id: str, version: str, asset_id: str
) -> AssetValidation:
    _, found = get_readable_version(session, user, dandiset_id, version)
    asset = service.get_asset_in_version(session, found, asset_id)
    return AssetValidation(
        status=asset.status.value, validation_errors=asset.validation_errors or []
    )


@router.api_route(
    "/{asset_id}/download/",
    methods=["GET", "HEAD"],
    summary="Download (redirect)",
    responses=REDIRECT,
)
def download_nested(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    version: str,
    asset_id: str,
    content_disposition: Literal["attachment", "inline"] = "attachment",
) -> RedirectResponse:
    dandiset, found = get_readable_version(session, user, dandiset_id, version)
    asset = service.get_asset_in_version(session, found, asset_id)
    response = download_redirect(archive, asset, content_disposition)
    count_download(archive, request, session, asset, dandiset)
    return response


# -- by asset id ----------------------------------------------------------------------------


@by_id.get("/{asset_id}/", summary="Full metadata of an asset")
def asset_metadata(
    archive: ArchiveDep, session: SessionDep, user: UserDep, asset_id: str
) -> dict[str, Any]:
    asset, embargoed = service.get_readable_asset(session, user, asset_id)
    return full_metadata(archive, session, asset, embargoed)


@by_id.api_route(
    "/{asset_id}/info/", methods=["GET", "HEAD"], response_model=AssetOut, summary="Asset"
)
def asset_info(archive: ArchiveDep, session: SessionDep, user: UserDep, asset_id: str) -> AssetOut:
    asset, embargoed = service.get_readable_asset(session, user, asset_id)
    return asset_out(archive, asset, session=session, embargoed=embargoed)


@by_id.api_route(
    "/{asset_id}/download/",
    methods=["GET", "HEAD"],
    summary="Download (redirect)",
    responses=REDIRECT,
)
def asset_download(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    asset_id: str,
    content_disposition: Literal["attachment", "inline"] = "attachment",
) -> RedirectResponse:
    asset, _ = service.get_readable_asset(session, user, asset_id)
    response = download_redirect(archive, asset, content_disposition)
    count_download(archive, request, session, asset, None)
    return response
