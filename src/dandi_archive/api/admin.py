"""``/api/admin/``: what administrators need to see."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dandi_archive.api.deps import ArchiveDep, SessionDep, UserDep
from dandi_archive.errors import NotAuthenticated, PermissionDenied
from dandi_archive.integrity import fixity

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/fixity/", summary="Fixity checks: coverage and every blob that failed")
def fixity_report(archive: ArchiveDep, session: SessionDep, user: UserDep) -> dict[str, Any]:
    if user is None:
        raise NotAuthenticated()
    if not user.is_admin:
        raise PermissionDenied("Only administrators can see fixity reports.")
    return fixity.report(session, archive.settings.fixity_cycle_days)
