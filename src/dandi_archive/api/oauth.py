"""The provider's machine endpoints: token, revocation, introspection, userinfo, the
signing keys and the discovery documents. The authorization endpoint is a page
(web/oauth.py). Their answers are the OAuth/OIDC ones (``{"error": ...}``), not the
archive's ``{"detail": ...}``, so they stay out of the OpenAPI document; the discovery
document describes them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from dandi_archive.api.deps import ArchiveDep, SessionDep
from dandi_archive.errors import BadRequest
from dandi_archive.oauth import provider, signing
from dandi_archive.oauth.provider import HttpRequest, HttpResponse, Provider

router = APIRouter(include_in_schema=False)

FORM = "application/x-www-form-urlencoded"


async def provider_request(request: Request, archive: ArchiveDep) -> HttpRequest:
    """The request as authlib reads it: query, form fields (URL-encoded bodies only, as
    RFC 6749 sends them) and headers, at the archive's public address."""
    form: list[tuple[str, str]] = []
    if request.method == "POST" and request.headers.get("content-type", "").startswith(FORM):
        parsed = await request.form()
        form = [(k, v) for k, v in parsed.multi_items() if isinstance(v, str)]
    return public_request(request, archive.settings.public_url, form)


def public_request(request: Request, base: str, form: list[tuple[str, str]]) -> HttpRequest:
    """The request at ``base`` (the archive's public or web URL). A NUL anywhere in the
    form is refused here: no client sends one, and no database column may hold one."""
    if any("\x00" in key or "\x00" in value for key, value in form):
        raise BadRequest("Form fields may not contain NUL characters.")
    query = request.url.query
    return HttpRequest(
        method=request.method,
        url=f"{base}{request.url.path}" + (f"?{query}" if query else ""),
        headers=request.headers,
        query=list(request.query_params.multi_items()),
        form=form,
    )


ProviderRequest = Annotated[HttpRequest, Depends(provider_request)]


def to_response(answer: HttpResponse) -> Response:
    headers = {k: v for k, v in answer.headers if k.lower() != "content-type"}
    if isinstance(answer.body, dict):
        return JSONResponse(answer.body, answer.status, headers=headers)
    return Response(answer.body, answer.status, headers=dict(answer.headers))


@router.post(provider.TOKEN_PATH)
def token(http: ProviderRequest, archive: ArchiveDep, session: SessionDep) -> Response:
    return to_response(Provider(archive, session).create_token_response(http))


@router.post(provider.REVOKE_PATH)
def revoke(http: ProviderRequest, archive: ArchiveDep, session: SessionDep) -> Response:
    return to_response(Provider(archive, session).create_endpoint_response("revocation", http))


@router.post(provider.INTROSPECT_PATH)
def introspect(http: ProviderRequest, archive: ArchiveDep, session: SessionDep) -> Response:
    answer = Provider(archive, session).create_endpoint_response("introspection", http)
    return to_response(answer)


@router.api_route(provider.USERINFO_PATH, methods=["GET", "POST"])
def userinfo(http: ProviderRequest, archive: ArchiveDep, session: SessionDep) -> Response:
    return to_response(Provider(archive, session).create_endpoint_response("userinfo", http))


@router.get(provider.JWKS_PATH)
def jwks(archive: ArchiveDep) -> JSONResponse:
    return JSONResponse(signing.jwks(archive))


@router.get("/.well-known/openid-configuration")
def openid_configuration(archive: ArchiveDep) -> JSONResponse:
    return JSONResponse(provider.metadata(archive.settings))


@router.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata(archive: ArchiveDep) -> JSONResponse:
    return JSONResponse(provider.metadata(archive.settings))
