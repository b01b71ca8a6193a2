"""The syntax of paths: of assets in a Dandiset, of files in a Zarr, of bucket keys.

Pure functions, used by every layer that accepts a path (uploads, Zarrs, the folder
store's reads), so one rule decides what a plain relative path is.
"""

from __future__ import annotations

import re

from dandi_archive.errors import BadRequest

MAX_PATH_LENGTH = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_asset_path(path: object) -> str:
    """Return ``path`` if it is a valid relative POSIX path, else raise BadRequest."""
    if not isinstance(path, str) or not path:
        raise BadRequest("metadata.path is required and must be a non-empty string.")
    if len(path) > MAX_PATH_LENGTH:
        problem = f"is {len(path)} characters long; the limit is {MAX_PATH_LENGTH}"
    else:
        problem = relative_path_problem(path, "the Dandiset root")
    if problem:
        raise BadRequest(f"Invalid asset path {path!r}: it {problem}.")
    return path


def relative_path_problem(path: str, root: str) -> str | None:
    """What makes ``path`` no plain file path below ``root`` (asset and Zarr paths alike):
    none of them may reach outside, name a folder or hide characters."""
    if path.startswith("/"):
        return f"is absolute; paths are relative to {root}"
    if "\\" in path:
        return "contains a backslash; use '/' between folders"
    if _CONTROL.search(path):
        return "contains a control character"
    if path.endswith("/"):
        return "ends with '/'; name a file, not a folder"
    segments = path.split("/")
    if "" in segments:
        return "has an empty segment ('//')"
    if "." in segments or ".." in segments:
        return "contains a '.' or '..' segment"
    return None


def parent_of(path: str) -> str:
    return path.rpartition("/")[0]


def ancestors(path: str) -> list[str]:
    """Folders containing ``path``, root first: ``a/b/c`` -> ``["", "a", "a/b"]``."""
    parts = path.split("/")[:-1]
    return [""] + ["/".join(parts[: i + 1]) for i in range(len(parts))]
