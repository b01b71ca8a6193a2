"""``/api/dandisets/{id}/star/``: star and unstar a Dandiset (``{"count": n}``)."""

from __future__ import annotations

from fastapi import APIRouter

from dandi_archive.api.deps import SessionDep, UserDep
from dandi_archive.api.schemas import StarCount
from dandi_archive.dandisets import stars

router = APIRouter(prefix="/api/dandisets", tags=["dandisets"])

RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "Sign in first (or the embargoed Dandiset needs it)"},
    403: {"description": "Account not approved, or an embargoed Dandiset you may not read"},
    404: {"description": "No such Dandiset"},
}


@router.post("/{dandiset_id}/star/", response_model=StarCount, responses=RESPONSES, summary="Star")
def star(session: SessionDep, user: UserDep, dandiset_id: str) -> StarCount:
    return StarCount(count=stars.star(session, user, dandiset_id))


@router.delete(
    "/{dandiset_id}/star/", response_model=StarCount, responses=RESPONSES, summary="Unstar"
)
def unstar(session: SessionDep, user: UserDep, dandiset_id: str) -> StarCount:
    return StarCount(count=stars.unstar(session, user, dandiset_id))
