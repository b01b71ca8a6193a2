"""A form for a draft's metadata, generated from dandischema's JSON Schema of Dandiset.

``fields`` turns metadata into a tree of :class:`Field` for the template; ``parse``
turns the posted form back into metadata, guided by the same schema, collecting the
inputs it cannot read (a number that is not one, JSON that does not parse) as field
errors. Form names are dotted paths (``contributor.0.name``) and list items are always
numbered 0..n-1, so validation errors from dandischema (paths like
``contributor.0.email``) land on the input they are about. Adding and removing list
items are form submissions too, so the form works without JavaScript.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from dandischema.models import Dandiset
from jsonschema import Draft202012Validator, FormatChecker

from dandi_archive.web.session import Form
from dandi_archive.web.validation_text import plain

# Top-level fields people edit, in display order ("name" is the title, edited apart).
EDITABLE = (
    "description",
    "contributor",
    "license",
    "keywords",
    "studyTarget",
    "about",
    "protocol",
    "ethicsApproval",
    "acknowledgement",
    "relatedResource",
    "wasGeneratedBy",
)
LONG_TEXT = {"description", "acknowledgement"}
MAX_DEPTH = 4  # deeper structures are edited as JSON
MISSING: Any = object()
REQUIRED = re.compile(r"'(\w+)' is a required property")


class Raw(str):
    """What the person typed into an input that could not be read; shown back as is."""


@cache
def schema() -> dict[str, Any]:
    return Dandiset.model_json_schema(mode="validation")


@dataclass
class Field:
    name: str
    label: str
    kind: str  # text, textarea, number, checkbox, select, multiselect, lines, json,
    #            hidden, object, objects
    help: str = ""
    required: bool = False
    value: Any = None
    options: list[str] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    item_types: list[str] = field(default_factory=list)
    input_type: str = "text"
    errors: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(child.has_errors for child in self.children)


def problems(tree: list[Field]) -> list[tuple[Field, str]]:
    """Every (field, message) in form order: the summary links each to its field."""
    found: list[tuple[Field, str]] = []
    for f in tree:
        found += [(f, message) for message in f.errors]
        found += problems(f.children)
    return found


# -- schema helpers -----------------------------------------------------------------------


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema()["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _unwrap(node: dict[str, Any]) -> dict[str, Any]:
    """``anyOf [X, null]`` -> X (optional fields), with references followed."""
    node = _deref(node)
    options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
    if "anyOf" in node and len(options) == 1:
        merged = {k: v for k, v in node.items() if k != "anyOf"}
        return {**_deref(options[0]), **{k: v for k, v in merged.items() if k != "default"}}
    return node


def _variants(items: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """schemaKey -> object schema, for list items that are one of several objects."""
    items = _deref(items)
    choices = items.get("oneOf") or items.get("anyOf")
    if choices:
        found = {}
        for choice in choices:
            target = _deref(choice)
            key = target.get("properties", {}).get("schemaKey", {}).get("const")
            if target.get("type") != "object" or not key:
                return {}
            found[key] = target
        return found
    if items.get("type") == "object" and items.get("properties"):
        key = items["properties"].get("schemaKey", {}).get("const", "")
        return {key: items}
    return {}


def _kind(node: dict[str, Any], key: str, depth: int) -> str:
    kind = node.get("type")
    if "enum" in node:
        return "select"
    if "const" in node:
        return "hidden"
    if kind == "string":
        return "textarea" if key in LONG_TEXT else "text"
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "checkbox"
    if kind == "array":
        items = _unwrap(node.get("items", {}))
        if "enum" in items:
            return "multiselect"
        if items.get("type") == "string":
            return "lines"
        if depth < MAX_DEPTH and _variants(node.get("items", {})):
            return "objects"
    if kind == "object" and node.get("properties") and depth < MAX_DEPTH:
        return "object"
    return "json"


def _label(key: str, node: dict[str, Any]) -> tuple[str, str]:
    title = str(node.get("title") or "")
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in key).strip()
    label = title if title and len(title) <= 40 else words[:1].upper() + words[1:]
    help_text = str(node.get("description") or (title if len(title) > 40 else ""))
    return label, help_text


def _properties(node: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (k, v)
        for k, v in node.get("properties", {}).items()
        if not _deref(v).get("readOnly") and not v.get("readOnly") and k != "id"
    ]


# -- metadata -> fields ---------------------------------------------------------------------


def _field(
    key: str, node: dict[str, Any], name: str, value: Any, required: bool, depth: int
) -> Field:
    node = _unwrap(node)
    kind = _kind(node, key, depth)
    label, help_text = _label(key, node)
    value = None if value is MISSING else value
    f = Field(name=name, label=label, kind=kind, help=help_text, required=required)
    if kind == "select":
        f.options = [str(o) for o in node["enum"]]
        f.value = "" if value is MISSING or value is None else str(value)
    elif kind == "multiselect":
        f.options = [str(o) for o in _unwrap(node["items"])["enum"]]
        f.value = [str(v) for v in value] if isinstance(value, list) else []
    elif kind == "hidden":
        f.value = node["const"]
    elif kind == "checkbox":
        default = bool(node.get("default", False))
        f.value = default if value is MISSING or value is None else bool(value)
    elif kind == "lines":
        f.value = value if isinstance(value, Raw) else "\n".join(map(str, value or []))
        f.help = (f.help + " One per line.").strip()
    elif kind == "json":
        if isinstance(value, Raw):
            f.value = value
        else:
            f.value = "" if value is MISSING or value is None else json.dumps(value, indent=2)
        f.help = (f.help + " Written as JSON.").strip()
    elif kind == "object":
        f.children = _object_fields(node, name, value if isinstance(value, dict) else {}, depth)
    elif kind == "objects":
        variants = _variants(node["items"])
        f.item_types = list(variants)
        items = value if isinstance(value, list) else []
        for index, item in enumerate(items):
            item = item if isinstance(item, dict) else {}
            variant = variants.get(item.get("schemaKey", ""), next(iter(variants.values())))
            child = Field(
                name=f"{name}.{index}",
                label=f"{item.get('schemaKey') or 'Entry'} {index + 1}",
                kind="object",
                children=_object_fields(variant, f"{name}.{index}", item, depth + 1),
            )
            f.children.append(child)
    else:
        f.input_type = {"email": "email", "uri": "url", "date": "date"}.get(
            node.get("format", ""), "number" if kind == "number" else "text"
        )
        f.value = "" if value is MISSING or value is None else str(value)
    return f


def _object_fields(
    node: dict[str, Any], prefix: str, value: dict[str, Any], depth: int
) -> list[Field]:
    required = set(node.get("required", []))
    return [
        _field(key, sub, f"{prefix}.{key}", value.get(key, MISSING), key in required, depth + 1)
        for key, sub in _properties(node)
    ]


def fields(
    title: str, metadata: dict[str, Any], errors: list[dict[str, str]]
) -> tuple[list[Field], list[str]]:
    """The form's fields with their values and errors, and the errors no field took."""
    root = schema()
    required = set(root.get("required", []))
    props = root["properties"]
    tree = [Field(name="name", label="Title", kind="text", required=True, value=title)]
    tree += [
        _field(key, props[key], key, metadata.get(key, MISSING), key in required, 0)
        for key in EDITABLE
        if key in props
    ]
    return tree, _attach_errors(tree, errors)


def precise_errors(metadata: dict[str, Any], errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """Errors with "not valid under any of the given schemas" (a contributor that is
    neither a valid Person nor Organization) replaced by what is wrong inside the item,
    judged against the variant its schemaKey names, so each lands on its own input."""
    refined: list[dict[str, str]] = []
    for error in errors:
        path = error.get("field", "")
        item = _lookup(metadata, path)
        key = item.get("schemaKey") if isinstance(item, dict) else None
        inner = []
        if "any of the given schemas" in error.get("message", "") and key in schema()["$defs"]:
            variant = {"$defs": schema()["$defs"], **schema()["$defs"][key]}
            checker = Draft202012Validator(variant, format_checker=FormatChecker())
            inner = [
                {"field": ".".join([path, *map(str, e.absolute_path)]), "message": e.message}
                for e in checker.iter_errors(item)
            ]
        refined.extend(inner or [error])
    return refined


def _lookup(value: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _normalise(path: str) -> str:
    # Pydantic names the chosen variant of a union in its paths (contributor.0.Person.name).
    return ".".join(p for p in path.split(".") if p and not p[:1].isupper())


def _attach_errors(tree: list[Field], errors: list[dict[str, str]]) -> list[str]:
    index: dict[str, Field] = {}

    def walk(items: list[Field]) -> None:
        for f in items:
            index[f.name] = f
            walk(f.children)

    walk(tree)
    unplaced = []
    for error in errors:
        path = _normalise(error.get("field", ""))
        message = error.get("message", "")
        required = REQUIRED.fullmatch(message)
        if required:  # JSON Schema reports a missing field on its parent
            path = f"{path}.{required[1]}" if path else required[1]
            message = "This field is required."
        else:
            message = plain(path, message)
        parts = path.split(".") if path else []
        while parts and ".".join(parts) not in index:
            parts.pop()
        if parts:
            target = index[".".join(parts)].errors
            if message not in target:  # the schema and the models may both report it
                target.append(message)
        elif (line := f"{error.get('field') or 'metadata'}: {message}") not in unplaced:
            unplaced.append(line)
    return unplaced


# -- form -> metadata --------------------------------------------------------------------------


def _indices(form: Form, name: str) -> list[int]:
    found = set()
    for key in form.values:
        if key.startswith(name + "."):
            head = key[len(name) + 1 :].split(".", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def _parse(
    key: str,
    node: dict[str, Any],
    name: str,
    form: Form,
    errors: dict[str, str],
    keep_blank: bool,
    depth: int,
) -> Any:
    node = _unwrap(node)
    kind = _kind(node, key, depth)
    if kind == "hidden":
        return node["const"]
    if kind == "checkbox":
        return "true" in form.getlist(name)
    if kind == "multiselect":
        allowed = set(map(str, _unwrap(node["items"])["enum"]))
        chosen = [v for v in form.getlist(name) if v in allowed]
        return chosen or MISSING
    if kind == "lines":
        lines = [line.strip() for line in form.get(name).splitlines() if line.strip()]
        return lines or MISSING
    if kind == "object":
        return _parse_object(node, name, form, errors, keep_blank, depth)
    if kind == "objects":
        variants = _variants(node["items"])
        items = []
        for index in _indices(form, name):
            prefix = f"{name}.{index}"
            variant = variants.get(form.get(f"{prefix}.schemaKey"), next(iter(variants.values())))
            item = _parse_object(variant, prefix, form, errors, keep_blank, depth + 1)
            if item is not MISSING:
                items.append(item)
        return items or MISSING
    text = form.get(name).strip()
    if not text:
        return MISSING
    if kind == "number":
        try:
            return int(text) if node.get("type") == "integer" else float(text)
        except ValueError:
            errors[name] = "Enter a number."
            return Raw(text)
    if kind == "json":
        try:
            return json.loads(text)
        except ValueError as exc:
            errors[name] = f"This is not valid JSON: {exc}."
            return Raw(text)
    return text


def _parse_object(
    node: dict[str, Any],
    prefix: str,
    form: Form,
    errors: dict[str, str],
    keep_blank: bool,
    depth: int,
) -> Any:
    result: dict[str, Any] = {}
    entered = False
    for key, sub in _properties(node):
        value = _parse(key, sub, f"{prefix}.{key}", form, errors, keep_blank, depth + 1)
        if value is MISSING:
            continue
        result[key] = value
        # A ticked-by-default box or a fixed schemaKey alone is not something typed in.
        if _unwrap(sub).get("type") not in ("boolean",) and "const" not in _unwrap(sub):
            entered = True
    return result if entered or keep_blank else MISSING


def parse(
    form: Form, metadata: dict[str, Any], *, keep_blank: bool = False
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """(title, metadata, field errors) from a posted form.

    Fields the form does not show are kept from ``metadata``; shown fields left empty
    are removed.
    """
    props = schema()["properties"]
    errors: dict[str, str] = {}
    result = {k: v for k, v in metadata.items() if k not in EDITABLE}
    for key in EDITABLE:
        value = _parse(key, props[key], key, form, errors, keep_blank, 0)
        if value is not MISSING:
            result[key] = value
    return form.get("name").strip(), result, errors


def add_item(metadata: dict[str, Any], target: str) -> None:
    """Append a blank item to the list at ``path`` (``contributor:Person``)."""
    path, _, item_type = target.partition(":")
    container: Any = metadata
    parts = path.split(".")
    for part in parts[:-1]:
        container = (
            container[int(part)] if isinstance(container, list) else container.setdefault(part, {})
        )
    items = container.setdefault(parts[-1], [])
    if isinstance(items, list):
        items.append({"schemaKey": item_type} if item_type else {})


def remove_item(form: Form, target: str) -> Form:
    """The form without the inputs of list item ``target`` (``contributor.2``)."""
    prefix = target + "."
    return Form({k: v for k, v in form.values.items() if not k.startswith(prefix)})
