"""Sign-in with GitHub and ORCID, against a small OAuth provider on loopback that speaks
both providers' token and profile endpoints and records what the archive sent it."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from dandi_archive.db.models import ExternalAccount, User, UserStatus

from ..web.helpers import Browser, make_account

QUESTIONNAIRE = "/api/users/questionnaire-form/"

GITHUB_USER: object = {"id": 4242, "login": "jdoe", "name": "Jane From GitHub"}
GITHUB_EMAILS = [
    {"email": "unverified@example.org", "primary": False, "verified": False},
    {"email": "jane@lab.example.org", "primary": True, "verified": True},
]


class Provider(BaseHTTPRequestHandler):
    requests: list[tuple[str, str, dict]] = []

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _json(self, body: object, status: int = 200) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        form = {
            k: v[0]
            for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"]))).items()
        }
        form = {k.decode(): v.decode() for k, v in form.items()}
        self.requests.append(("POST", self.path, form))
        secret_ok = form.get("client_secret") == "s3cret"
        if form.get("code") == "crash":  # a gateway's error page
            return self._json(b"<html>502 Bad Gateway</html>", 502)
        if self.path == "/login/oauth/access_token":  # GitHub: errors come with a 200
            if form.get("code") == "good" and secret_ok:
                return self._json({"access_token": "gh-token", "token_type": "bearer"})
            return self._json({"error": "bad_verification_code", "error_description": "expired"})
        if self.path == "/oauth/token" and form.get("code") == "good" and secret_ok:
            return self._json(
                {"access_token": "o", "orcid": "0000-0002-1825-0097", "name": "Josiah Carberry"}
            )
        if self.path == "/oauth/token" and form.get("code") == "nobody":
            return self._json({"access_token": "o", "token_type": "bearer"})
        return self._json({"error": "invalid_grant"}, 400)

    def do_GET(self) -> None:
        self.requests.append(("GET", self.path, {"auth": self.headers.get("Authorization")}))
        if self.headers.get("Authorization") != "Bearer gh-token":
            return self._json({"message": "Bad credentials"}, 401)
        if self.path == "/user":
            return self._json(GITHUB_USER)
        if self.path == "/user/emails":
            return self._json(GITHUB_EMAILS)
        return self._json({}, 404)


@pytest.fixture
def provider_url() -> Iterator[str]:
    Provider.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def api(make_api, provider_url):
    return make_api(
        github_client_id="gh-client",
        github_client_secret="s3cret",
        github_url=provider_url,
        github_api_url=provider_url,
        orcid_client_id="orcid-client",
        orcid_client_secret="s3cret",
        orcid_url=provider_url,
    )


def start(web: Browser, provider: str, next: str = "/") -> str:
    """Follow the sign-in button to the provider; return the state it was given."""
    r = web.get(f"/login/{provider}", params={"next": next})
    assert r.status_code == 303
    location = urlsplit(r.headers["location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["redirect_uri"] == f"http://testserver/login/{provider}/callback"
    assert query["response_type"] == "code"
    return query["state"]


def come_back(web: Browser, provider: str, state: str, code: str = "good"):
    """What the provider's redirect after the person agreed does."""
    return web.get(f"/login/{provider}/callback", params={"code": code, "state": state})


def test_sign_in_page_offers_the_configured_providers(api):
    page = Browser(api).get("/login").text
    assert 'href="/login/github?next=/"' in page and "Sign in with GitHub" in page
    assert "Sign in with ORCID" in page
    assert "Sign up with GitHub" in Browser(api).get("/signup").text


def test_first_github_sign_in_makes_an_account_that_answers_the_questions(api, provider_url):
    web = Browser(api)
    state = start(web, "github", next="/search")
    r = come_back(web, "github", state)
    assert r.status_code == 303 and r.headers["location"] == QUESTIONNAIRE
    page = web.get("/account").text
    assert "jane@lab.example.org" in page and "Jane From GitHub" in page
    with api.archive.db.session() as session:
        user = session.query(User).filter_by(email="jane@lab.example.org").one()
        assert user.status == UserStatus.INCOMPLETE and user.password_hash is None
        assert user.email_verified  # GitHub's verified primary address
        link = session.get(ExternalAccount, ("github", "4242"))
        assert link is not None and link.user_id == user.id
        assert link.login == "jdoe"  # people find each other by it (/api/users/search/)
    # The code was exchanged with the client secret, then the profile read with the token.
    post = next(r for r in Provider.requests if r[0] == "POST")
    assert post[1] == "/login/oauth/access_token"
    assert post[2]["client_id"] == "gh-client" and post[2]["code"] == "good"
    assert post[2]["redirect_uri"] == "http://testserver/login/github/callback"
    assert ("GET", "/user/emails", {"auth": "Bearer gh-token"}) in Provider.requests

    # Signing in again finds the same account; once approved, it lands where it asked.
    with api.archive.db.session(write=True) as session:
        session.query(User).filter_by(
            email="jane@lab.example.org"
        ).one().status = UserStatus.APPROVED
    again = Browser(api)
    r = come_back(again, "github", start(again, "github", next="/search"))
    assert r.status_code == 303 and r.headers["location"] == "/search"
    with api.archive.db.session() as session:
        assert session.query(User).count() == 1


def test_github_sign_in_finds_the_account_with_the_same_verified_address(api):
    make_account(api, "jane@lab.example.org", name="Jane Doe")
    web = Browser(api)
    r = come_back(web, "github", start(web, "github"))
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "Jane Doe" in web.get("/account").text
    with api.archive.db.session() as session:
        assert session.query(User).count() == 1


def test_github_address_is_compared_exactly_not_as_a_pattern(api, monkeypatch):
    # "jane_doe" as a LIKE pattern would match "janeXdoe": a different person.
    make_account(api, "janeXdoe@lab.example.org", name="Someone Else")
    verified = {"email": "jane_doe@lab.example.org", "primary": True, "verified": True}
    monkeypatch.setattr(sys.modules[__name__], "GITHUB_EMAILS", [verified])
    web = Browser(api)
    r = come_back(web, "github", start(web, "github"))
    assert r.status_code == 303 and r.headers["location"] == QUESTIONNAIRE  # a new account
    assert "Someone Else" not in web.get("/account").text
    with api.archive.db.session() as session:
        assert session.query(User).count() == 2


def test_orcid_sign_in_without_an_address(api):
    web = Browser(api)
    r = come_back(web, "orcid", start(web, "orcid"))
    assert r.status_code == 303
    assert "Josiah Carberry" in web.get("/account").text
    with api.archive.db.session() as session:
        user = session.get(
            User, session.get(ExternalAccount, ("orcid", "0000-0002-1825-0097")).user_id
        )
        assert user.email == "0000-0002-1825-0097@orcid.invalid"


def test_a_signed_in_user_connects_another_identity(api):
    make_account(api, "someone.else@example.org", name="Someone Else")
    web = Browser(api)
    web.sign_in("someone.else@example.org")
    come_back(web, "orcid", start(web, "orcid"))
    with api.archive.db.session() as session:
        link = session.get(ExternalAccount, ("orcid", "0000-0002-1825-0097"))
        assert session.get(User, link.user_id).email == "someone.else@example.org"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("bad code", "GitHub refused the sign-in: expired."),
        ("forged state", "This sign-in was not started here or has expired; try again."),
        ("non-ASCII state", "This sign-in was not started here or has expired; try again."),
        ("denied", "GitHub did not sign you in: The user has denied your application access."),
    ],
)
def test_failed_sign_ins_say_why_and_sign_nobody_in(api, case, message):
    web = Browser(api)
    state = start(web, "github")
    if case == "bad code":
        r = come_back(web, "github", state, code="stale")
    elif case == "forged state":
        r = come_back(web, "github", "not-" + state)
    elif case == "non-ASCII state":
        r = come_back(web, "github", "\u00e9" + state)
    else:
        params = {"error": "access_denied", "state": state}
        params["error_description"] = "The user has denied your application access"
        r = web.get("/login/github/callback", params=params)
    assert r.status_code == 400
    assert message in r.text
    assert web.get("/account").status_code in (302, 303, 401)
    with api.archive.db.session() as session:
        assert session.query(User).count() == 0
        assert session.query(ExternalAccount).count() == 0


def test_rejected_accounts_cannot_sign_in_with_github(api):
    make_account(api, "jane@lab.example.org", status=UserStatus.REJECTED)
    web = Browser(api)
    r = come_back(web, "github", start(web, "github"))
    assert r.status_code == 400 and "This account was not approved." in r.text
    with api.archive.db.session() as session:
        assert session.query(ExternalAccount).count() == 0


def test_unconfigured_provider_is_a_404(make_api):
    api = make_api()
    assert Browser(api).get("/login/github").status_code == 404
    assert "Sign in with" not in Browser(api).get("/login").text


def test_a_state_is_good_for_one_try(api):
    web = Browser(api)
    state = start(web, "github")
    params = {"error": "temporarily_unavailable", "state": state}
    assert web.get("/login/github/callback", params=params).status_code == 400
    r = come_back(web, "github", state)  # the real answer, too late
    assert r.status_code == 400 and "not started here" in r.text
    state = start(web, "github")
    assert come_back(web, "github", state).status_code == 303
    assert "not started here" in come_back(web, "github", state).text


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (b"<html>rate limited</html>", "GitHub did not say who you are"),
        (["not", "a", "profile"], "answer about you was not understood."),
        ({"login": "jdoe"}, "answer about you was not understood."),
        ({"id": 4242, "login": "jdoe", "name": {"first": "Jane"}}, "was not understood"),
    ],
)
def test_an_unreadable_github_profile_is_a_400(api, monkeypatch, profile, message):
    monkeypatch.setattr(sys.modules[__name__], "GITHUB_USER", profile)
    web = Browser(api)
    r = come_back(web, "github", start(web, "github"))
    assert r.status_code == 400 and message in r.text
    with api.archive.db.session() as session:
        assert session.query(User).count() == 0


@pytest.mark.parametrize(
    ("provider", "code", "message"),
    [
        ("orcid", "nobody", "ORCID did not say who you are."),
        ("orcid", "stale", "ORCID refused the sign-in: invalid_grant."),
        ("github", "crash", "GitHub could not be reached"),
        ("github", "", "GitHub did not sign you in: no authorization code."),
    ],
)
def test_provider_errors_are_a_400(api, provider, code, message):
    web = Browser(api)
    r = come_back(web, provider, start(web, provider), code=code)
    assert r.status_code == 400 and message in r.text
    with api.archive.db.session() as session:
        assert session.query(User).count() == 0


def test_an_unreachable_provider_is_a_400(make_api):
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    api = make_api(github_client_id="gh", github_client_secret="s3cret", github_url=closed)
    web = Browser(api)
    r = come_back(web, "github", start(web, "github"))
    assert r.status_code == 400 and "GitHub could not be reached" in r.text


def answer_questions(web: Browser) -> None:
    answers = {
        "First Name": "Jane",
        "Last Name": "Doe",
        "Affiliation(s)": "The Lab",
        "Lab/project website": "https://lab.example.org",
        "Please describe how your research project will utilize DANDI resources.": "Share data",
    }
    assert web.post(QUESTIONNAIRE, answers).status_code == 303


@pytest.mark.parametrize(
    ("domains", "status"),
    [
        (".example.org", UserStatus.APPROVED),
        ("@lab.example.org,.edu", UserStatus.APPROVED),
        ("@example.org", UserStatus.PENDING),  # a whole domain: not its subdomains
        ("", UserStatus.PENDING),
    ],
)
def test_a_verified_address_of_a_configured_domain_is_approved(
    make_api, provider_url, domains, status
):
    api = make_api(
        github_client_id="gh-client",
        github_client_secret="s3cret",
        github_url=provider_url,
        github_api_url=provider_url,
        auto_approve_domains=domains,
    )
    web = Browser(api)
    come_back(web, "github", start(web, "github"))
    answer_questions(web)
    assert web.client.get("/api/users/me/").json()["status"] == status.value
