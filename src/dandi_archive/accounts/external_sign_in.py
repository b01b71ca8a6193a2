"""Sign-in through GitHub or ORCID: which providers are set up, who a person is by their
provider's answers, and which archive account that outside identity belongs to.

A provider is on when its client id and secret are configured. The OAuth 2
authorization-code flow itself (the redirect with a one-time ``state``, the ``code``
exchanged with the client secret for an access token, the token on API calls) is
authlib's; ``Provider.registration`` is how it is told about a provider, and
web/external_sign_in.py drives it. A new person gets an account waiting for approval, as
with a password sign-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from authlib.integrations.base_client import OAuthError
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
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
    login: str | None = None  # the person's name at the provider (GitHub's login)


class ProviderApi(Protocol):
    """What reading an identity needs of an authlib client: a GET carrying the token."""

    async def get(self, url: str, *, token: Mapping[str, Any]) -> httpx.Response: ...


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

    def registration(self) -> dict[str, Any]:
        """The keyword arguments of authlib's ``OAuth.register`` for this provider."""
        return {
            "name": self.name,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "authorize_url": self.authorize_url,
            "access_token_url": self.token_url,
            "client_kwargs": {
                "scope": self.scope,
                # The secret in the form, not in Basic auth: what both providers document.
                "token_endpoint_auth_method": "client_secret_post",
                "timeout": TIMEOUT,
            },
        }

    async def identity(self, api: ProviderApi, token: Mapping[str, Any]) -> Identity:
        """Who the person is, from the token they were given (and the provider's API)."""
        if not token.get("access_token"):
            raise SignInFailed(f"{self.label} refused the sign-in: no access token.")
        if self.name == "github":
            return await _github_identity(api, self.api_url, token)
        return _orcid_identity(token)


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


class _GitHubUser(BaseModel):
    id: int
    login: str = ""
    name: str | None = None


class _GitHubEmail(BaseModel):
    email: str
    primary: bool = False
    verified: bool = False


class _OrcidToken(BaseModel):
    orcid: str = Field(min_length=1)
    name: str | None = None


_GITHUB_EMAILS = TypeAdapter(list[_GitHubEmail])


async def _github_identity(api: ProviderApi, api_url: str, token: Mapping[str, Any]) -> Identity:
    try:
        profile = (await api.get(f"{api_url}/user", token=token)).raise_for_status().json()
        emails = (await api.get(f"{api_url}/user/emails", token=token)).raise_for_status().json()
    except (httpx.HTTPError, OAuthError, ValueError) as exc:
        raise SignInFailed(f"GitHub did not say who you are ({exc}).") from None
    try:
        user = _GitHubUser.model_validate(profile)
        addresses = _GITHUB_EMAILS.validate_python(emails)
    except ValidationError:
        raise SignInFailed("GitHub's answer about you was not understood.") from None
    # The primary address if verified, else any verified one: never an unverified one,
    # since an address is what an existing account is recognised by.
    verified = sorted((e for e in addresses if e.verified), key=lambda e: not e.primary)
    return Identity(
        provider="github",
        subject=str(user.id),
        name=user.name or user.login,
        email=verified[0].email if verified else None,
        login=user.login[:255] or None,
    )


def _orcid_identity(token: Mapping[str, Any]) -> Identity:
    # ORCID names the person in the token response itself; it gives out no address.
    try:
        answer = _OrcidToken.model_validate(dict(token))
    except ValidationError:
        raise SignInFailed("ORCID did not say who you are.") from None
    return Identity(provider="orcid", subject=answer.orcid, name=answer.name or "", email=None)


def account_for(session: Session, identity: Identity, signed_in: User | None) -> User:
    """The archive account of an outside identity, connecting it on first use.

    First use connects it to the signed-in account, else to the account with the same
    verified email address, else to a new account that answers the sign-up questionnaire next.
    """
    link = session.get(ExternalAccount, (identity.provider, identity.subject))
    if link is not None:
        if signed_in is not None and signed_in.id != link.user_id:
            raise Conflict("This identity is already connected to another archive account.")
        user = session.get(User, link.user_id)
    else:
        user = signed_in or _by_email(session, identity.email) or _new_user(session, identity)
        link = ExternalAccount(
            provider=identity.provider, subject=identity.subject, user_id=user.id
        )
        session.add(link)
    link.login = identity.login  # logins can be renamed: the latest one counts
    session.flush()
    assert user is not None
    if identity.email and identity.email.strip().lower() == user.email.strip().lower():
        user.email_verified = True  # the provider vouches for it (see Identity.email)
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
    return users.create_user(session, email, name=name[:255], status=UserStatus.INCOMPLETE)
