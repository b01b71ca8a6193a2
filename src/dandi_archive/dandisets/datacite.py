"""A small client of DataCite's REST API (https://support.datacite.org/docs/api).

``PUT /dois/{doi}`` creates or updates a DOI; sending ``event: publish`` makes it
findable. Transient failures (connection errors, 429, 5xx) are retried with
exponential backoff; anything else is reported to the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)


class DataCiteError(Exception):
    """DataCite refused the request (or stayed unreachable through the retries)."""


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and (
        exc.response.status_code == 429 or exc.response.status_code >= 500
    )


class DataCiteClient:
    def __init__(
        self, api_url: str, username: str, password: str, *, attempts: int = 5, timeout: float = 30
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.attempts = attempts
        self.http = httpx.Client(
            auth=(username, password),
            timeout=timeout,
            headers={"Content-Type": "application/vnd.api+json"},
        )

    def put_doi(self, doi: str, attributes: dict[str, Any]) -> dict[str, Any]:
        """Create or update ``doi`` with these attributes; returns DataCite's answer."""
        body = {"data": {"id": doi, "type": "dois", "attributes": {**attributes, "doi": doi}}}
        return self._send(self._put, f"{self.api_url}/dois/{doi}", body)

    def hide_doi(self, doi: str) -> dict[str, Any]:
        """Move a findable DOI to DataCite's "registered" state: it keeps resolving but is
        no longer listed (DataCite never deletes a findable DOI)."""
        return self.put_doi(doi, {"event": "hide"})

    def delete_doi(self, doi: str) -> None:
        """Delete a DOI that is still a DataCite draft (a missing one is already gone)."""
        self._send(self._delete, f"{self.api_url}/dois/{doi}")

    def _send(self, request: Callable[..., Any], *args: Any) -> Any:
        """One request, retried with backoff while DataCite fails transiently; any other
        failure becomes a DataCiteError that says what DataCite answered."""
        sender = retry(
            retry=retry_if_exception(_transient),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=0.5, max=30),
            reraise=True,
        )(request)
        try:
            return sender(*args)
        except httpx.HTTPStatusError as exc:
            raise DataCiteError(
                f"DataCite answered {exc.response.status_code}: {exc.response.text[:500]}"
            ) from exc
        except httpx.TransportError as exc:
            raise DataCiteError(f"DataCite is unreachable: {exc}") from exc

    def _delete(self, url: str) -> None:
        response = self.http.delete(url)
        if response.status_code != 404:
            response.raise_for_status()

    def _put(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.put(url, json=body)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self.http.close()
