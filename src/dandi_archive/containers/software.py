"""The container images of a version: listed on its landing page and linked from its
metadata as software."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dandi_archive.containers import facts
from dandi_archive.containers.inspect import IMAGE_KINDS
from dandi_archive.db.models import Asset, AssetBlob, VersionAsset


def images(session: Session, version_id: int) -> list[tuple[Any, str, int, dict[str, Any]]]:
    """(asset id, path, size, image facts) of each readable image in a version, by path."""
    rows = session.execute(
        select(VersionAsset.asset_id, VersionAsset.path, AssetBlob.size, AssetBlob.container)
        .join(Asset, Asset.id == VersionAsset.asset_id)
        .join(AssetBlob, AssetBlob.id == Asset.blob_id)
        .where(
            VersionAsset.version_id == version_id,
            AssetBlob.container["content"].as_string().in_(IMAGE_KINDS),
        )
        .order_by(VersionAsset.path)
    )
    found = []
    for asset_id, path, size, container in rows:
        image = facts.image_of(container)
        if image is not None:
            found.append((asset_id, path, size, image))
    return found


def software_resources(session: Session, version_id: int, api_url: str) -> list[dict]:
    """The ``relatedResource`` entries a version's images call for."""
    return [
        facts.software_resource(api_url, asset_id, path, image)
        for asset_id, path, _, image in images(session, version_id)
    ]


def with_software(
    session: Session, version_id: int, metadata: dict[str, Any], api_url: str
) -> dict[str, Any] | None:
    """``metadata`` with its software links brought up to date, or None if they are."""
    wanted = software_resources(session, version_id, api_url)
    merged = facts.merge_resources(metadata.get("relatedResource"), wanted, api_url)
    return None if merged is None else {**metadata, "relatedResource": merged}


def listing(session: Session, version_id: int, api_url: str) -> list[dict[str, Any]]:
    """What the landing page's "Software" section shows for each image."""
    shown = []
    for asset_id, path, size, image in images(session, version_id):
        url = facts.download_url(api_url, asset_id)
        shown.append(
            {
                "asset_id": str(asset_id),
                "path": path,
                "size": size,
                "kind": facts.KIND_NAMES[image["format"]],
                "image": image,
                "url": url,
                "commands": facts.commands(image, path, url),
            }
        )
    return shown
