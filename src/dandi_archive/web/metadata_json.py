"""The metadata editor's JSON mode, for experts: the whole document in one text box.

What is typed is read strictly (malformed JSON is reported with its line and column and
nothing is saved), then saved through the same service call as the form and the API.
The fields the archive sets (identifier, version, citation…) are kept as they are, as
the API keeps them; ``kept_as_set`` names those the person changed, so the page can
say so instead of dropping the change silently. Problems are listed by JSON path
(``contributor[0].email``) in the words of :mod:`validation_text`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from dandi_archive.api.guard import unstorable
from dandi_archive.dandisets.metadata import VERSION_COMPUTED_FIELDS
from dandi_archive.web.validation_text import REQUIRED, plain

ACCESS_SET_BY_ARCHIVE = ("schemaKey", "status", "embargoedUntil")
_ABSENT: Any = object()


class Unreadable(ValueError):
    """The text is not a JSON object the archive can store; ``message`` says why and
    ``line``/``column`` (from 1, or None) where."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise Unreadable(f"The number {text} is too large to store.")
    return number


def _no_constant(name: str) -> Any:
    raise Unreadable(f"{name} is not a JSON number: write a number or null.")


def loads(text: str) -> Any:
    """JSON as PostgreSQL's JSONB can store it (no NaN, Infinity or NUL characters)."""
    try:
        document = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise Unreadable(
            f"This is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}.",
            exc.lineno,
            exc.colno,
        ) from None
    if problems := unstorable(document):
        raise Unreadable("This cannot be stored: " + "; ".join(problems[:5]) + ".")
    return document


def read(text: str) -> dict[str, Any]:
    """The metadata document typed into the JSON box."""
    if not text.strip():
        raise Unreadable("The box is empty: the metadata is one JSON object, { … }.")
    document = loads(text)
    if not isinstance(document, dict):
        raise Unreadable("The metadata must be one JSON object, written { … }.")
    return document


def dumps(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, indent=2, ensure_ascii=False)


def kept_as_set(submitted: dict[str, Any], shown: dict[str, Any]) -> list[str]:
    """The fields the archive sets that the person changed from what the page showed
    (the title, "name", is theirs to change)."""
    changed = [
        key
        for key in VERSION_COMPUTED_FIELDS
        if key != "name" and submitted.get(key, _ABSENT) != shown.get(key, _ABSENT)
    ]
    mine, theirs = _first_access(submitted), _first_access(shown)
    changed += [
        f"access[0].{key}"
        for key in ACCESS_SET_BY_ARCHIVE
        if mine.get(key, _ABSENT) != theirs.get(key, _ABSENT)
    ]
    return changed


def _first_access(metadata: dict[str, Any]) -> dict[str, Any]:
    access = metadata.get("access")
    first = access[0] if isinstance(access, list) and access else {}
    return first if isinstance(first, dict) else {}


def json_path(dotted: str) -> str:
    """``contributor.0.Person.email`` -> ``contributor[0].email`` (pydantic names the
    chosen variant of a union in its paths; the document has no such level)."""
    path = ""
    for part in dotted.split("."):
        if not part or part[:1].isupper():
            continue
        path += f"[{part}]" if part.isdigit() else (f".{part}" if path else part)
    return path


def problems(errors: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(JSON path, words) for each validation error, each said once, in order."""
    said: list[tuple[str, str]] = []
    for error in errors:
        dotted = ".".join(p for p in error.get("field", "").split(".") if not p[:1].isupper())
        message = error.get("message", "")
        if message.endswith("is a required property") and message.startswith("'"):
            # JSON Schema reports a missing field on its parent: name the field itself.
            dotted = ".".join(filter(None, [dotted, message.split("'")[1]]))
            words = REQUIRED
        else:
            words = plain(dotted, message)
        entry = (json_path(dotted) or "(the whole document)", words)
        if entry not in said:
            said.append(entry)
    return said
