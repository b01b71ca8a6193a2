"""Validator messages in words a person can act on, each with an example of a valid
value: JSON Schema and pydantic say ``String should match pattern '^([\\w\\s…'``; the
metadata editor says 'Write the name as "Family, Given", e.g. "Curie, Marie".'"""

from __future__ import annotations

import re

# By the field's last name in the path, what its pattern or format asks for.
BY_FIELD = {
    "name": 'Write the name as "Family, Given", e.g. "Curie, Marie".',
    "identifier": "An ORCID iD is four groups of four characters, e.g. 0000-0002-1825-0097 "
    "(without https://orcid.org/).",
    "email": "Enter an e-mail address, e.g. jane.doe@example.org.",
    "url": "Enter a full web address, e.g. https://example.org/lab.",
    "awardNumber": "Enter the award number as the funder writes it, e.g. R01MH123456.",
}

PATTERN = re.compile(r"does not match '|String should match pattern")
URL = re.compile(r"valid URL|is not a 'uri'|relative URL|URL scheme")
EMAIL = re.compile(r"valid email|is not a 'email'")
ENUM = re.compile(r"is not one of|Input should be '")
TOO_SHORT = re.compile(r"should be non-empty|is too short|at least 1 item|should have at least")
ANY_OF = re.compile(r"is not valid under any of the given schemas")
MISSING = re.compile(r"'(\w+)' is a required property|^Field required$")
REQUIRED = "This field is required."
# A value of the wrong JSON type, as pydantic and JSON Schema say it.
TYPE = re.compile(
    r"Input should be a valid (list|string|dictionary|integer|number|boolean)"
    r"|is not of type '(\w+)'"
)
BY_TYPE = {
    "list": "This should be a list, written [ … ].",
    "array": "This should be a list, written [ … ].",
    "string": 'This should be text, written in quotes: "…".',
    "dictionary": "This should be an object, written { … }.",
    "object": "This should be an object, written { … }.",
    "integer": "This should be a whole number.",
    "number": "This should be a number.",
    "boolean": "This should be true or false.",
}


def _leaf(path: str) -> str:
    parts = [p for p in path.split(".") if p and not p.isdigit()]
    return parts[-1] if parts else ""


def plain(path: str, message: str) -> str:
    """The message for the field at ``path`` (dotted, as the form names it)."""
    leaf = _leaf(path)
    if missing := MISSING.search(message):
        return f"{missing[1]} is required." if missing[1] else REQUIRED
    if (wrong := TYPE.search(message)) and (words := BY_TYPE.get(wrong[1] or wrong[2])):
        return words
    if PATTERN.search(message):
        if leaf == "identifier" and ".contributor." not in f".{path}.":
            return "This identifier is not in the expected form."
        return BY_FIELD.get(leaf, "This value is not in the expected form.")
    if EMAIL.search(message):
        return BY_FIELD["email"]
    if URL.search(message):
        return BY_FIELD["url"]
    if ENUM.search(message):
        return "Choose one of the offered values."
    if TOO_SHORT.search(message):
        return "Fill this in (it cannot be empty)." if leaf else "Add at least one."
    if ANY_OF.search(message):
        return "Some of this entry's fields are not filled in correctly; see them below."
    return message


def problems(errors: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(field, words) for a list of validation errors, each said once."""
    said: list[tuple[str, str]] = []
    for error in errors:
        field = error.get("field") or "metadata"
        message = error.get("message", "")
        # A data standard's validator (NWB Inspector) speaks of the file, not of a form field.
        entry = (field, message if error.get("standard") else plain(field, message))
        if entry not in said:
            said.append(entry)
    return said
