"""Presigned S3 URLs (Signature Version 4, query-string form) computed directly.

botocore's ``generate_presigned_url`` builds a whole request through its event system
for each URL: about a millisecond of CPU, the largest part of a download redirect. With
static credentials a presigned URL is a few HMACs over a canonical request, and the
signing key changes once a day, so it is cached. Every URL is the one botocore would
make (tests compare the signatures); the scheme, host and path of the bucket are taken
from a URL botocore presigned once, so the addressing style stays botocore's.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
PROBE_KEY = "presign-probe"


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


class QuerySigner:
    """Presigns requests to one bucket with one set of static credentials."""

    def __init__(
        self, probe_url: str, *, access_key_id: str, secret_access_key: str, region: str
    ) -> None:
        """``probe_url``: a URL botocore presigned for the object ``PROBE_KEY``."""
        parts = urlsplit(probe_url)
        if not parts.path.endswith("/" + PROBE_KEY):
            raise ValueError(f"unexpected presigned URL form: {probe_url}")
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.host = parts.netloc
        if parts.port is not None and (parts.scheme, parts.port) in (("http", 80), ("https", 443)):
            self.host = parts.hostname or parts.netloc
        self.prefix = parts.path[: -len(PROBE_KEY)]  # "/bucket/" or "/"
        self.access_key_id = access_key_id
        self.secret = secret_access_key
        self.region = region
        self._keys: dict[str, bytes] = {}  # date -> signing key

    def _signing_key(self, date: str) -> bytes:
        key = self._keys.get(date)
        if key is None:
            key = _hmac(("AWS4" + self.secret).encode(), date)
            for part in (self.region, "s3", "aws4_request"):
                key = _hmac(key, part)
            self._keys = {date: key}  # one day's key is all that is needed
        return key

    def url(
        self,
        method: str,
        key: str,
        expires: int,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> str:
        """A presigned URL for ``method`` on the object ``key``; ``params`` are the
        operation's query parameters, ``headers`` the headers the client must send
        (signed, so S3 refuses a request without them)."""
        moment = now or datetime.now(UTC)
        stamp = moment.strftime("%Y%m%dT%H%M%SZ")
        date = stamp[:8]
        scope = f"{date}/{self.region}/s3/aws4_request"
        signed = {"host": self.host}
        signed.update({k.lower(): str(v).strip() for k, v in (headers or {}).items()})
        names = ";".join(sorted(signed))
        operation = "".join(f"{_encode(k)}={_encode(str(v))}&" for k, v in (params or {}).items())
        auth = (
            f"X-Amz-Algorithm={ALGORITHM}"
            f"&X-Amz-Credential={_encode(f'{self.access_key_id}/{scope}')}"
            f"&X-Amz-Date={stamp}&X-Amz-Expires={expires}"
            f"&X-Amz-SignedHeaders={_encode(names)}"
        )
        query = operation + auth
        canonical_query = "&".join(sorted(query.split("&"), key=lambda p: p.partition("=")))
        path = self.prefix + quote(key, safe="/~")
        canonical = "\n".join(
            (
                method,
                path,
                canonical_query,
                "".join(f"{name}:{signed[name]}\n" for name in sorted(signed)),
                names,
                UNSIGNED_PAYLOAD,
            )
        )
        to_sign = "\n".join(
            (ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest())
        )
        signature = hmac.new(self._signing_key(date), to_sign.encode(), hashlib.sha256)
        return f"{self.origin}{path}?{query}&X-Amz-Signature={signature.hexdigest()}"
