"""Recording audit events (upstream's record types and details, without e-mail addresses).

Every function adds one row to the caller's session, so the event commits or rolls
back with the change it describes: a refused change leaves no trace.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal, get_args

from dandi_archive.db.models import AuditEvent

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dandi_archive.db.models import Asset, User, Zarr

# Upstream's AuditRecordType, in its order.
Kind = Literal[
    "create_dandiset",
    "change_owners",
    "update_metadata",
    "add_asset",
    "update_asset",
    "remove_asset",
    "create_zarr",
    "upload_zarr_chunks",
    "delete_zarr_chunks",
    "finalize_zarr",
    "unembargo_dandiset",
    "publish_dandiset",
    "delete_dandiset",
    # Ours (upstream deletes the version row and records nothing): an admin withdrew a
    # published version.
    "withdraw_version",
    # Ours: read access to an embargoed Dandiset (reviewers, collaborators).
    "grant_read_access",
    "revoke_read_access",
    "request_access",
    "accept_access_request",
    "decline_access_request",
]
KINDS: tuple[str, ...] = get_args(Kind)
ASSET_KINDS = ("add_asset", "update_asset", "remove_asset")
# Who may read an embargoed Dandiset is its owners' business: readers (anonymous peer
# reviewers, say) are not shown each other in the history.
ACCESS_KINDS = (
    "grant_read_access",
    "revoke_read_access",
    "request_access",
    "accept_access_request",
    "decline_access_request",
)
# Values longer than this (as JSON) are summarised in a metadata diff: the history
# says what changed, the version's metadata says what it is now.
MAX_DIFF_VALUE = 300
MAX_LISTED_PATHS = 100


def record(
    session: Session, dandiset_id: int, user: User | None, kind: Kind, details: dict[str, Any]
) -> AuditEvent:
    event = AuditEvent(
        dandiset_id=dandiset_id,
        user_id=user.id if user else None,
        username=user.username if user else "",
        user_name=user.name if user else "",
        kind=kind,
        details=details,
    )
    session.add(event)
    return event


# -- details -----------------------------------------------------------------------------


def _without_addresses(value: Any) -> Any:
    """The value with every ``email`` field dropped: contacts' addresses are public only
    while the owner keeps them in the metadata, so the history keeps none."""
    if isinstance(value, dict):
        return {k: _without_addresses(v) for k, v in value.items() if k != "email"}
    if isinstance(value, list):
        return [_without_addresses(v) for v in value]
    return value


def _compact(value: Any) -> Any:
    value = _without_addresses(value)
    text = json.dumps(value, sort_keys=True, default=str)
    if len(text) <= MAX_DIFF_VALUE:
        return value
    return {"summary": f"{type(value).__name__} of {len(text)} characters (JSON)"}


def metadata_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Top-level fields added, removed and changed between two metadata documents."""
    added = {k: _compact(new[k]) for k in sorted(new.keys() - old.keys())}
    removed = {k: _compact(old[k]) for k in sorted(old.keys() - new.keys())}
    changed = {
        k: {"old": _compact(old[k]), "new": _compact(new[k])}
        for k in sorted(old.keys() & new.keys())
        if old[k] != new[k]
    }
    return {"added": added, "removed": removed, "changed": changed}


def _person(user: User) -> dict[str, str]:
    return {"username": user.username, "name": user.name}


def asset_details(asset: Asset) -> dict[str, Any]:
    blob, zarr = asset.blob, asset.zarr
    return {
        "path": asset.path,
        "size": blob.size if blob else zarr.size if zarr else 0,
        "asset_blob_id": str(blob.id) if blob else None,
        "zarr_archive_id": str(zarr.id) if zarr else None,
        "asset_id": str(asset.id),
        "checksum": blob.etag if blob else zarr.checksum if zarr else None,
    }


def _paths(paths: list[str]) -> dict[str, Any]:
    return {"paths": paths[:MAX_LISTED_PATHS], "path_count": len(paths)}


# -- one function per kind ---------------------------------------------------------------


def create_dandiset(
    session: Session, dandiset_id: int, user: User, name: str, embargoed: bool
) -> None:
    record(session, dandiset_id, user, "create_dandiset", {"name": name, "embargoed": embargoed})


def delete_dandiset(session: Session, dandiset_id: int, user: User | None) -> None:
    record(session, dandiset_id, user, "delete_dandiset", {})


def change_owners(
    session: Session, dandiset_id: int, user: User | None, old: list[User], new: list[User]
) -> None:
    old_ids, new_ids = {u.id for u in old}, {u.id for u in new}
    details = {
        "removed_owners": [_person(u) for u in old if u.id not in new_ids],
        "added_owners": [_person(u) for u in new if u.id not in old_ids],
    }
    if details["removed_owners"] or details["added_owners"]:
        record(session, dandiset_id, user, "change_owners", details)


def update_metadata(
    session: Session,
    dandiset_id: int,
    user: User | None,
    old: dict[str, Any],
    new: dict[str, Any],
) -> None:
    record(session, dandiset_id, user, "update_metadata", {"diff": metadata_diff(old, new)})


def asset_event(
    session: Session,
    dandiset_id: int,
    user: User | None,
    kind: Literal["add_asset", "update_asset", "remove_asset"],
    asset: Asset,
) -> None:
    details = asset_details(asset)
    if kind == "remove_asset":
        details = {"path": details["path"], "asset_id": details["asset_id"]}
    record(session, dandiset_id, user, kind, details)


def zarr_event(
    session: Session,
    user: User | None,
    kind: Literal["create_zarr", "upload_zarr_chunks", "delete_zarr_chunks", "finalize_zarr"],
    zarr: Zarr,
    paths: list[str] | None = None,
) -> None:
    details: dict[str, Any] = {"zarr_id": str(zarr.id)}
    if kind == "create_zarr":
        details["name"] = zarr.name
    if paths is not None:
        details |= _paths(paths)
    record(session, zarr.dandiset_id, user, kind, details)


def publish_dandiset(session: Session, dandiset_id: int, user: User | None, version: str) -> None:
    record(session, dandiset_id, user, "publish_dandiset", {"version": version})


def unembargo_dandiset(session: Session, dandiset_id: int, user: User | None) -> None:
    record(session, dandiset_id, user, "unembargo_dandiset", {})


def withdraw_version(session: Session, dandiset_id: int, user: User | None, version: str) -> None:
    record(session, dandiset_id, user, "withdraw_version", {"version": version})


def read_access(
    session: Session,
    dandiset_id: int,
    user: User | None,
    kind: Literal["grant_read_access", "revoke_read_access"],
    readers: list[User],
) -> None:
    """Owners let these users read the embargoed Dandiset, or stopped letting them."""
    if readers:
        record(session, dandiset_id, user, kind, {"readers": [_person(u) for u in readers]})


def request_access(
    session: Session, dandiset_id: int, requester: User, request_id: int, message: str
) -> None:
    details = {"request_id": request_id, "message": message}
    record(session, dandiset_id, requester, "request_access", details)


def decide_access_request(
    session: Session,
    dandiset_id: int,
    owner: User | None,
    kind: Literal["accept_access_request", "decline_access_request"],
    request_id: int,
    requester: User,
) -> None:
    details = {"request_id": request_id, "requester": _person(requester)}
    record(session, dandiset_id, owner, kind, details)
