"""The authorization server: authlib's, told where clients, codes, tokens and keys live.

Grants: authorization code with PKCE (S256 only, required of every client) and OpenID
Connect (a signed ``id_token``), and refresh tokens (rotated on each use). Endpoints:
revocation (RFC 7009), introspection (RFC 7662, a client about its own tokens) and
userinfo. Every request and answer passes through the plain ``HttpRequest`` and
``HttpResponse`` below, so the HTTP layers translate and decide nothing.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authlib.common.security import generate_token
from authlib.consts import default_json_headers
from authlib.oauth2 import AuthorizationServer, OAuth2Request, ResourceProtector
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidRequestError,
    OAuth2Error,
    OAuth2Payload,
    grants,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import OpenIDCode, UserInfoEndpoint
from joserfc.jwk import RSAKey
from sqlalchemy.orm import Session

from dandi_archive.access.permissions import require_may_sign_in_elsewhere
from dandi_archive.config import Settings
from dandi_archive.db.models import User
from dandi_archive.errors import ArchiveError
from dandi_archive.instance import Archive
from dandi_archive.oauth import claims, signing, tokens
from dandi_archive.oauth.clients import AUTH_METHODS, Client, find_client

AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"
REVOKE_PATH = "/oauth/revoke"
INTROSPECT_PATH = "/oauth/introspect"
USERINFO_PATH = "/oauth/userinfo"
JWKS_PATH = "/oauth/jwks"


@dataclass(frozen=True)
class HttpRequest:
    """A request to the provider. ``url`` is the address as the archive is known to the
    world (its public URL), by which authlib judges the transport: https, or http on a
    loopback address."""

    method: str
    url: str
    headers: Mapping[str, str]
    query: Sequence[tuple[str, str]] = ()
    form: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: Any  # a JSON object, or text
    headers: list[tuple[str, str]]

    @property
    def location(self) -> str | None:
        return dict(self.headers).get("Location")


class _Payload(OAuth2Payload):
    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):
    def __init__(self, http: HttpRequest) -> None:
        super().__init__(http.method, http.url, headers=http.headers)
        self.payload = _Payload([*http.query, *http.form])
        self._args = _Payload(http.query).data
        self._form = _Payload(http.form).data

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


def _provider(grant_or_endpoint: Any) -> Provider:
    return grant_or_endpoint.server


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    @staticmethod
    def validate_authorization_redirect_uri(request: OAuth2Request, client: Client) -> str:
        # The URI is not repeated in the error: it is the one thing that cannot be trusted
        # (and the page for people says what to do).
        uri = request.payload.redirect_uri
        if not uri:
            raise InvalidRequestError("Missing 'redirect_uri' in request.")
        if not client.check_redirect_uri(uri):
            raise InvalidRequestError("The 'redirect_uri' is not registered for this client.")
        return uri

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        provider = _provider(self)
        tokens.save_code(
            provider.session,
            code,
            client=request.client,
            user=request.user,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            data=request.payload.data,
            auth_time=provider.auth_time,
        )

    def query_authorization_code(self, code: str, client: Client) -> Any:
        return tokens.find_code(_provider(self).session, code, client)

    def delete_authorization_code(self, authorization_code: tokens.AuthorizationCode) -> None:
        tokens.use_code(_provider(self).session, authorization_code)

    def authenticate_user(self, authorization_code: tokens.AuthorizationCode) -> User | None:
        user = _provider(self).session.get(User, authorization_code.row.user_id)
        return user if _may_sign_in(user) else None


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: each refresh token serves once

    def authenticate_refresh_token(self, refresh_token: str) -> tokens.Token | None:
        token = tokens.find_token_of_kind(_provider(self).session, refresh_token, "refresh_token")
        if token is None or not token.is_refresh_usable() or not _may_sign_in(token.get_user()):
            return None
        return token

    def authenticate_user(self, refresh_token: tokens.Token) -> User:
        return refresh_token.get_user()

    def revoke_old_credential(self, refresh_token: tokens.Token) -> None:
        tokens.revoke(refresh_token)


def _may_sign_in(user: User | None) -> bool:
    try:
        require_may_sign_in_elsewhere(user)
    except ArchiveError:
        return False
    return True


class S256Challenge(CodeChallenge):
    """PKCE for every authorization request, with S256 (``plain`` proves nothing)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send a 'code_challenge' (S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        super().validate_code_challenge(grant, redirect_uri)


class IdToken(OpenIDCode):
    """The ``id_token`` of a code exchange: RS256 with the archive's key, the claims of
    ``claims.user_info``; a nonce may serve once per client."""

    def __init__(self, provider: Provider) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return tokens.nonce_was_used(self.provider.session, request.payload.client_id, nonce)

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.provider.signing_key()

    def get_client_algorithm(self, client: Client) -> str:
        return signing.ALGORITHM

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": signing.ALGORITHM, "kid": str(self.provider.signing_key().kid)}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.provider.issuer,
            "aud": [client.get_client_id()],
            "iat": now,
            "exp": now + self.provider.settings.oauth_access_token_seconds,
        }

    def generate_user_info(self, user: User, scope: str) -> dict[str, Any]:
        return claims.user_info(user, scope)


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return tokens.find_token(_provider(self).session, token_string, token_type_hint)

    def revoke_token(self, token: tokens.Token, request: OAuth2Request) -> None:
        # A refresh token takes its access token along; an access token goes alone.
        tokens.revoke(token, access_only=token.kind == "access_token")


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return tokens.find_token(_provider(self).session, token_string, token_type_hint)

    def check_permission(self, token: tokens.Token, client: Client, request: Any) -> bool:
        return token.check_client(client)  # a client learns about its own tokens only

    def introspect_token(self, token: tokens.Token) -> dict[str, Any]:
        user = token.get_user()
        return {
            "active": True,
            "client_id": token.row.client_id,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
            "scope": token.get_scope(),
            "sub": str(user.id),
            "username": user.username,
            "aud": token.row.client_id,
            "iss": _provider(self).issuer,
            "iat": int(token.row.issued.timestamp()),
            "exp": int(token.expires_at().timestamp()),
        }


class AccessTokens(BearerTokenValidator):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def authenticate_token(self, token_string: str) -> tokens.Token | None:
        return tokens.find_token_of_kind(self.session, token_string, "access_token")


class UserInfo(UserInfoEndpoint):
    def __call__(self, request: OAuth2Request) -> tuple[int, Any, list[tuple[str, str]]]:
        token = self.resource_protector.validate_request(["openid"], request)
        return 200, claims.user_info(token.get_user(), token.get_scope()), default_json_headers


class Provider(AuthorizationServer):
    """One request's authorization server, over that request's database session.
    ``auth_time`` is when the person signed in to the archive (for the ID token)."""

    def __init__(
        self, archive: Archive, session: Session, *, auth_time: datetime | None = None
    ) -> None:
        super().__init__(scopes_supported=list(claims.SCOPES))
        self.archive = archive
        self.settings: Settings = archive.settings
        self.session = session
        self.auth_time = auth_time
        self._key: RSAKey | None = None
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: generate_token(48),
                refresh_token_generator=lambda **_: generate_token(48),
                expires_generator=lambda client, grant_type: (
                    self.settings.oauth_access_token_seconds
                ),
            ),
        )
        self.register_grant(CodeGrant, [S256Challenge(required=True), IdToken(self)])
        self.register_grant(RefreshGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)
        protector = ResourceProtector()
        protector.register_token_validator(AccessTokens(session))
        self.register_endpoint(UserInfo(self, resource_protector=protector))

    @property
    def issuer(self) -> str:
        return self.settings.public_url

    def signing_key(self) -> RSAKey:
        if self._key is None:
            self._key = signing.signing_key(self.session)
        return self._key

    def authenticate_client(self, request: OAuth2Request, methods: Any, endpoint: str = "token"):
        try:
            return super().authenticate_client(request, methods, endpoint)
        except UnicodeDecodeError:  # HTTP Basic credentials that are not UTF-8
            raise InvalidClientError(
                status_code=401, description="The client credentials are not readable."
            ) from None

    # -- what authlib asks of a framework integration ------------------------------

    def query_client(self, client_id: str) -> Client | None:
        return find_client(self.session, client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        if request.authorization_code is not None:
            grant_id = request.authorization_code.row.code_hash
        else:
            grant_id = request.refresh_token.row.grant_id
        tokens.save_token(
            self.session,
            token,
            client=request.client,
            user=request.user,
            grant_id=grant_id,
            refresh_seconds=self.settings.oauth_refresh_token_seconds,
        )

    def create_oauth2_request(self, request: HttpRequest | OAuth2Request) -> OAuth2Request:
        return request if isinstance(request, OAuth2Request) else _Request(request)

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> HttpResponse:
        return HttpResponse(status, body, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass  # nothing listens


# -- the authorization endpoint, for web/ ----------------------------------------------------


@dataclass(frozen=True)
class Consent:
    """A valid authorization request, waiting for the person's decision."""

    grant: Any
    client: Client
    scope: str
    prompt: frozenset[str]

    @property
    def needs_consent(self) -> bool:
        return not self.client.trusted or "consent" in self.prompt


def validate_authorization(provider: Provider, http: HttpRequest, user: User | None) -> Consent:
    """The checks of an authorization request that do not depend on who asks; raises
    ``OAuth2Error`` (with ``redirect_uri`` set when the client may be told)."""
    try:
        grant = provider.get_consent_grant(http, end_user=user)
    except ValueError:
        # authlib refuses to put characters a client sent into an error description.
        raise InvalidRequestError("The request has a malformed parameter.") from None
    request = grant.request
    prompt = frozenset((request.payload.data.get("prompt") or "").split())
    return Consent(grant, request.client, request.scope, prompt)


def answer(provider: Provider, consent: Consent, user: User | None) -> HttpResponse:
    """Send the person back to the client: with a code if ``user`` agreed (and may sign
    in elsewhere), else with ``access_denied``."""
    grant = consent.grant
    if user is not None and not _may_sign_in(user):
        user = None
    return provider.create_authorization_response(grant.request, grant_user=user, grant=grant)


def refuse(provider: Provider, consent: Consent, error: OAuth2Error) -> HttpResponse:
    """Send the person back to the client with ``error`` (e.g. ``consent_required``)."""
    error.redirect_uri = consent.grant.redirect_uri
    error.state = consent.grant.request.payload.state
    return provider.handle_error_response(consent.grant.request, error)


def error_response(provider: Provider, http: HttpRequest, error: OAuth2Error) -> HttpResponse:
    return provider.handle_error_response(_Request(http), error)


def metadata(settings: Settings) -> dict[str, Any]:
    """The discovery document (OpenID Connect Discovery 1.0, RFC 8414)."""
    api, web = settings.public_url, settings.webui_url
    methods = list(AUTH_METHODS)
    return {
        "issuer": api,
        "authorization_endpoint": f"{web}{AUTHORIZE_PATH}",
        "token_endpoint": f"{api}{TOKEN_PATH}",
        "userinfo_endpoint": f"{api}{USERINFO_PATH}",
        "jwks_uri": f"{api}{JWKS_PATH}",
        "revocation_endpoint": f"{api}{REVOKE_PATH}",
        "introspection_endpoint": f"{api}{INTROSPECT_PATH}",
        "scopes_supported": list(claims.SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [signing.ALGORITHM],
        "token_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_methods_supported": methods,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "preferred_username",
            "name",
            "email",
            "email_verified",
            "groups",
        ],
        "prompt_values_supported": ["none", "consent"],
    }
