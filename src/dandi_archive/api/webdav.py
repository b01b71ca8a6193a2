"""``/api/webdav/assets/atpath/``: what is at a path of a version, as upstream's WebDAV
view answers it (dandidav and other WebDAV front ends browse a Dandiset through it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from dandi_archive.api.assets import PageDep, asset_out, is_embargoed
from dandi_archive.api.deps import ArchiveDep, SessionDep, UserDep
from dandi_archive.api.pagination import paginated
from dandi_archive.assets import assets as service
from dandi_archive.dandisets.versions import get_readable_version
from dandi_archive.db.models import Asset, Dandiset
from dandi_archive.instance import Archive

router = APIRouter(prefix="/api/webdav", tags=["webdav"])


def asset_resource(
    archive: Archive, session: Session, asset: Asset, dandiset: Dandiset, metadata: bool
) -> dict[str, Any]:
    """Upstream's asset resource; ``metadata`` only when asked for, not as null."""
    out = asset_out(
        archive, asset, session=session if metadata else None, embargoed=is_embargoed(dandiset)
    )
    return out.model_dump(mode="json", exclude=None if metadata else {"metadata"})


@router.get("/assets/atpath/", summary="The asset or folder at a path, and its children")
def atpath(
    request: Request,
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    params: PageDep,
    dandiset_id: str = Query(description="The Dandiset, e.g. 000123"),
    version_id: str = Query(description="draft or a published version"),
    path: str = Query("", description="An asset's path or a folder's (ending '/' if a folder)"),
    metadata: bool = Query(False, description="Include each asset's full metadata"),
    children: bool = Query(False, description="List a folder's children after it"),
) -> dict[str, Any]:
    dandiset, version = get_readable_version(session, user, dandiset_id, version_id)
    found = service.at_path(session, version, path, children, params.offset, params.page_size)
    results: list[dict[str, Any]] = []
    for entry in found.entries:
        if entry.asset_id is None:
            folder = {
                "path": entry.path,
                "total_assets": entry.file_count,
                "total_size": entry.total_size,
            }
            results.append({"type": "folder", "resource": folder})
        else:
            asset = found.assets[entry.asset_id]
            resource = asset_resource(archive, session, asset, dandiset, metadata)
            results.append({"type": "asset", "resource": resource})
    has_next = params.offset + len(results) < found.count
    return paginated(request, params, found.count, results, has_next)
