"""The registry of applications allowed to sign people in (OAuth clients).

An administrator registers each one with its exact redirect URIs; the archive answers
with a client id and a secret shown once, and keeps only the secret's SHA-256 (secrets
are 256 random bits, so a fast hash is as good as a slow one and checks in constant time).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy import select
from sqlalchemy.orm import Session

from dandi_archive.db.models import OAuthClient
from dandi_archive.errors import BadRequest, NotFound
from dandi_archive.oauth.claims import allowed_scope

GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})
AUTH_METHODS = ("client_secret_basic", "client_secret_post")


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewClient:
    client_id: str
    client_secret: str  # shown once, never stored


def add_client(
    session: Session, name: str, redirect_uris: Sequence[str], *, trusted: bool = False
) -> NewClient:
    name = name.strip()
    if not name:
        raise BadRequest("Give the application a name; people see it when asked to agree.")
    if len(name) > 255:
        raise BadRequest("The application's name is longer than 255 characters.")
    uris = list(dict.fromkeys(redirect_uris))
    if not uris:
        raise BadRequest("Give at least one redirect URI (--redirect-uri).")
    for uri in uris:
        check_redirect_uri(uri)
    client_id = secrets.token_urlsafe(24)
    secret = secrets.token_urlsafe(32)
    session.add(
        OAuthClient(
            client_id=client_id,
            secret_hash=secret_hash(secret),
            name=name,
            redirect_uris=uris,
            trusted=trusted,
        )
    )
    session.flush()
    return NewClient(client_id, secret)


def check_redirect_uri(uri: str) -> None:
    """An absolute http(s) URL without a fragment (RFC 6749 3.1.2), compared as written."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise BadRequest(f"Redirect URI {uri!r} is not a URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"Redirect URI {uri!r} must be an absolute http:// or https:// URL.")
    if parts.fragment or "#" in uri:
        raise BadRequest(f"Redirect URI {uri!r} must not have a fragment (#...).")
    if any(c.isspace() or ord(c) < 0x20 for c in uri) or len(uri) > 2000:
        raise BadRequest(f"Redirect URI {uri!r} has spaces or control characters, or is too long.")


def list_clients(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(OAuthClient).order_by(OAuthClient.created, OAuthClient.name))
    return [
        {
            "client_id": row.client_id,
            "name": row.name,
            "redirect_uris": list(row.redirect_uris),
            "trusted": row.trusted,
            "created": row.created.isoformat(),
        }
        for row in rows
    ]


def remove_client(session: Session, client_id: str) -> None:
    """The client, its codes and its tokens (cascade) are gone: its tokens stop at once."""
    row = session.get(OAuthClient, client_id)
    if row is None:
        raise NotFound(f"No OAuth client with id {client_id!r}.")
    session.delete(row)
    session.flush()


def find_client(session: Session, client_id: object) -> Client | None:
    if not isinstance(client_id, str) or not client_id or len(client_id) > 64:
        return None
    row = session.get(OAuthClient, client_id)
    return Client(row) if row is not None else None


class Client(ClientMixin):
    """What authlib asks of a client: confidential, code flow only, exact redirect URIs."""

    def __init__(self, row: OAuthClient) -> None:
        self.row = row
        self.client_id = row.client_id
        self.client_metadata: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return self.row.name

    @property
    def trusted(self) -> bool:
        return self.row.trusted

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # every authorization request names its redirect_uri (OIDC requires it)

    def get_allowed_scope(self, scope: str | None) -> str:
        return allowed_scope(scope)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(secret_hash(client_secret), self.row.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES
