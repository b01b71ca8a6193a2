"""``/api/search/``: faceted full-text search over Dandisets and their files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from dandi_archive.api.deps import SessionDep, UserDep
from dandi_archive.api.pagination import (
    MAX_PAGE,
    Page,
    PageParams,
    clamp_page_size,
    page_links,
    page_params,
    paginated,
)
from dandi_archive.search import asset_filters
from dandi_archive.search import query as service

router = APIRouter(prefix="/api", tags=["search"])


class FileHitOut(BaseModel):
    asset_id: str
    path: str


class DandisetHitOut(BaseModel):
    identifier: str
    name: str
    description: str
    version: str
    embargo_status: str
    modified: datetime
    asset_count: int
    size: int
    score: float
    species: list[str]
    license: list[str]
    matching_files: list[FileHitOut]
    more_matching_files: bool


class FacetValue(BaseModel):
    value: str
    count: int


class SearchOut(BaseModel):
    count: int
    # As on every other list, so the dandi client's ``paginate`` can follow them.
    next: str | None
    previous: str | None
    page: int
    page_size: int
    results: list[DandisetHitOut]
    facets: dict[str, list[FacetValue]]


@router.get("/search/", response_model=SearchOut, summary="Search Dandisets and their files")
def search(
    request: Request,
    session: SessionDep,
    user: UserDep,
    q: str = Query("", description="Words; each must start a word of the metadata or a file"),
    species: list[str] = Query([], description="Species names (any of them)"),
    approach: list[str] = Query([], description="Approaches (any of them)"),
    technique: list[str] = Query([], description="Measurement techniques (any of them)"),
    standard: list[str] = Query([], description="Data standards (any of them)"),
    datatype: list[str] = Query(
        [], description="BIDS datatypes of files, e.g. anat, func, micr (any of them)"
    ),
    license: list[str] = Query([], description="Licenses, e.g. CC-BY-4.0"),
    embargo: list[str] = Query([], description="OPEN, EMBARGOED or UNEMBARGOING"),
    sort: str = Query("relevance", description="relevance, name, modified, size or downloads"),
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(
        20, ge=1, description=f"Results per page (more are served as {service.MAX_PAGE_SIZE})"
    ),
    files: int = Query(3, ge=0, le=20, description="Matching files listed per Dandiset"),
    empty: bool = Query(True, description="false: leave out Dandisets without files"),
) -> SearchOut:
    page_size = clamp_page_size(page_size, service.MAX_PAGE_SIZE)
    filters = {
        "species": species,
        "approach": approach,
        "technique": technique,
        "standard": standard,
        "datatype": datatype,
        "license": license,
        "embargo": embargo,
    }
    query = service.SearchQuery(
        text=q,
        filters={k: v for k, v in filters.items() if v},
        sort=sort,
        page=page,
        page_size=page_size,
        files_per_dandiset=files,
        hide_empty=not empty,
    )
    result = service.search(session, user, query)
    following, previous = page_links(
        request, PageParams(page, page_size), has_next=page * page_size < result.count
    )
    return SearchOut(
        count=result.count,
        next=following,
        previous=previous,
        page=page,
        page_size=page_size,
        results=[
            DandisetHitOut(
                identifier=h.identifier,
                name=h.name,
                description=h.description,
                version=h.version,
                embargo_status=h.embargo_status,
                modified=h.modified,
                asset_count=h.file_count,
                size=h.size,
                score=h.rank,
                species=h.species,
                license=h.license,
                matching_files=[FileHitOut(asset_id=f.asset_id, path=f.path) for f in h.files],
                more_matching_files=h.more_files,
            )
            for h in result.hits
        ],
        facets={
            k: [FacetValue(value=v, count=n) for v, n in values]
            for k, values in result.facets.items()
        },
    )


@router.get(
    "/search/species/", response_model=Page[str], summary="Species of visible files (autocomplete)"
)
def search_species(
    request: Request,
    session: SessionDep,
    user: UserDep,
    params: Annotated[PageParams, Depends(page_params)],
    species: str = Query("", description="Text the species must contain (any case)"),
) -> dict:
    stmt = asset_filters.species_names(user, species)
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    results = list(session.scalars(stmt.offset(params.offset).limit(params.page_size)))
    return paginated(request, params, count, results, params.offset + len(results) < count)


@router.get(
    "/search/genotypes/", response_model=list[str], summary="Genotypes of visible files (≤ 10)"
)
def search_genotypes(
    session: SessionDep,
    user: UserDep,
    genotype: str = Query("", description="Text the genotype must contain (any case)"),
) -> list[str]:
    return asset_filters.genotypes(session, user, genotype)
