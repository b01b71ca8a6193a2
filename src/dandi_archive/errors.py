"""Domain errors. Each carries the HTTP status the API answers with and a message
for the user; the API turns them into ``{"detail": message}``."""

from __future__ import annotations


class ArchiveError(Exception):
    status_code = 400
    # Commit the transaction despite the error: for refusals that must still record
    # something (a failed upload that is dropped, for instance).
    keep_changes = False

    def __init__(self, message: str, *, keep_changes: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.keep_changes = keep_changes


class BadRequest(ArchiveError):
    status_code = 400


class NotAuthenticated(ArchiveError):
    status_code = 401

    def __init__(self, message: str = "Authentication credentials were not provided.") -> None:
        super().__init__(message)


class PermissionDenied(ArchiveError):
    status_code = 403


class NotFound(ArchiveError):
    status_code = 404


class MethodNotAllowed(ArchiveError):
    status_code = 405


class NotAcceptable(ArchiveError):
    status_code = 406


class Conflict(ArchiveError):
    status_code = 409


class TooLarge(ArchiveError):
    status_code = 413


class Locked(ArchiveError):
    status_code = 423


class TooManyRequests(ArchiveError):
    """Throttled; ``retry_after`` (seconds) becomes the ``Retry-After`` header."""

    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)
