"""A browser-like client for page tests: keeps the session cookie, reads CSRF tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.testclient import TestClient

from dandi_archive.accounts import registration as accounts
from dandi_archive.accounts import users
from dandi_archive.db.models import UserStatus

from ..helpers import ApiClient

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """One visitor: a client of its own on the app, so its cookies are its own."""

    api: ApiClient
    client: TestClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = TestClient(self.api.client.app, base_url="http://testserver")

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(url, follow_redirects=False, **kwargs)

    def post(
        self, url: str, data: dict[str, Any], *, form_page: str | None = None
    ) -> httpx.Response:
        """Submit a form the way a browser does: with the CSRF token of the page."""
        page = self.get(form_page or url)
        match = CSRF.search(page.text)
        assert match, f"no form with a CSRF token on {form_page or url}: {page.status_code}"
        return self.client.post(url, data={"csrf_token": match[1], **data}, follow_redirects=False)

    def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        r = self.post("/login", {"email": email, "password": password})
        assert r.status_code == 303, r.text
        return r

    def sign_out(self) -> None:
        assert self.post("/logout", {}, form_page="/").status_code == 303


def make_account(
    api: ApiClient,
    email: str,
    *,
    admin: bool = False,
    status: UserStatus = UserStatus.APPROVED,
    name: str = "Jane Doe",
) -> str:
    """An account with a password; returns its API key (or "" if not approved)."""
    with api.archive.db.session(write=True) as session:
        user = users.create_user(session, email, name=name, admin=admin, status=status)
        accounts.set_password(session, user, PASSWORD)
        return users.get_or_create_api_key(session, user) if user.is_approved else ""


def text_of(html: str) -> str:
    """Visible text, roughly: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
