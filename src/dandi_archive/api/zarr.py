"""``/api/zarr/``: Zarr archives, their files, and finalizing an upload."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from dandi_archive.api.deps import ArchiveDep, SessionDep, UserDep
from dandi_archive.api.pagination import Page, PageParams, page_params, paginated
from dandi_archive.api.schemas import ZarrCreate, ZarrFileOut, ZarrFilePage, ZarrOut
from dandi_archive.db.models import Zarr
from dandi_archive.zarr import zarrs as service

router = APIRouter(prefix="/api/zarr", tags=["zarr"])
PageDep = Annotated[PageParams, Depends(page_params)]
MAX_FILES_PAGE = 1000


def zarr_out(zarr: Zarr) -> ZarrOut:
    return ZarrOut(
        name=zarr.name,
        dandiset=f"{zarr.dandiset_id:06d}",
        zarr_id=zarr.id,
        status=zarr.status.value,
        checksum=zarr.checksum,
        file_count=zarr.file_count,
        size=zarr.size,
    )


@router.get("/", response_model=Page[ZarrOut], summary="List Zarrs")
def list_zarrs(
    request: Request,
    session: SessionDep,
    user: UserDep,
    params: PageDep,
    dandiset: str | None = Query(None, description="Only Zarrs of this Dandiset, e.g. 000123"),
    name: str | None = Query(None, description="Only the Zarr with this name"),
) -> dict:
    stmt = service.query_zarrs(session, user, dandiset, name)
    count, rows = service.page_of_zarrs(session, stmt, params.page, params.page_size)
    results = [zarr_out(z) for z in rows]
    return paginated(request, params, count, results, params.offset + len(results) < count)


@router.post("/", response_model=ZarrOut, summary="Create a Zarr in a Dandiset")
def create_zarr(
    archive: ArchiveDep, session: SessionDep, user: UserDep, body: ZarrCreate
) -> ZarrOut:
    return zarr_out(service.create_zarr(archive, session, user, body.name, body.dandiset))


@router.get("/{zarr_id}/", response_model=ZarrOut, summary="A Zarr: status and checksum")
def get_zarr(session: SessionDep, user: UserDep, zarr_id: str) -> ZarrOut:
    return zarr_out(service.get_zarr(session, user, zarr_id))


@router.api_route(
    "/{zarr_id}/files/",
    methods=["GET", "HEAD"],
    response_model=ZarrFilePage,
    summary="List the Zarr's files, or redirect to one",
    responses={302: {"description": "With download=true or HEAD: to the file (Location)"}},
)
@router.api_route(
    "/{zarr_id}/files", methods=["GET", "HEAD"], include_in_schema=False, name="list_files_"
)
def list_files(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    zarr_id: str,
    prefix: str = Query("", description="Only keys starting with this (relative to the Zarr)"),
    after: str = Query("", description="Continue after this key (cursor)"),
    limit: int = Query(MAX_FILES_PAGE, ge=1, le=MAX_FILES_PAGE, description="Keys per page"),
    download: bool = Query(False, description="Redirect to the file named by prefix"),
) -> Response:
    zarr = service.get_zarr(session, user, zarr_id)
    if download or request.method == "HEAD":
        url = service.file_url(archive, session, zarr, prefix, method=request.method)
        return RedirectResponse(url, status_code=302)
    found, more = service.list_files(archive, session, zarr, prefix, after, limit)
    base = zarr.key_prefix
    results = [
        ZarrFileOut(
            Key=info.key.removeprefix(base),
            LastModified=info.modified,
            ETag=info.etag,
            Size=info.size,
        ).model_dump(mode="json")
        for info in found
    ]
    following = None
    if more and results:
        following = str(request.url.include_query_params(after=results[-1]["Key"]))
    return JSONResponse({"next": following, "results": results})


@router.api_route(
    "/{zarr_id}/tree/{zarr_path:path}",
    methods=["GET", "HEAD"],
    summary="A file of the Zarr by its path: the Zarr as a store over plain HTTP",
    description=(
        "Redirects to the file's bytes; 404 for a path the Zarr does not hold. A published "
        "(frozen) Zarr opens like a live one: `zarr.open_group(FsspecStore.from_url("
        "'<API URL>/zarr/<id>/tree/'))`."
    ),
    responses={
        302: {"description": "To the file (Location)"},
        404: {"description": "No such file"},
    },
)
def tree_file(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    zarr_id: str,
    zarr_path: str,
) -> Response:
    zarr = service.get_zarr(session, user, zarr_id)
    url = service.stored_file_url(archive, session, zarr, zarr_path, method=request.method)
    return RedirectResponse(url, status_code=302)


@router.post("/{zarr_id}/files/", response_model=list[str], summary="Presigned upload URLs")
def upload_urls(
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    zarr_id: str,
    files: Annotated[Any, Body(description='[{"path": …, "base64md5": …}, …]')],
) -> list[str]:
    return service.request_upload_urls(archive, session, user, zarr_id, files)


@router.delete("/{zarr_id}/files/", status_code=204, summary="Delete files")
def delete_files(
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    zarr_id: str,
    files: Annotated[Any, Body(description='[{"path": …}, …]')],
) -> Response:
    service.delete_files(archive, session, user, zarr_id, files)
    return Response(status_code=204)


@router.post("/{zarr_id}/finalize/", status_code=204, summary="Compute the checksum")
def finalize(archive: ArchiveDep, session: SessionDep, user: UserDep, zarr_id: str) -> Response:
    service.finalize(archive, session, user, zarr_id)
    return Response(status_code=204)
