"""Sign-in through GitHub or ORCID: the OAuth 2 authorization-code flow, and which
archive account an outside identity belongs to.

A provider is on when its client id and secret are configured. The person is sent to the
provider with a one-time ``state``; the provider sends them back with a ``code``, which
the archive exchanges (with its client secret) for an access token and then reads who
they are. A new person gets an account waiting for approval, as with a password sign-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy.orm import Session

from dandi_archive.accounts import users
from dandi_archive.config import Settings
from dandi_archive.db.models import ExternalAccount, User, UserStatus
from dandi_archive.errors import Conflict, PermissionDenied

TIMEOUT = 15.0


class SignInFailed(Exception):
    """The provider refused or could not be reached; the message is for the person."""


@dataclass(frozen=True)
class Identity:
    provider: str
    subject: str  # the provider's stable id of the person
    name: str
    email: str | None  # only an address the provider has verified


@dataclass(frozen=True)
class Provider:
    name: str  # in URLs: /login/github
    label: str  # on buttons: "Sign in with GitHub"
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    scope: str
    api_url: str = ""

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        query = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": self.scope,
            "state": state,
        }
        return f"{self.authorize_url}?{urlencode(query)}"

    def identity(self, code: str, redirect_uri: str) -> Identity:
        """Exchange the code the person came back with for who they are."""
        with httpx.Client(timeout=TIMEOUT, headers={"Accept": "application/json"}) as http:
            token = self._exchange(http, code, redirect_uri)
            if self.name == "github":
                return _github_identity(http, self.api_url, token["access_token"])
            return _orcid_identity(token)

    def _exchange(self, http: httpx.Client, code: str, redirect_uri: str) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        try:
            response = http.post(self.token_url, data=form)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInFailed(f"{self.label} could not be reached ({exc}).") from None
        # GitHub reports a bad code with 200 and an "error" field, others with a 4xx.
        if response.is_error or not isinstance(body, dict) or "access_token" not in body:
            detail = (
                body.get("error_description") or body.get("error")
                if isinstance(body, dict)
                else None
            )
            raise SignInFailed(
                f"{self.label} refused the sign-in: {detail or response.status_code}."
            )
        return body


def providers(settings: Settings) -> dict[str, Provider]:
    """The configured providers by name, in the order the sign-in page shows them."""
    found: dict[str, Provider] = {}
    if settings.github_client_id and settings.github_client_secret:
        found["github"] = Provider(
            name="github",
            label="GitHub",
            client_id=settings.github_client_id,
            client_secret=settings.github_client_secret,
            authorize_url=f"{settings.github_url}/login/oauth/authorize",
            token_url=f"{settings.github_url}/login/oauth/access_token",
            scope="read:user user:email",
            api_url=settings.github_api_url,
        )
    if settings.orcid_client_id and settings.orcid_client_secret:
        found["orcid"] = Provider(
            name="orcid",
            label="ORCID",
            client_id=settings.orcid_client_id,
            client_secret=settings.orcid_client_secret,
            authorize_url=f"{settings.orcid_url}/oauth/authorize",
            token_url=f"{settings.orcid_url}/oauth/token",
            scope="/authenticate",
        )
    return found


def configured(settings: Settings) -> list[Provider]:
    """The providers for the sign-in buttons."""
    return list(providers(settings).values())


def _github_identity(http: httpx.Client, api_url: str, access_token: str) -> Identity:
    headers = {"Authorization": f"Bearer {access_token}"}
    try:
        profile = http.get(f"{api_url}/user", headers=headers).raise_for_status().json()
        emails = http.get(f"{api_url}/user/emails", headers=headers).raise_for_status().json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SignInFailed(f"GitHub did not say who you are ({exc}).") from None
    try:
        # The primary address if verified, else any verified one: never an unverified
        # one, since an address is what an existing account is recognised by.
        verified = [e for e in emails if e.get("verified")]
        verified.sort(key=lambda e: not e.get("primary"))
        return Identity(
            provider="github",
            subject=str(profile["id"]),
            name=profile.get("name") or profile.get("login") or "",
            email=verified[0]["email"] if verified else None,
        )
    except (KeyError, TypeError, AttributeError):
        raise SignInFailed("GitHub's answer about you was not understood.") from None


def _orcid_identity(token: dict[str, Any]) -> Identity:
    # ORCID names the person in the token response itself; it gives out no address.
    if not token.get("orcid"):
        raise SignInFailed("ORCID did not say who you are.")
    return Identity(
        provider="orcid", subject=token["orcid"], name=token.get("name") or "", email=None
    )


def account_for(session: Session, identity: Identity, signed_in: User | None) -> User:
    """The archive account of an outside identity, connecting it on first use.

    First use connects it to the signed-in account, else to the account with the same
    verified email address, else to a new account waiting for approval.
    """
    link = session.get(ExternalAccount, (identity.provider, identity.subject))
    if link is not None:
        if signed_in is not None and signed_in.id != link.user_id:
            raise Conflict("This identity is already connected to another archive account.")
        user = session.get(User, link.user_id)
    else:
        user = signed_in or _by_email(session, identity.email) or _new_user(session, identity)
        session.add(
            ExternalAccount(provider=identity.provider, subject=identity.subject, user_id=user.id)
        )
        session.flush()
    assert user is not None
    if user.status == UserStatus.REJECTED:
        raise PermissionDenied("This account was not approved.")
    return user


def _by_email(session: Session, email: str | None) -> User | None:
    if not email:
        return None
    return users.find_by_email(session, email)


def _new_user(session: Session, identity: Identity) -> User:
    # Without an address from the provider the account gets a reserved, undeliverable
    # one (RFC 2606 ".invalid"): addresses are unique and required.
    email = identity.email or f"{identity.subject}@{identity.provider}.invalid"
    name = identity.name or identity.subject
    return users.create_user(session, email, name=name[:255], status=UserStatus.PENDING)
