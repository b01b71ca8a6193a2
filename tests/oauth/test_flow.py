"""The whole sign-in of another application, with authlib's own client as that
application: discovery, code + PKCE, an ID token checked against the JWKS, userinfo,
refresh, revocation then introspection, and the access token on the archive's API."""

from __future__ import annotations

import pytest
from authlib.integrations.base_client import OAuthError
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet

from dandi_archive.archive import build_archive
from dandi_archive.oauth import signing

from ..helpers import DANDISET_METADATA
from ..web.helpers import Browser, make_account
from .helpers import (
    ISSUER,
    agree,
    code_from,
    exchange,
    register,
    relying_party,
    sign_in_and_get_tokens,
    start,
    token_post,
)


def test_discovery_document_and_one_signing_key_for_every_process(api):
    config = api.client.get("/.well-known/openid-configuration").json()
    OpenIDProviderMetadata(config).validate()  # authlib's check of the required fields
    assert config["issuer"] == ISSUER
    assert config["authorization_endpoint"] == f"{ISSUER}/oauth/authorize"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert api.client.get("/.well-known/oauth-authorization-server").json() == config
    keys = api.client.get("/oauth/jwks").json()["keys"]
    assert [k["kty"] for k in keys] == ["RSA"] and keys[0]["kid"] and "d" not in keys[0]
    # Another API process on the same database publishes (and signs with) the same key.
    other = build_archive(api.archive.settings)
    try:
        assert signing.jwks(other)["keys"] == keys
    finally:
        other.close()


def test_code_flow_with_pkce_gives_tokens_id_token_and_userinfo(api):
    make_account(api, "jane@lab.example.org", name="Jane Doe")
    browser = Browser(api)
    browser.sign_in("jane@lab.example.org")
    app = register(api, "Lab JupyterHub")
    rp = relying_party(api, app)
    begun = start(rp)
    # The consent page names the application and what it will see.
    page = browser.get(begun.path)
    assert page.status_code == 200 and "Lab JupyterHub" in page.text
    assert "your e-mail address" in page.text and "use this archive" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    token = exchange(rp, begun, code_from(agree(browser, begun), begun))
    assert token["token_type"] == "Bearer" and token["refresh_token"]
    assert token["scope"] == "openid email archive"

    jwks = KeySet.import_key_set(api.client.get("/oauth/jwks").json())
    id_token = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])
    assert id_token.header["alg"] == "RS256" and id_token.header["kid"]
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": app.client_id},
        nonce={"essential": True, "value": begun.nonce},
        sub={"essential": True},
        exp={"essential": True},
    ).validate(id_token.claims)
    assert id_token.claims["preferred_username"] == "jane-doe"
    assert id_token.claims["email"] == "jane@lab.example.org"

    info = rp.get(f"{ISSUER}/oauth/userinfo").json()
    assert info == {
        "sub": id_token.claims["sub"],
        "preferred_username": "jane-doe",
        "name": "Jane Doe",
        "groups": ["approved"],
        "email": "jane@lab.example.org",
        "email_verified": False,
    }


def test_userinfo_without_email_scope_and_groups_of_an_admin(api):
    make_account(api, "ada@example.org", name="Ada Admin", admin=True)
    browser = Browser(api)
    browser.sign_in("ada@example.org")
    rp, _, _ = sign_in_and_get_tokens(api, browser, register(api), scope="openid")
    info = rp.get(f"{ISSUER}/oauth/userinfo").json()
    assert "email" not in info and info["groups"] == ["approved", "admin"]
    # Without the 'archive' scope the token is no key to the API.
    r = api.client.get(
        "/api/users/me/", headers={"Authorization": f"Bearer {rp.token['access_token']}"}
    )
    assert r.status_code == 403 and "'archive' scope" in r.json()["detail"]


def test_refresh_rotates_and_revocation_shows_in_introspection(api):
    make_account(api, "jane@example.org")
    browser = Browser(api)
    browser.sign_in("jane@example.org")
    app = register(api)
    rp, _, first = sign_in_and_get_tokens(api, browser, app)
    second = rp.refresh_token(f"{ISSUER}/oauth/token")
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    # The old pair is spent: a stolen refresh token works at most once.
    with pytest.raises(OAuthError) as refused:
        rp.refresh_token(f"{ISSUER}/oauth/token", refresh_token=first["refresh_token"])
    assert refused.value.error == "invalid_grant"
    assert rp.introspect_token(f"{ISSUER}/oauth/introspect", first["access_token"]).json() == {
        "active": False
    }
    live = rp.introspect_token(f"{ISSUER}/oauth/introspect", second["access_token"]).json()
    assert live["active"] is True and live["client_id"] == app.client_id
    assert live["username"] == "jane-doe" and live["scope"] == "openid email archive"
    # Revoked (RFC 7009), the token is inactive (RFC 7662), and no key to anything.
    assert rp.revoke_token(f"{ISSUER}/oauth/revoke", second["refresh_token"]).status_code == 200
    for value in (second["access_token"], second["refresh_token"]):
        assert rp.introspect_token(f"{ISSUER}/oauth/introspect", value).json() == {"active": False}
    assert rp.get(f"{ISSUER}/oauth/userinfo").status_code == 401
    bearer = {"Authorization": f"Bearer {second['access_token']}"}
    assert api.client.get("/api/users/me/", headers=bearer).status_code == 401
    # Another client may not look into this client's tokens, nor revoke them.
    other = register(api, "Other app")
    r = token_post(api, "/oauth/introspect", other, token=first["refresh_token"])
    assert r.json() == {"active": False}


def test_bearer_token_acts_on_the_api_as_the_person(api):
    key = make_account(api, "olive@example.org", name="Olive Owner")
    mine = api.create_dandiset(key, "Olive's data")
    theirs = api.create_dandiset(make_account(api, "sam@example.org", name="Sam"), "Sam's")
    browser = Browser(api)
    browser.sign_in("olive@example.org")
    _, _, token = sign_in_and_get_tokens(api, browser, register(api))
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert api.client.get("/api/users/me/", headers=bearer).json()["username"] == "olive-owner"
    edit = {"name": "Renamed through the app", "metadata": DANDISET_METADATA}
    url = "/api/dandisets/{}/versions/draft/"
    r = api.client.put(url.format(mine), headers=bearer, json=edit)
    assert r.status_code == 200, r.text
    assert api.get(url.format(mine)).json()["name"] == "Renamed through the app"
    assert api.client.put(url.format(theirs), headers=bearer, json=edit).status_code == 403
    # An unknown token is refused like an unknown API key.
    bad = {"Authorization": "Bearer not-a-token"}
    r = api.client.get("/api/users/me/", headers=bad)
    assert r.status_code == 401 and "access token" in r.json()["detail"]
