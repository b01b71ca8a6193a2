"""``/api/dandisets/{id}/readers/`` and ``/access-requests/``: read access to an
embargoed Dandiset for users other than its owners, and requests for it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from dandi_archive.api.deps import ArchiveDep, SessionDep, UserDep
from dandi_archive.api.schemas import OwnerRef
from dandi_archive.db.models import AccessRequest, User
from dandi_archive.embargo import readers as reader_service
from dandi_archive.embargo import requests as request_service

router = APIRouter(prefix="/api/dandisets", tags=["embargo"])

RESPONSES: dict[int | str, dict[str, str]] = {
    400: {"description": "Not embargoed, or unknown or unapproved users (named)"},
    401: {"description": "Sign in first"},
    403: {"description": "Not an owner (or account not approved)"},
    404: {"description": "No such Dandiset (or request)"},
}


class ReaderOut(BaseModel):
    username: str
    name: str


class AccessRequestIn(BaseModel):
    message: str | None = Field(None, description="Why you ask (shown to the owners)")


class AccessRequestOut(BaseModel):
    id: int
    username: str
    name: str
    message: str
    status: Literal["pending", "accepted", "declined"]
    created: datetime
    decided: datetime | None


def reader_out(user: User) -> ReaderOut:
    return ReaderOut(username=user.username, name=user.name)


def request_out(request: AccessRequest) -> AccessRequestOut:
    return AccessRequestOut(
        id=request.id,
        username=request.user.username,
        name=request.user.name,
        message=request.message,
        status=request.status.value,
        created=request.created,
        decided=request.decided,
    )


@router.get(
    "/{dandiset_id}/readers/",
    response_model=list[ReaderOut],
    responses=RESPONSES,
    summary="Readers of an embargoed Dandiset (owners only)",
)
def get_readers(session: SessionDep, user: UserDep, dandiset_id: str) -> list[ReaderOut]:
    return [reader_out(u) for u in reader_service.list_readers(session, user, dandiset_id)]


@router.put(
    "/{dandiset_id}/readers/",
    response_model=list[ReaderOut],
    responses=RESPONSES,
    summary="Replace the readers (grant and revoke read access)",
)
def set_readers(
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    body: list[OwnerRef],
) -> list[ReaderOut]:
    entries = [r.model_dump() for r in body]
    return [
        reader_out(u)
        for u in reader_service.set_readers(archive, session, user, dandiset_id, entries)
    ]


@router.post(
    "/{dandiset_id}/access-requests/",
    response_model=AccessRequestOut,
    responses=RESPONSES,
    summary="Ask the owners for read access (the same request while it is pending)",
)
def request_access(
    archive: ArchiveDep,
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    body: AccessRequestIn | None = None,
) -> AccessRequestOut:
    message = body.message if body else None
    return request_out(request_service.request_access(archive, session, user, dandiset_id, message))


@router.get(
    "/{dandiset_id}/access-requests/",
    response_model=list[AccessRequestOut],
    responses=RESPONSES,
    summary="Access requests (owners only; pending ones unless asked)",
)
def list_requests(
    session: SessionDep,
    user: UserDep,
    dandiset_id: str,
    status: str | None = Query("pending", description="pending, accepted or declined"),
) -> list[AccessRequestOut]:
    found = request_service.list_requests(session, user, dandiset_id, status)
    return [request_out(r) for r in found]


@router.post(
    "/{dandiset_id}/access-requests/{request_id}/accept/",
    response_model=AccessRequestOut,
    responses=RESPONSES,
    summary="Accept a request: the requester becomes a reader",
)
def accept(
    archive: ArchiveDep, session: SessionDep, user: UserDep, dandiset_id: str, request_id: int
) -> AccessRequestOut:
    return request_out(
        request_service.decide(archive, session, user, dandiset_id, request_id, accept=True)
    )


@router.post(
    "/{dandiset_id}/access-requests/{request_id}/decline/",
    response_model=AccessRequestOut,
    responses=RESPONSES,
    summary="Decline a request",
)
def decline(
    archive: ArchiveDep, session: SessionDep, user: UserDep, dandiset_id: str, request_id: int
) -> AccessRequestOut:
    return request_out(
        request_service.decide(archive, session, user, dandiset_id, request_id, accept=False)
    )
