"""Every refusal of the provider: errors as RFC 6749 / OIDC spell them, sent back to the
client only when its redirect URI is registered, a page for the person otherwise, and
never a code or token on bad input."""

from __future__ import annotations

import time

import pytest
from authlib.integrations.base_client import OAuthError
from sqlalchemy import select

from dandi_archive.accounts import registration as accounts
from dandi_archive.accounts import users
from dandi_archive.db.models import OAuthAuthorizationCode, UserStatus

from ..web.helpers import Browser, make_account, text_of
from .helpers import (
    ISSUER,
    REDIRECT,
    agree,
    code_from,
    exchange,
    query_of,
    register,
    relying_party,
    sign_in_and_get_tokens,
    start,
    token_post,
)


@pytest.fixture
def jane(api) -> Browser:
    make_account(api, "jane@example.org")
    browser = Browser(api)
    browser.sign_in("jane@example.org")
    return browser


def codes_given(api) -> int:
    with api.archive.db.session() as session:
        return len(session.scalars(select(OAuthAuthorizationCode)).all())


def error_of(answer) -> dict[str, str]:
    """The error the client is sent back with (never a code)."""
    assert answer.status_code == 302, (answer.status_code, answer.text[:300])
    assert answer.headers["location"].startswith(REDIRECT)
    params = query_of(answer.headers["location"])
    assert "code" not in params
    return params


def test_token_endpoint_refusals(api, jane):
    app = register(api)
    rp = relying_party(api, app)

    def fresh() -> tuple:
        begun = start(rp)
        return begun, code_from(agree(jane, begun), begun)

    begun, code = fresh()
    for bad in (
        {"code_verifier": "x" * 50},  # PKCE mismatch
        {"redirect_uri": "http://localhost:7777/elsewhere"},  # not the request's URI
        {"code": "not-a-code"},
    ):
        params = {"code": bad.pop("code", code), **bad}
        with pytest.raises(OAuthError) as refused:
            exchange(rp, begun, **params)
        assert refused.value.error == "invalid_grant", bad
    r = token_post(
        api, "/oauth/token", app, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"  # no verifier
    # A wrong secret, another client's code.
    wrong = token_post(
        api,
        "/oauth/token",
        app,
        grant_type="authorization_code",
        code=code,
        client_secret="guess",
        redirect_uri=REDIRECT,
        code_verifier=begun.verifier,
    )
    assert wrong.status_code in (400, 401) and wrong.json()["error"] == "invalid_client"
    other = register(api, "Another app")
    r = token_post(
        api,
        "/oauth/token",
        other,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=begun.verifier,
    )
    assert r.json()["error"] == "invalid_grant"
    r = token_post(api, "/oauth/token", app, grant_type="password", username="a", password="b")
    assert r.json()["error"] == "unsupported_grant_type"
    # Garbage is refused, never a 500: undecodable Basic credentials, NUL characters.
    garbled = {"Authorization": "Basic /w==", "Content-Type": "application/x-www-form-urlencoded"}
    r = api.client.post(
        f"{ISSUER}/oauth/token", headers=garbled, content=b"grant_type=refresh_token"
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = token_post(api, "/oauth/token", app, grant_type="authorization_code", code="a\x00b")
    assert r.status_code == 400 and "NUL" in r.json()["detail"]

    # The code still works once (the failures above were not its use), then never again,
    # and its replay revokes what it gave.
    token = exchange(rp, begun, code)
    with pytest.raises(OAuthError) as refused:
        exchange(rp, begun, code)
    assert refused.value.error == "invalid_grant"
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert api.client.get("/api/users/me/", headers=bearer).status_code == 401
    with pytest.raises(OAuthError):
        rp.refresh_token(f"{ISSUER}/oauth/token", refresh_token=token["refresh_token"])


def test_expired_access_token(make_api):
    api = make_api(base_url=ISSUER, oauth_access_token_seconds=1)
    make_account(api, "jane@example.org")
    browser = Browser(api)
    browser.sign_in("jane@example.org")
    rp, _, token = sign_in_and_get_tokens(api, browser, register(api))
    time.sleep(1.5)
    assert rp.introspect_token(f"{ISSUER}/oauth/introspect", token["access_token"]).json() == {
        "active": False
    }
    r = api.client.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert api.client.get("/api/users/me/", headers=bearer).status_code == 401
    # The refresh token outlives it.
    assert rp.refresh_token(f"{ISSUER}/oauth/token")["access_token"]


def test_requests_sent_back_to_the_client_with_an_error(api, jane):
    rp = relying_party(api, register(api))
    plain = start(rp)
    cases = {
        "invalid_request": plain.path.replace(
            "code_challenge_method=S256", "code_challenge_method=plain"
        ),
        "invalid_scope": start(rp, scope="openid delete-everything").path,
        "unsupported_response_type": start(rp, response_type="token").path,
    }
    for expected, path in cases.items():
        error = error_of(jane.get(path))
        assert error["error"] == expected and error["state"] in path, error
    no_pkce = start(rp)
    path = no_pkce.path.replace("code_challenge=", "x=").replace("code_challenge_method", "y")
    assert error_of(jane.get(path))["error"] == "invalid_request"
    # Saying no.
    begun = start(rp)
    assert error_of(agree(jane, begun, decision="deny"))["error"] == "access_denied"
    # A nonce serves once.
    used = start(rp)
    code_from(agree(jane, used), used)
    again = start(rp, nonce=used.nonce)
    assert error_of(jane.get(again.path))["error"] == "invalid_request"
    assert codes_given(api) == 1


def test_bad_redirect_or_client_is_a_page_for_the_person(api, jane):
    app = register(api)
    rp = relying_party(api, app)
    begun = start(rp)
    elsewhere = begun.path.replace("7777", "6666")
    pages = {
        "unregistered redirect_uri": elsewhere,
        "no redirect_uri": begun.path.replace("redirect_uri=", "x="),
        "unknown client": begun.path.replace(app.client_id, "nobody"),
        "no client": begun.path.replace("client_id=", "x="),
        "repeated parameter": begun.path + "&scope=openid",
        "odd characters": begun.path.replace("response_type=code", 'response_type=co"de'),
    }
    for case, path in pages.items():
        r = jane.get(path)
        assert r.status_code == 400 and "location" not in r.headers, (case, r.status_code)
        assert "Invalid sign-in request" in r.text and "Nothing was shared" in r.text, case
    # The consent form checked again: a changed redirect_uri in it is refused the same way.
    page = jane.get(begun.path)
    fields = dict(query_of(begun.url), csrf_token=_csrf(page.text), decision="allow")
    fields["redirect_uri"] = "http://evil.example/steal"
    r = jane.client.post("/oauth/authorize", data=fields, follow_redirects=False)
    assert r.status_code == 400 and "location" not in r.headers
    # Without the form's CSRF token, nothing.
    fields = dict(query_of(begun.url), decision="allow")
    assert jane.client.post("/oauth/authorize", data=fields).status_code == 403
    assert codes_given(api) == 0


def _csrf(page: str) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match[1]


def test_anonymous_people_sign_in_first_and_come_back(api):
    make_account(api, "jane@example.org")
    rp = relying_party(api, register(api))
    begun = start(rp)
    browser = Browser(api)
    r = browser.get(begun.path)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    login = browser.get(r.headers["location"])
    signed_in = browser.client.post(
        "/login",
        data={
            "email": "jane@example.org",
            "password": "correct horse battery",
            "csrf_token": _csrf(login.text),
            "next": _next_of(login.text),
        },
        follow_redirects=False,
    )
    assert signed_in.headers["location"] == begun.path
    code_from(agree(browser, begun), begun)
    # prompt=none: no page may be shown, so the client hears why.
    anonymous = Browser(api)
    assert error_of(anonymous.get(start(rp, prompt="none").path))["error"] == "login_required"


def _next_of(page: str) -> str:
    import html
    import re

    match = re.search(r'name="next" value="([^"]*)"', page)
    assert match
    return html.unescape(match[1])


def test_trusted_clients_skip_consent_others_need_it(api, jane):
    trusted = relying_party(api, register(api, "Our own hub", trusted=True))
    begun = start(trusted)
    code_from(jane.get(begun.path), begun)  # straight back with a code
    untrusted = relying_party(api, register(api, "Someone's app"))
    assert error_of(jane.get(start(untrusted, prompt="none").path))["error"] == "consent_required"


@pytest.mark.parametrize("status", [UserStatus.PENDING, UserStatus.INCOMPLETE])
def test_accounts_not_approved_are_told_why(api, status):
    make_account(api, "new@example.org", status=status)
    browser = Browser(api)
    browser.sign_in("new@example.org")
    rp = relying_party(api, register(api, "Lab JupyterHub"))
    r = browser.get(start(rp).path)
    assert r.status_code == 403
    text = text_of(r.text)
    assert "You cannot sign in to Lab JupyterHub yet" in text
    assert ("waiting for an administrator" in text) == (status == UserStatus.PENDING)
    assert ("questionnaire-form" in r.text) == (status == UserStatus.INCOMPLETE)
    assert error_of(browser.get(start(rp, prompt="none").path))["error"] == "access_denied"
    # Nor does a forged consent form give a code.
    begun = start(rp)
    fields = dict(query_of(begun.url), csrf_token=_csrf(browser.get("/").text), decision="allow")
    r = browser.client.post("/oauth/authorize", data=fields, follow_redirects=False)
    assert r.status_code == 403 and codes_given(api) == 0


def test_a_rejected_account_loses_its_tokens_and_cannot_sign_in(api):
    make_account(api, "ex@example.org")
    admin_key = make_account(api, "ada@example.org", admin=True)
    assert admin_key
    browser = Browser(api)
    browser.sign_in("ex@example.org")
    app = register(api)
    rp, _, token = sign_in_and_get_tokens(api, browser, app)
    with api.archive.db.session(write=True) as session:
        admin = users.get_user_by_email(session, "ada@example.org")
        ex = users.get_user_by_email(session, "ex@example.org")
        accounts.set_status(api.archive, session, admin, ex.id, UserStatus.REJECTED)
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    r = api.client.get("/api/users/me/", headers=bearer)
    assert r.status_code == 401 and "not active" in r.json()["detail"]
    assert api.client.get("/oauth/userinfo", headers=bearer).status_code == 401
    assert rp.introspect_token(f"{ISSUER}/oauth/introspect", token["access_token"]).json() == {
        "active": False
    }
    with pytest.raises(OAuthError) as refused:
        rp.refresh_token(f"{ISSUER}/oauth/token")
    assert refused.value.error == "invalid_grant"
    # Its browser session ended: it is sent to sign in, which refuses it.
    r = browser.get(start(rp).path)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    refused_page = browser.post(
        "/login", {"email": "ex@example.org", "password": "correct horse battery"}
    )
    assert refused_page.status_code == 400
