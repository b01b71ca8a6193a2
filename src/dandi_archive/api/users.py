"""The caller's account and API key."""

from __future__ import annotations

from fastapi import APIRouter

from dandi_archive.access.permissions import require_approved
from dandi_archive.accounts import registration, users
from dandi_archive.api.deps import SessionDep, UserDep
from dandi_archive.api.schemas import UserOut
from dandi_archive.errors import NotAuthenticated

router = APIRouter(prefix="/api", tags=["users"])


def get_token(session: SessionDep, user: UserDep) -> str:
    """The caller's API key (created on first use)."""
    return users.get_or_create_api_key(session, require_approved(user))


def regenerate_token(session: SessionDep, user: UserDep) -> str:
    """Replace the caller's API key with a new one."""
    return users.regenerate_api_key(session, require_approved(user))


# The dandi client asks for /auth/token without the slash; answer it directly.
for path in ("/auth/token/", "/auth/token"):
    router.add_api_route(path, get_token, methods=["GET"], summary="Get your API key")
    router.add_api_route(path, regenerate_token, methods=["POST"], summary="New API key")


@router.get("/users/me/", response_model=UserOut, summary="Your account")
async def me(user: UserDep) -> UserOut:  # the user is loaded: nothing to wait for
    if user is None:
        raise NotAuthenticated()
    return UserOut(**users.describe_user(user))


@router.get("/users/search/", response_model=list[UserOut], summary="Find approved users")
def search(session: SessionDep, user: UserDep, username: str = "") -> list[UserOut]:
    # Pending accounts read like anonymous callers, who may not list accounts either.
    require_approved(user)
    return [UserOut(**users.describe_user(u)) for u in users.search_users(session, username)]


@router.get("/users/", response_model=list[str], summary="Usernames of all accounts (admins)")
def list_users(session: SessionDep, user: UserDep, approved_only: bool = False) -> list[str]:
    return registration.list_usernames(session, user, approved_only=approved_only)
