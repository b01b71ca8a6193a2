"""``GET /healthz``: 200 when the database, bucket and broker answer, else 503 naming
which do not (for load balancers, orchestrators and uptime probes)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from dandi_archive.api.deps import ArchiveDep
from dandi_archive.integrity.health import check_health

router = APIRouter(tags=["monitoring"])


@router.get(
    "/healthz",
    summary="Whether the database, storage and broker (if any) are reachable",
    responses={503: {"description": "Something is not reachable; `checks` says what"}},
)
async def healthz(archive: ArchiveDep) -> JSONResponse:
    health = await run_in_threadpool(check_health, archive)
    return JSONResponse(
        health.as_json(),
        status_code=200 if health.ok else 503,
        headers={"Cache-Control": "no-store"},
    )
