"""``/oai`` (OAI-PMH 2.0) and ``/sitemap.xml``: published Dandisets for harvesters and
crawlers. XML protocols with their own specifications, so not in the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from dandi_archive.api.deps import ArchiveDep, SessionDep
from dandi_archive.dandisets import metadata as md
from dandi_archive.db.models import User
from dandi_archive.harvest import oai
from dandi_archive.harvest.sitemap import sitemap
from dandi_archive.instance import Archive

router = APIRouter(include_in_schema=False)
XML = "text/xml; charset=utf-8"


def repository(archive: Archive, admin_email: str) -> oai.Repository:
    settings = archive.settings
    return oai.Repository(
        name=f"{md.instance_name()} Archive",
        base_url=f"{settings.public_url}/oai",
        web_url=settings.webui_url,
        admin_email=admin_email,
        secret=settings.signing_key,
        page_size=settings.oai_page_size,
    )


async def oai_arguments(request: Request) -> dict[str, list[str]]:
    """The request's OAI-PMH arguments, from the query or a form-encoded POST (the protocol
    allows both). Async only for reading the body; the handler's database work then runs
    in the thread pool like every other route's."""
    if request.method == "POST":
        form = await request.form()
        items = [(key, str(value)) for key, value in form.multi_items()]
    else:
        items = list(request.query_params.multi_items())
    arguments: dict[str, list[str]] = {}
    for key, value in items:
        arguments.setdefault(key, []).append(value)
    return arguments


@router.api_route("/oai", methods=["GET", "POST"])
def oai_pmh(
    arguments: Annotated[dict[str, list[str]], Depends(oai_arguments)],
    archive: ArchiveDep,
    session: SessionDep,
) -> Response:
    admin = archive.settings.support_email or session.scalar(
        select(User.email).where(User.is_admin).order_by(User.id).limit(1)
    )
    repo = repository(archive, admin or "root@localhost")
    body = oai.respond(repo, session, arguments, datetime.now(UTC))
    return Response(body, media_type=XML)


@router.get("/sitemap.xml")
def sitemap_xml(archive: ArchiveDep, session: SessionDep) -> Response:
    return Response(sitemap(session, archive.settings.webui_url), media_type=XML)
