"""The hub's sign-in: OAuthenticator's generic OAuth 2 client, pointed at the archive.

People sign in on the archive's own pages (the archive gives codes to approved accounts
only) and the hub asks for the ``openid`` and ``archive`` scopes. From the claims it
takes the username (``preferred_username``) and the groups: only ``approved`` accounts
get in, and ``admin`` makes a hub admin (re-read at each sign-in and refresh, so a
demoted administrator loses it). With the access token it reads the person's API key
(``GET /api/auth/token/``) into the encrypted auth state, and each server starts with
it (``pre_spawn_start``). Before a server starts the tokens are refreshed, which also
asks the archive again whether the account may still be used.
"""

from __future__ import annotations

import json
from typing import Any

from oauthenticator.generic import GenericOAuthenticator
from tornado import web
from traitlets import Unicode, default

from dandi_archive.hub.environment import notebook_environment

APPROVED = "approved"
ADMIN = "admin"
KEY_FIELD = "dandi_api_key"


def claimed_groups(auth_state: dict[str, Any]) -> set[str]:
    user_info = auth_state.get("oauth_user") or {}
    groups = user_info.get("groups")
    return {g for g in groups if isinstance(g, str)} if isinstance(groups, list) else set()


class ArchiveAuthenticator(GenericOAuthenticator):
    archive_api_url = Unicode(
        config=True, help="The archive's API URL (<base URL>/api), given to every server."
    )

    @default("login_service")
    def _login_service_default(self) -> str:
        return "DANDI Archive"

    @default("scope")
    def _scope_default(self) -> list[str]:
        return ["openid", "archive"]

    @default("username_claim")
    def _username_claim_default(self) -> str:
        return "preferred_username"

    @default("enable_auth_state")
    def _enable_auth_state_default(self) -> bool:
        return True  # the API key and tokens are kept there, encrypted

    @default("manage_groups")
    def _manage_groups_default(self) -> bool:
        return True

    @default("auth_state_groups_key")
    def _groups_key_default(self) -> Any:
        return claimed_groups

    @default("allowed_groups")
    def _allowed_groups_default(self) -> set[str]:
        return {APPROVED}

    @default("admin_groups")
    def _admin_groups_default(self) -> set[str]:
        return {ADMIN}

    async def update_auth_model(self, auth_model: dict[str, Any]) -> dict[str, Any]:
        """Add the person's API key, read with their access token (approved accounts
        only: the archive has no key for others, and they do not get in anyway)."""
        auth_state = auth_model["auth_state"]
        if APPROVED in claimed_groups(auth_state):
            auth_state[KEY_FIELD] = await self.fetch_api_key(auth_state["access_token"])
        return auth_model

    async def fetch_api_key(self, access_token: str) -> str:
        key = await self.httpfetch(
            f"{self.archive_api_url.rstrip('/')}/auth/token/",
            "Fetching the archive API key...",
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            validate_cert=self.validate_server_cert,
        )
        if not isinstance(key, str) or not key:
            raise web.HTTPError(502, f"The archive answered no API key: {json.dumps(key)[:200]}")
        return key

    async def check_allowed(self, username: str, auth_model: dict[str, Any] | None) -> bool:
        """Approved archive accounts only, whatever else is configured (an archive
        administrator whose account is not approved does not get in either)."""
        if auth_model is None:
            return False
        groups = set(auth_model.get("groups") or ())
        if APPROVED not in groups:
            self.log.warning("%s is not an approved archive account: refused", username)
            return False
        return True

    async def pre_spawn_start(self, user: Any, spawner: Any) -> None:
        auth_state = await user.get_auth_state() or {}
        key = auth_state.get(KEY_FIELD)
        if not key:
            raise web.HTTPError(
                403, "No archive API key for you yet: sign out of the hub and sign in again."
            )
        # A new dict: the configured one may be shared by every person's spawner.
        spawner.environment = {
            **spawner.environment,
            **notebook_environment(self.archive_api_url, key),
        }
