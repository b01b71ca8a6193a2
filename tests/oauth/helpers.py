"""A relying party for tests: authlib's own OAuth 2 client (httpx), a browser that signs
in and agrees, and the archive registering the application, as an administrator would."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from fastapi.testclient import TestClient

from dandi_archive.oauth import clients

from ..helpers import ApiClient
from ..web.helpers import Browser

# The archive's public URL in these tests: authlib accepts plain http on loopback only.
ISSUER = "http://localhost"
REDIRECT = "http://localhost:7777/hub/oauth_callback"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass
class App:
    """An application registered with the archive."""

    client_id: str
    client_secret: str
    redirect_uri: str = REDIRECT


def register(
    api: ApiClient, name: str = "Lab JupyterHub", *, trusted: bool = False, uris=(REDIRECT,)
) -> App:
    with api.archive.db.session(write=True) as session:
        made = clients.add_client(session, name, list(uris), trusted=trusted)
    return App(made.client_id, made.client_secret, uris[0])


def relying_party(api: ApiClient, app: App, scope: str = "openid email archive") -> OAuth2Client:
    """authlib's client, talking to the app in-process (the test client's transport)."""
    return OAuth2Client(
        app.client_id,
        app.client_secret,
        scope=scope,
        redirect_uri=app.redirect_uri,
        code_challenge_method="S256",
        transport=api.client._transport,
    )


@dataclass
class Start:
    """An authorization request as a relying party makes it."""

    url: str
    state: str
    verifier: str
    nonce: str

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.path}?{parts.query}"


def start(rp: OAuth2Client, **extra: str) -> Start:
    verifier, nonce = generate_token(48), extra.pop("nonce", generate_token(20))
    url, state = rp.create_authorization_url(
        f"{ISSUER}/oauth/authorize", code_verifier=verifier, nonce=nonce, **extra
    )
    return Start(url, state, verifier, nonce)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def consent_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN.findall(page)}


def agree(browser: Browser | TestClient, begun: Start, decision: str = "allow") -> httpx.Response:
    """Open the authorization URL signed in, and answer the consent page."""
    client = browser.client if isinstance(browser, Browser) else browser
    page = client.get(begun.path, follow_redirects=False)
    assert page.status_code == 200, (page.status_code, page.text[:500])
    fields = consent_fields(page.text)
    assert fields.get("csrf_token"), page.text[:500]
    return client.post(
        "/oauth/authorize", data={**fields, "decision": decision}, follow_redirects=False
    )


def code_from(answer: httpx.Response, begun: Start) -> str:
    assert answer.status_code == 302, (answer.status_code, answer.text[:500])
    location = answer.headers["location"]
    assert location.startswith(REDIRECT) or "code=" in location, location
    params = query_of(location)
    assert params.get("state") == begun.state, params
    assert "code" in params, params
    return params["code"]


def exchange(rp: OAuth2Client, begun: Start, code: str, **extra: str) -> dict:
    """The token request (client_secret_basic, the code verifier)."""
    return rp.fetch_token(
        f"{ISSUER}/oauth/token",
        code=code,
        grant_type="authorization_code",
        code_verifier=extra.pop("code_verifier", begun.verifier),
        **extra,
    )


def sign_in_and_get_tokens(
    api: ApiClient, browser: Browser | TestClient, app: App, scope: str = "openid email archive"
) -> tuple[OAuth2Client, Start, dict]:
    rp = relying_party(api, app, scope)
    begun = start(rp)
    client = browser.client if isinstance(browser, Browser) else browser
    first = client.get(begun.path, follow_redirects=False)  # trusted: sent back at once
    code = code_from(first if first.status_code == 302 else agree(browser, begun), begun)
    return rp, begun, exchange(rp, begun, code)


def token_post(api: ApiClient, path: str, app: App, **data: str) -> httpx.Response:
    """A raw request to a client-authenticated endpoint (client_secret_post)."""
    return api.client.post(
        f"{ISSUER}{path}",
        data={"client_id": app.client_id, "client_secret": app.client_secret, **data},
    )
