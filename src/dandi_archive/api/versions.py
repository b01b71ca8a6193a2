"""``/api/dandisets/{id}/versions/``: versions, their metadata and validation state."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dandi_archive.api import linked
from dandi_archive.api.dandisets import active_uploads
from dandi_archive.api.deps import ArchiveDep, SessionDep, UserDep
from dandi_archive.api.pagination import Page, PageParams, page_params, paginated
from dandi_archive.api.schemas import (
    PublishRequest,
    VersionInfo,
    VersionListItem,
    VersionUpdate,
    dandiset_summary,
    version_detail,
)
from dandi_archive.dandisets import dois, stars
from dandi_archive.dandisets import metadata as md
from dandi_archive.dandisets import versions as service
from dandi_archive.dandisets.dandisets import get_readable_dandiset
from dandi_archive.dandisets.folders import version_totals
from dandi_archive.db.models import Dandiset, User, Version
from dandi_archive.errors import MethodNotAllowed
from dandi_archive.harvest import croissant
from dandi_archive.publishing import publish, withdraw
from dandi_archive.standards import findings as standard_findings

router = APIRouter(prefix="/api/dandisets/{dandiset_id}/versions", tags=["versions"])
MAX_LISTED_WARNINGS = 200


def version_items(
    session: Session, dandiset: Dandiset, versions: list[Version], user: User | None
) -> list[VersionListItem]:
    totals = version_totals(session, [v.id for v in versions])
    uploads = active_uploads(session, [dandiset.id]).get(dandiset.id, 0)
    star_info = stars.star_infos(session, [dandiset.id], user)[dandiset.id]
    summary = dandiset_summary(dandiset, versions[-1].metadata_ if versions else {}, star_info)
    return [
        VersionListItem(**version_detail(v, totals[v.id], uploads).model_dump(), dandiset=summary)
        for v in versions
    ]


def version_info(
    session: Session, dandiset: Dandiset, version: Version, user: User | None
) -> VersionInfo:
    item = version_items(session, dandiset, [version], user)[0]
    return VersionInfo(
        **item.model_dump(),
        asset_validation_errors=service.asset_validation_errors(session, version),
        version_validation_errors=version.validation_errors or [],
        validation_warnings=standard_findings.warnings(session, version.id, MAX_LISTED_WARNINGS),
        metadata=version.metadata_,
        contact_person=md.contact_person(version.metadata_),
        doi=dois.describe(session, version),
    )


@router.get("/", response_model=Page[VersionListItem], summary="Versions of a Dandiset")
def list_versions(
    request: Request,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    params: Annotated[PageParams, Depends(page_params)],
    order: str | None = Query(None, description="'created' (default) or '-created'"),
) -> dict:
    dandiset = get_readable_dandiset(session, dandiset_id, user)
    query = service.list_versions(session, dandiset, order)
    count = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    versions = list(session.scalars(query.offset(params.offset).limit(params.page_size)))
    results = version_items(session, dandiset, versions, user)
    return paginated(request, params, count, results, params.offset + len(results) < count)


@router.get(
    "/{version}/",
    summary="Metadata of a version (as stored, computed fields included)",
    responses=linked.RESPONSES,
)
def get_version_metadata(
    request: Request,
    response: Response,
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    version: str,
) -> dict[str, Any]:
    _, found = service.get_readable_version(session, user, dandiset_id, version)
    return linked.negotiated(request, response, archive, found.metadata_)  # type: ignore[return-value]


@router.get(
    "/{version}/croissant/",
    summary="The version as a Croissant 1.0 dataset (JSON-LD for machine-learning tools)",
    response_class=linked.JSONLDResponse,
)
def get_croissant(
    archive: ArchiveDep, session: SessionDep, user: UserDep, dandiset_id: str, version: str
) -> linked.JSONLDResponse:
    _, found = service.get_readable_version(session, user, dandiset_id, version)
    return linked.JSONLDResponse(croissant.croissant(archive, session, found))


@router.get(
    "/{version}/ro-crate-metadata.json",
    summary="The version as an RO-Crate 1.2 (its files with sizes, digests and formats)",
    response_class=linked.JSONLDResponse,
)
def get_ro_crate(
    archive: ArchiveDep, session: SessionDep, user: UserDep, dandiset_id: str, version: str
) -> linked.JSONLDResponse:
    # Imported here: only this route needs the rocrate library, so API processes that
    # never serve a crate do not load it.
    from dandi_archive.harvest.rocrate import ro_crate

    _, found = service.get_readable_version(session, user, dandiset_id, version)
    return linked.JSONLDResponse(ro_crate(archive, session, found))


@router.put("/{version}/", response_model=VersionInfo, summary="Change the draft's metadata")
def update_version(
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    version: str,
    body: VersionUpdate,
) -> VersionInfo:
    draft = service.update_draft_metadata(
        archive, session, user, dandiset_id, version, body.name, body.metadata
    )
    return version_info(session, draft.dandiset, draft, user)


@router.delete(
    "/{version}/",
    status_code=204,
    responses={
        401: {"description": "Not signed in"},
        403: {"description": "Not an admin, or the draft (which cannot be withdrawn)"},
    },
    summary="Withdraw a published version (admins): hidden, DOI no longer findable, kept",
)
def withdraw_version(
    archive: ArchiveDep, session: SessionDep, user: UserDep, dandiset_id: str, version: str
) -> Response:
    withdraw.withdraw_version(archive, session, user, dandiset_id, version)
    return Response(status_code=204)


@router.post(
    "/{version}/publish/",
    status_code=202,
    responses={
        400: {"description": "Not valid, unchanged since the last publish, empty, or embargoed"},
        405: {"description": "Only the draft can be published"},
        409: {"description": "Validation still running"},
        423: {"description": "Already being published"},
    },
    summary="Publish the draft as a new immutable version",
)
def publish_version(
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    version: str,
    body: PublishRequest | None = None,
) -> Response:
    if version != "draft":
        raise MethodNotAllowed("Only draft versions can be published.")
    publish.request_publish(
        archive, session, user, dandiset_id, body.release_notes if body else None
    )
    return Response(status_code=202)


@router.get(
    "/{version}/info/", response_model=VersionInfo, summary="A version with its validation state"
)
def get_version_info(
    session: SessionDep, user: UserDep, dandiset_id: str, version: str
) -> VersionInfo:
    dandiset, found = service.get_readable_version(session, user, dandiset_id, version)
    return version_info(session, dandiset, found, user)
