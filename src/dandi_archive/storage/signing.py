"""Signed, expiring tokens for URLs the archive serves on behalf of the folder store.

They stand in for S3's presigned URLs: whoever holds one may do exactly the one thing
it names (PUT this part, complete this upload, read this object) until it expires.
"""

from __future__ import annotations

import time
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer


class InvalidToken(Exception):
    """The token was forged, altered, meant for something else, or has expired."""


class UrlSigner:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="dandi-archive-storage")

    def sign(self, action: str, expires: int, **claims: Any) -> str:
        return self._serializer.dumps({"act": action, "exp": int(time.time()) + expires, **claims})

    def verify(self, token: str, action: str) -> dict[str, Any]:
        try:
            claims = self._serializer.loads(token)
        except BadSignature as exc:
            raise InvalidToken("the URL's signature is not valid") from exc
        if claims.get("act") != action:
            raise InvalidToken("the URL was signed for another operation")
        if claims["exp"] < time.time():
            raise InvalidToken("the URL has expired")
        return claims
