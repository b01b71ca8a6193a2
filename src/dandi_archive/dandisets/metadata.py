"""Dandiset and asset metadata: what the server computes, strips and validates.

Clients send metadata without the fields the server owns (identifiers, URLs, digests,
citation…); when they send them anyway (``dandi move`` echoes an asset's full metadata
back) they are dropped and recomputed. Validation uses dandischema, the field's own
library, against the *published* form of each record, so "Valid" means publishable.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jsonschema.exceptions
import pydantic
from dandischema.conf import get_instance_config
from dandischema.consts import DANDI_SCHEMA_VERSION
from dandischema.exceptions import JsonschemaValidationError, PydanticValidationError
from dandischema.metadata import validate
from dandischema.models import Dandiset as DandisetModel

from dandi_archive.config import archive_version
from dandi_archive.containers import facts as container_facts
from dandi_archive.standards import bids
from dandi_archive.storage.base import manifest_key

if TYPE_CHECKING:
    from dandi_archive.db.models import Asset, Dandiset, Version, Zarr
    from dandi_archive.instance import Archive

VERSION_COMPUTED_FIELDS = (
    "name",
    "identifier",
    "version",
    "id",
    "url",
    "assetsSummary",
    "citation",
    "doi",
    "dateCreated",
    "datePublished",
    "publishedBy",
    "manifestLocation",
    "releaseNotes",
    "@context",
    "repository",
)
ASSET_COMPUTED_FIELDS = (
    "id",
    "access",
    "path",
    "identifier",
    "contentUrl",
    "contentSize",
    "digest",
    "datePublished",
    "publishedBy",
    "@context",
    "ngff",
    container_facts.FIELD,
)
ZARR_ENCODING_FORMAT = "application/x-zarr"


def instance_name() -> str:
    return get_instance_config().instance_name


def context_url(schema_version: str) -> str:
    return (
        f"https://raw.githubusercontent.com/dandi/schema/master/releases/{schema_version}/"
        "context.json"
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- Dandisets -----------------------------------------------------------------------


def strip_version_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    stripped = {k: v for k, v in metadata.items() if k not in VERSION_COMPUTED_FIELDS}
    access = stripped.get("access")
    if isinstance(access, list) and access and isinstance(access[0], dict):
        stripped["access"] = [
            {k: v for k, v in access[0].items() if k not in ("schemaKey", "status")},
            *access[1:],
        ]
        if not stripped["access"][0]:
            stripped["access"] = stripped["access"][1:]
        if not stripped["access"]:
            del stripped["access"]
    return stripped


def citation(metadata: dict[str, Any], year: int, url: str) -> str:
    """The recommended citation, in the format dandiarchive.org uses.

    Only contributors marked ``includeInCitation`` are named.
    """
    name = str(metadata.get("name", "")).rstrip(".")
    version = metadata.get("version", "")
    authors = [
        c["name"].strip()
        for c in metadata.get("contributor") or []
        if isinstance(c, dict) and c.get("includeInCitation") and c.get("name")
    ]
    if authors:
        return (
            f"{'; '.join(authors)} ({year}) {name} (Version {version}) [Data set]. "
            f"DANDI Archive. {url}"
        )
    return f"{name} ({year}). (Version {version}) [Data set]. DANDI Archive. {url}"


def populate_version_metadata(
    archive: Archive, dandiset: Dandiset, version: Version, metadata: dict[str, Any]
) -> dict[str, Any]:
    """The stored metadata of a version: the user's fields plus every computed one."""
    settings = archive.settings
    ident = dandiset.identifier
    meta = strip_version_metadata(metadata)
    meta.setdefault("schemaKey", "Dandiset")
    meta.setdefault("schemaVersion", DANDI_SCHEMA_VERSION)
    meta["@context"] = context_url(meta["schemaVersion"])
    meta["name"] = version.name
    meta["identifier"] = f"{instance_name()}:{ident}"
    meta["version"] = version.version
    meta["id"] = f"{instance_name()}:{ident}/{version.version}"
    meta["repository"] = settings.webui_url
    meta["url"] = f"{settings.webui_url}/dandiset/{ident}/{version.version}"
    meta["dateCreated"] = iso(dandiset.created)
    meta["manifestLocation"] = [f"{settings.api_url}/dandisets/{ident}/versions/draft/assets/"]
    access: dict[str, Any] = {"schemaKey": "AccessRequirements", "status": "dandi:OpenAccess"}
    if dandiset.embargo_status != "OPEN":
        access["status"] = "dandi:EmbargoedAccess"
        if dandiset.embargo_end_date:
            access["embargoedUntil"] = dandiset.embargo_end_date.isoformat()
    previous = metadata.get("access") if isinstance(metadata.get("access"), list) else []
    extra = previous[0] if previous and isinstance(previous[0], dict) else {}
    meta["access"] = [{**extra, **access}, *previous[1:]]
    meta["assetsSummary"] = metadata.get("assetsSummary") or {
        "schemaKey": "AssetsSummary",
        "numberOfBytes": 0,
        "numberOfFiles": 0,
    }
    for field in ("doi", "datePublished", "publishedBy", "releaseNotes"):
        if field in metadata:
            meta[field] = metadata[field]
    url = f"https://doi.org/{meta['doi']}" if meta.get("doi") else meta["url"]
    meta["citation"] = citation(meta, dandiset.created.year, url)
    return meta


def default_contributor(name: str) -> dict[str, Any]:
    """The creator as contact person, without an address: metadata is public."""
    return {
        "name": name,
        "roleName": ["dcite:ContactPerson"],
        "schemaKey": "Person",
        "affiliation": [],
        "includeInCitation": True,
    }


def contact_person(metadata: dict[str, Any]) -> str:
    for contributor in metadata.get("contributor") or []:
        if isinstance(contributor, dict) and "dcite:ContactPerson" in (
            contributor.get("roleName") or []
        ):
            return contributor.get("name", "")
    return ""


# -- Assets --------------------------------------------------------------------------


# Filled in when an asset is stored, if the client left them out.
ASSET_DEFAULTED_FIELDS = ("schemaKey", "schemaVersion", "blobDateModified", "dateModified")


def strip_asset_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metadata.items() if k not in ASSET_COMPUTED_FIELDS}


def asset_metadata_to_store(
    metadata: dict[str, Any], blob_created: datetime, now: datetime
) -> dict[str, Any]:
    """The client's metadata without computed fields, with server defaults filled in."""
    meta = strip_asset_metadata(metadata)
    meta.setdefault("schemaKey", "Asset")
    meta.setdefault("schemaVersion", DANDI_SCHEMA_VERSION)
    meta.setdefault("blobDateModified", iso(blob_created))
    meta.setdefault("dateModified", iso(now))
    return meta


def is_same_asset_metadata(stored: dict[str, Any], incoming: dict[str, Any]) -> bool:
    """Whether ``incoming`` says nothing new: computed fields ignored, defaults inherited.

    This is how a client's echo of an asset's full metadata (``dandi move`` sends it
    back with only the path changed) is recognised as "no change".
    """
    candidate = strip_asset_metadata(incoming)
    for key in ASSET_DEFAULTED_FIELDS:
        if key not in candidate and key in stored:
            candidate[key] = stored[key]
    return candidate == stored


def asset_full_metadata(
    archive: Archive,
    asset: Asset,
    *,
    embargoed_until: str | None = None,
    embargoed: bool = False,
    publication: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An asset's metadata as clients see it: stored fields plus computed ones.

    ``publication`` holds ``datePublished`` and ``publishedBy`` of an asset that a
    published version holds (see ``services.assets.publication_stamps``).
    """
    # Computed from rows that never change once published (the blob and its digests),
    # so a published asset's document is as frozen as its stored metadata.
    # What a BIDS path says (subject, session, datatype), where the stored metadata is
    # silent: derived from the path, which never changes either.
    meta = bids.with_entities(asset.path, asset.metadata_)
    blob = asset.blob
    meta["@context"] = context_url(meta.get("schemaVersion", DANDI_SCHEMA_VERSION))
    meta["id"] = f"dandiasset:{asset.id}"
    meta["identifier"] = str(asset.id)
    meta["path"] = asset.path
    access: dict[str, Any] = {"schemaKey": "AccessRequirements", "status": "dandi:OpenAccess"}
    if embargoed:
        access["status"] = "dandi:EmbargoedAccess"
        if embargoed_until:
            access["embargoedUntil"] = embargoed_until
    meta["access"] = [access]
    download = f"{archive.settings.api_url}/assets/{asset.id}/download/"
    if blob is not None:
        meta["contentUrl"] = [download, archive.store.public_url(blob.key)]
        meta["contentSize"] = blob.size
        digest = {"dandi:dandi-etag": blob.etag}
        if blob.sha256:
            digest["dandi:sha2-256"] = blob.sha256
        meta["digest"] = digest
        meta.update(container_facts.asset_fields(blob.container))
    elif asset.zarr is not None:
        meta.update(zarr_metadata(archive, asset.zarr))
        # Last, so the first two keep their places (download, bucket) for clients that
        # index them: the Zarr as a plain store over HTTP, live or published alike.
        meta["contentUrl"] = [download, meta["contentUrl"], zarr_tree_url(archive, asset.zarr)]
    if publication:
        meta.update(publication)
    return meta


def zarr_tree_url(archive: Archive, zarr: Zarr) -> str:
    """The Zarr as a plain Zarr store over HTTP (``/api/zarr/{id}/tree/``): every path
    redirects to its bytes, so ``zarr.open_group(url)`` opens a published (frozen) Zarr
    as it opens a live one; the bucket URL of a frozen one is its manifest, not a store."""
    return f"{archive.settings.api_url}/zarr/{zarr.id}/tree/"


def zarr_metadata(archive: Archive, zarr: Zarr) -> dict[str, Any]:
    """What a Zarr asset's metadata says about its Zarr: size, checksum (once Complete),
    storage URL and, for an OME-Zarr image, its axes, shape, dtype and pixel size."""
    # A frozen Zarr's objects are content-addressed; its manifest maps paths to them.
    location = manifest_key(zarr.id) if zarr.is_frozen else zarr.key_prefix
    meta: dict[str, Any] = {
        "contentUrl": archive.store.public_url(location),
        "contentSize": zarr.size,
        "encodingFormat": ZARR_ENCODING_FORMAT,
        "digest": {"dandi:dandi-zarr-checksum": zarr.checksum} if zarr.checksum else {},
    }
    if zarr.ngff and "multiscales" in zarr.ngff:
        meta["ngff"] = zarr.ngff["multiscales"]
    return meta


# -- Validation ----------------------------------------------------------------------


def published_by(now: datetime) -> dict[str, Any]:
    """The PublishActivity recorded in published Dandisets and assets."""
    software: dict[str, Any] = {
        "id": uuid.uuid4().urn,
        "name": f"{instance_name()} API",
        "version": archive_version(),
        "schemaKey": "Software",
    }
    if get_instance_config().instance_identifier:
        software["identifier"] = get_instance_config().instance_identifier
    return {
        "id": uuid.uuid4().urn,
        "name": f"{instance_name()} publish",
        "startDate": iso(now),
        "endDate": iso(now),
        "wasAssociatedWith": [software],
        "schemaKey": "PublishActivity",
    }


def _format_errors(exc: Exception) -> list[dict[str, str]]:
    if isinstance(exc, JsonschemaValidationError):
        return [
            {"field": ".".join(str(p) for p in err.absolute_path), "message": err.message}
            for err in exc.errors
        ]
    if isinstance(exc, PydanticValidationError):
        return [
            {"field": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
            for err in exc.errors
        ]
    if isinstance(exc, jsonschema.exceptions.ValidationError):
        return [{"field": "", "message": exc.message}]
    return [{"field": "", "message": str(exc)}]


def _run_validation(metadata: dict[str, Any], schema_key: str) -> list[dict[str, str]]:
    """Every problem at once: the JSON Schema's errors and the models' own, so fixing
    what one reports never uncovers a second round from the other."""
    # JSON Schema validation is only local for the current schema version; older
    # documents are checked by the pydantic models alone (no network fetches).
    json_validation = metadata.get("schemaVersion") == DANDI_SCHEMA_VERSION
    try:
        validate(metadata, schema_key=schema_key, json_validation=json_validation)
    except JsonschemaValidationError as exc:
        errors = _format_errors(exc)
        return errors + _model_errors_beyond(metadata, schema_key, errors)
    except (ValueError, jsonschema.exceptions.ValidationError) as exc:
        errors = _format_errors(exc)
        return errors or [{"field": "", "message": str(exc) or "invalid metadata"}]
    return []


def _model_errors_beyond(
    metadata: dict[str, Any], schema_key: str, found: list[dict[str, str]]
) -> list[dict[str, str]]:
    """The models' errors on fields the JSON Schema found nothing wrong with (their
    checks across fields, such as a required contact person, are theirs alone)."""
    try:
        validate(metadata, schema_key=schema_key, json_validation=False)
    except (ValueError, jsonschema.exceptions.ValidationError) as exc:
        seen = {_field_key(e["field"]) for e in found}
        return [e for e in _format_errors(exc) if _field_key(e["field"]) not in seen]
    return []


def _field_key(path: str) -> str:
    # Pydantic names the chosen variant of a union in its paths (contributor.0.Person.name).
    return ".".join(p for p in path.split(".") if p and not p[:1].isupper())


def validate_version_metadata(metadata: dict[str, Any]) -> list[dict[str, str]]:
    """Errors that would stop this draft from being published, as [{field, message}].

    The fields only publishing fills in (version id, DOI, publisher, file totals) are
    given stand-in values so that only the user's own metadata is judged.
    """
    meta = copy.deepcopy(metadata)
    now = datetime.now(UTC)
    ident = meta.get("identifier", "")
    fake_version = "0.000000.0000"
    meta["id"] = f"{ident}/{fake_version}"
    meta["version"] = fake_version
    meta["url"] = f"{meta.get('repository', 'https://example.org')}/dandiset/" + (
        f"{ident.rpartition(':')[2]}/{fake_version}"
    )
    meta["datePublished"] = iso(now)
    meta["publishedBy"] = published_by(now)
    meta["assetsSummary"] = {"schemaKey": "AssetsSummary", "numberOfBytes": 1, "numberOfFiles": 1}
    config = get_instance_config()
    if config.doi_prefix:
        number = ident.rpartition(":")[2]
        meta["doi"] = f"{config.doi_prefix}/{config.instance_name.lower()}.{number}/{fake_version}"
    else:
        meta.pop("doi", None)
    return _run_validation(meta, "Dandiset")


def wrong_types(metadata: dict[str, Any]) -> list[dict[str, str]]:
    """Values of the wrong JSON type where the archive's own readers (citation, search,
    pages) rely on the type: a top-level field (``contributor: 5``, ``keywords: 3``), an
    item of one, or a contributor's name; as [{field, message}].

    Anything deeper is the draft's business, as on dandiarchive.org, which stores draft
    metadata as sent: the dandi client itself writes some misshapen values (its
    ``service-scripts update-dandiset-from-doi`` sends each affiliation's name as an
    object), and they only make the draft invalid. A null is a missing value, never a
    wrong type.
    """
    try:
        DandisetModel.model_validate(metadata)
    except pydantic.ValidationError as exc:
        return [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors()
            if err["type"].endswith("_type")
            and err.get("input") is not None
            and _read_by_the_archive(err["loc"])
        ]
    return []


def _read_by_the_archive(loc: tuple[Any, ...]) -> bool:
    """Whether the archive's readers depend on the type at this location: a top-level
    field, an item of one (a contributor that is not an object), a contributor's name."""
    return len(loc) <= 2 or (len(loc) == 4 and loc[0] == "contributor" and loc[3] == "name")


def validate_published_dandiset(metadata: dict[str, Any]) -> list[dict[str, str]]:
    """Errors in the metadata of a version about to be published."""
    return _run_validation(metadata, "Dandiset")


def validate_asset_metadata(full_metadata: dict[str, Any]) -> list[dict[str, str]]:
    """Errors that would stop this asset from being published, as [{field, message}]."""
    meta = copy.deepcopy(full_metadata)
    if "datePublished" not in meta:
        now = datetime.now(UTC)
        meta["datePublished"] = iso(now)
        meta["publishedBy"] = published_by(now)
    return _run_validation(meta, "Asset")
