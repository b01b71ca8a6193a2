"""Throttling of guessing: failed password sign-ins and unknown API keys; and of
password-reset mails, so nobody floods an inbox through the archive.

Only failures count, so people who type their password right are never slowed down.
Sign-in failures count per client address and per account (so spreading guesses over
many addresses does not help); API-key failures per client address. Past a limit the
caller gets 429 with ``Retry-After`` until the moving window frees a slot.

Counts are kept by the ``limits`` library: in the process's memory for the embedded
default, in Redis (the broker's, or ``DANDI_ARCHIVE_THROTTLE_STORAGE_URL``) so several API
processes count together. If that storage fails, the request goes on unthrottled and the
failure is logged: throttling is a second line of defence, sign-in must keep working.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from dandi_archive.config import Settings
from dandi_archive.errors import TooManyRequests

log = logging.getLogger(__name__)


class Throttle:
    def __init__(self, settings: Settings) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(settings.throttle_storage))
        self._namespace = settings.queue  # instances sharing a Redis count apart
        self._per_account = parse_many(settings.throttle_sign_in_per_account)
        self._per_address = parse_many(settings.throttle_sign_in_per_address)
        self._api_key = parse_many(settings.throttle_api_key_per_address)
        self._reset_account = parse_many(settings.throttle_password_reset_per_account)
        self._reset_address = parse_many(settings.throttle_password_reset_per_address)
        self._contact = parse_many(settings.throttle_contact_owners_per_account)

    # -- the two uses ------------------------------------------------------------------

    def check_sign_in(self, request: Request, account: str) -> None:
        self._check(
            self._sign_in_keys(request, account),
            "Too many failed sign-ins for this account or from your address; "
            "wait before trying again.",
        )

    def sign_in_failed(self, request: Request, account: str) -> None:
        self._hit(self._sign_in_keys(request, account))

    def check_api_key(self, request: Request) -> None:
        self._check(
            self._api_key_keys(request),
            "Too many requests with an invalid API key from your address; wait before retrying.",
        )

    def api_key_failed(self, request: Request) -> None:
        self._hit(self._api_key_keys(request))

    def password_reset(self, request: Request, account: str) -> None:
        """Count a request for a password-reset mail, or refuse it past the limits.
        Every request counts (each may send a mail), whether the account exists or not,
        so the limit says nothing about which addresses have accounts."""
        keys = self._reset_keys(request, account)
        self._check(
            keys,
            "Too many requests to reset a password for this address or from yours; "
            "wait before asking again.",
        )
        self._hit(keys)

    def check_contact_owners(self, account_id: int) -> None:
        """Refuse a message to a Dandiset's owners past the limits (only messages sent
        count: a refused one, empty say, does not)."""
        self._check(
            self._contact_keys(account_id),
            "You sent several messages to owners recently; wait before the next.",
        )

    def contacted_owners(self, account_id: int) -> None:
        self._hit(self._contact_keys(account_id))

    # -- machinery ---------------------------------------------------------------------

    def _sign_in_keys(self, request: Request, account: str) -> list[tuple[RateLimitItem, str]]:
        address = _address(request)
        account = account.strip().lower()
        return [(item, f"sign-in-address:{address}") for item in self._per_address] + [
            (item, f"sign-in-account:{account}") for item in self._per_account
        ]

    def _reset_keys(self, request: Request, account: str) -> list[tuple[RateLimitItem, str]]:
        address, account = _address(request), account.strip().lower()
        return [(item, f"reset-address:{address}") for item in self._reset_address] + [
            (item, f"reset-account:{account}") for item in self._reset_account
        ]

    def _contact_keys(self, account_id: int) -> list[tuple[RateLimitItem, str]]:
        return [(item, f"contact-account:{account_id}") for item in self._contact]

    def _api_key_keys(self, request: Request) -> list[tuple[RateLimitItem, str]]:
        return [(item, f"api-key-address:{_address(request)}") for item in self._api_key]

    def _check(self, keys: Iterable[tuple[RateLimitItem, str]], message: str) -> None:
        try:
            wait = [
                self._limiter.get_window_stats(item, self._namespace, key).reset_time
                for item, key in keys
                if not self._limiter.test(item, self._namespace, key)
            ]
        except Exception:  # the storage (Redis) is down: do not lock everybody out
            log.exception("throttle storage failed; request not throttled")
            return
        if wait:
            raise TooManyRequests(message, retry_after=int(max(wait) - time.time()) + 1)

    def _hit(self, keys: Iterable[tuple[RateLimitItem, str]]) -> None:
        try:
            for item, key in keys:
                self._limiter.hit(item, self._namespace, key)
        except Exception:
            log.exception("throttle storage failed; failure not counted")


def _address(request: Request) -> str:
    # Behind a proxy, uvicorn's --forwarded-allow-ips makes this the client's address.
    return request.client.host if request.client else "unknown"


def of(request: Request) -> Throttle:
    return request.app.state.throttle
