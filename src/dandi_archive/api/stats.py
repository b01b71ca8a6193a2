"""``/api/stats/``: archive-wide figures, as upstream's ``ApplicationStats``."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from dandi_archive.api.deps import SessionDep
from dandi_archive.api.schemas import StatsOut
from dandi_archive.dandisets.stats import application_stats

router = APIRouter(tags=["info"])


@router.get("/api/stats/", response_model=StatsOut, summary="Dandisets, users and bytes")
def stats(session: SessionDep) -> StatsOut:
    return StatsOut(**asdict(application_stats(session)))
