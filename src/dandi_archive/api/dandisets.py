"""``/api/dandisets/``: list, create, read and delete Dandisets; owners; pending uploads."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import is_owner, require_owner, require_readable
from dandi_archive.api.deps import ArchiveDep, SessionDep, UserDep
from dandi_archive.api.pagination import Page, PageParams, counted_page, page_params, paginated
from dandi_archive.api.schemas import (
    DandisetCreate,
    DandisetOut,
    OwnerOut,
    OwnerRef,
    UploadOut,
    dandiset_summary,
    owner_out,
    version_detail,
    version_summary,
)
from dandi_archive.assets import uploads
from dandi_archive.dandisets import dandisets as service
from dandi_archive.dandisets import stars
from dandi_archive.dandisets.folders import version_totals
from dandi_archive.db.models import Dandiset, Upload, User, Version
from dandi_archive.embargo import lifting as embargo
from dandi_archive.errors import BadRequest
from dandi_archive.search import asset_filters

router = APIRouter(prefix="/api/dandisets", tags=["dandisets"])
PageDep = Annotated[PageParams, Depends(page_params)]


def active_uploads(session: Session, dandiset_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Upload.dandiset_id, func.count())
        .where(Upload.dandiset_id.in_(dandiset_ids))
        .group_by(Upload.dandiset_id)
    )
    return {dandiset_id: count for dandiset_id, count in rows}


def dandisets_out(
    session: Session, dandisets: list[Dandiset], user: User | None, *, detail: bool
) -> list[DandisetOut]:
    """Dandisets with their draft and newest published version and their stars, in a
    fixed few queries."""
    ids = [d.id for d in dandisets]
    drafts, published = service.versions_for_listing(session, ids)
    star_infos = stars.star_infos(session, ids, user)
    totals = version_totals(session, [v.id for v in [*drafts.values(), *published.values()]])
    uploads_by_id = active_uploads(session, ids) if detail else {}

    def describe(version: Version | None) -> object:
        if version is None:
            return None
        if detail:
            return version_detail(
                version, totals[version.id], uploads_by_id.get(version.dandiset_id, 0)
            )
        return version_summary(version, totals[version.id])

    out = []
    for dandiset in dandisets:
        draft, newest = drafts.get(dandiset.id), published.get(dandiset.id)
        contact_source = (newest or draft).metadata_ if (newest or draft) else {}
        out.append(
            DandisetOut(
                **dandiset_summary(dandiset, contact_source, star_infos[dandiset.id]).model_dump(),
                most_recent_published_version=describe(newest),
                draft_version=describe(draft),
            )
        )
    return out


def list_query(
    user: UserDep,
    draft: bool = Query(True, description="false: only Dandisets with a published version"),
    empty: bool = Query(True, description="false: leave out Dandisets without files"),
    embargoed: bool = Query(False, description="true: include embargoed Dandisets you own"),
    user_filter: str | None = Query(None, alias="user", description="'me': only yours"),
    starred: bool = Query(False, description="true: only the Dandisets you starred"),
    search: str | None = Query(None, description="Words that must all appear in the metadata"),
    ordering: str | None = Query(
        None, description="id, name, modified, size or stars; '-' reverses"
    ),
) -> service.DandisetQuery:
    """The filters and order of a Dandiset listing (the list and its file search share them)."""
    if user_filter not in (None, "me"):
        raise BadRequest("The only supported value of 'user' is 'me'.")
    return service.DandisetQuery(
        user=user,
        draft=draft,
        empty=empty,
        embargoed=embargoed,
        mine=user_filter == "me",
        starred=starred,
        search=search,
        ordering=ordering,
    )


ListQueryDep = Annotated[service.DandisetQuery, Depends(list_query)]


@router.get("/", response_model=Page[DandisetOut], summary="List Dandisets")
def list_dandisets(
    request: Request,
    session: SessionDep,
    user: UserDep,
    query: ListQueryDep,
    params: PageDep,
) -> dict:
    count, dandisets = counted_page(session, service.query_dandisets(session, query), params)
    results = dandisets_out(session, dandisets, user, detail=False)
    return paginated(request, params, count, results, params.offset + len(results) < count)


class DandisetSearchOut(DandisetOut):
    # Per chosen filter, the Dandiset's files that pass it (upstream's shape).
    asset_counts: dict[str, int]


# Declared before "/{dandiset_id}/" so "search" is not taken for an identifier.
@router.get("/search/", response_model=Page[DandisetSearchOut], summary="Dandisets by their files")
def search_dandisets(
    request: Request,
    session: SessionDep,
    user: UserDep,
    query: ListQueryDep,
    params: PageDep,
    file_type: list[str] = Query(
        [], description="Encoding-format prefixes: application/x-nwb, image/, text/, video/"
    ),
    file_size_min: int | None = Query(None, description="Smallest file size, in bytes"),
    file_size_max: int | None = Query(None, description="Largest file size, in bytes"),
    measurement_technique: list[str] = Query([], description="Measurement techniques"),
    genotype: list[str] = Query([], description="Genotypes of the first participant"),
    species: list[str] = Query([], description="Species of the first participant"),
) -> dict:
    filters = asset_filters.validate(
        session,
        user,
        asset_filters.AssetFilters(
            file_type=file_type,
            file_size_min=file_size_min,
            file_size_max=file_size_max,
            measurement_technique=measurement_technique,
            genotype=genotype,
            species=species,
        ),
    )
    stmt = service.query_dandisets(session, query).where(
        Dandiset.id.in_(asset_filters.matching_dandisets(filters))
    )
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    dandisets = list(session.scalars(stmt.offset(params.offset).limit(params.page_size)))
    counts = asset_filters.asset_counts(session, [d.id for d in dandisets], filters)
    results = [
        DandisetSearchOut(**out.model_dump(), asset_counts=counts[d.id])
        for d, out in zip(
            dandisets, dandisets_out(session, dandisets, user, detail=False), strict=True
        )
    ]
    return paginated(request, params, count, results, params.offset + len(results) < count)


@router.post("/", response_model=DandisetOut, summary="Create a Dandiset")
def create_dandiset(
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    body: DandisetCreate,
    embargo: bool = Query(False, description="Keep the data private until the embargo ends"),
    embargo_end_date: date | None = Query(None, description="Default: two years from today"),
) -> DandisetOut:
    draft = service.create_dandiset(
        archive,
        session,
        user,
        body.name,
        body.metadata,
        embargo=embargo,
        embargo_end_date=embargo_end_date,
    )
    # What dandisets_out would read back is known: a draft alone, empty, no stars, no
    # uploads (the test of creation compares this with the Dandiset as read).
    return DandisetOut(
        **dandiset_summary(draft.dandiset, draft.metadata_, stars.StarInfo()).model_dump(),
        most_recent_published_version=None,
        draft_version=version_detail(draft, (0, 0), 0),
    )


@router.get("/{dandiset_id}/", response_model=DandisetOut, summary="A Dandiset")
def get_dandiset(session: SessionDep, user: UserDep, dandiset_id: str) -> DandisetOut:
    dandiset = service.get_readable_dandiset(session, dandiset_id, user)
    return dandisets_out(session, [dandiset], user, detail=True)[0]


@router.delete("/{dandiset_id}/", status_code=204, summary="Delete a Dandiset never published")
def delete_dandiset(
    archive: ArchiveDep, session: SessionDep, user: UserDep, dandiset_id: str
) -> Response:
    service.delete_dandiset(archive, session, user, dandiset_id)
    return Response(status_code=204)


@router.post("/{dandiset_id}/unembargo/", summary="Lift the embargo: make the Dandiset open")
def unembargo(archive: ArchiveDep, session: SessionDep, user: UserDep, dandiset_id: str) -> None:
    embargo.request_unembargo(archive, session, user, dandiset_id)


@router.get("/{dandiset_id}/users/", response_model=list[OwnerOut], summary="Owners")
def get_owners(session: SessionDep, user: UserDep, dandiset_id: str) -> list[OwnerOut]:
    """Owners by username and name; their addresses only for owners and admins, who
    manage the list (upstream shows them to any signed-in caller)."""
    dandiset = service.get_readable_dandiset(session, dandiset_id, user)
    with_email = is_owner(session, dandiset.id, user)
    return [owner_out(u, with_email=with_email) for u in service.owners(session, dandiset)]


@router.put("/{dandiset_id}/users/", response_model=list[OwnerOut], summary="Replace the owners")
def set_owners(
    archive: ArchiveDep, session: SessionDep, user: UserDep, dandiset_id: str, body: list[OwnerRef]
) -> list[OwnerOut]:
    owners = [o.model_dump() for o in body]
    new_owners = service.set_owners(archive, session, user, dandiset_id, owners)
    return [owner_out(u, with_email=True) for u in new_owners]


@router.get("/{dandiset_id}/uploads/", response_model=Page[UploadOut], summary="Unfinished uploads")
def list_uploads(
    request: Request, session: SessionDep, user: UserDep, dandiset_id: str, params: PageDep
) -> dict:
    dandiset = service.get_dandiset(session, dandiset_id)
    require_owner(session, dandiset, user)
    query = select(Upload).where(Upload.dandiset_id == dandiset.id)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Upload.created).offset(params.offset).limit(params.page_size)
    )
    results = [
        UploadOut(
            upload_id=u.id,
            blob=u.key,
            etag=u.etag,
            size=u.size,
            created=u.created,
            modified=u.created,
        )
        for u in rows
    ]
    return paginated(request, params, count, results, params.offset + len(results) < count)


@router.delete("/{dandiset_id}/uploads/", status_code=204, summary="Cancel unfinished uploads")
def cancel_uploads(
    archive: ArchiveDep, session: SessionDep, user: UserDep, dandiset_id: str
) -> Response:
    dandiset = service.get_dandiset(session, dandiset_id)
    require_readable(session, dandiset, user)
    require_owner(session, dandiset, user)
    uploads.cancel_uploads(archive, session, dandiset.id)
    return Response(status_code=204)
