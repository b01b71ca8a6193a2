"""Server discovery (what the dandi client asks first) and the metadata JSON Schemas."""

from __future__ import annotations

from typing import Any

from dandischema.conf import get_instance_config
from dandischema.consts import ALLOWED_INPUT_SCHEMAS, DANDI_SCHEMA_VERSION
from fastapi import APIRouter, Query
from pydantic import HttpUrl, ValidationError

from dandi_archive.api.deps import ArchiveDep
from dandi_archive.config import archive_version
from dandi_archive.errors import BadRequest

router = APIRouter(tags=["info"])

SCHEMA_MODELS = ("Dandiset", "Asset", "PublishedDandiset", "PublishedAsset")
# Oldest dandi client that speaks this API (the one api.dandiarchive.org requires).
CLI_MINIMAL_VERSION = "0.74.0"


def instance_config(web_url: str) -> dict[str, Any]:
    """dandischema's instance configuration, with ``instance_url`` (unset unless the
    ``DANDI_INSTANCE_URL`` environment variable names it) filled from the web URL, where
    the instance is; spelled as dandischema spells URLs (``https://host/``)."""
    config = get_instance_config().model_dump(mode="json")
    if not config.get("instance_url"):
        try:
            config["instance_url"] = str(HttpUrl(web_url))
        except ValidationError:  # not an http(s) URL (preflight warns); say it as given
            config["instance_url"] = web_url
    return config


def server_info(archive: ArchiveDep) -> dict[str, Any]:
    settings = archive.settings
    return {
        "instance_config": instance_config(settings.webui_url),
        "schema_version": DANDI_SCHEMA_VERSION,
        "schema_url": f"{settings.api_url}/schemas/?model=Dandiset",
        "allowed_schema_versions": list(ALLOWED_INPUT_SCHEMAS),
        "version": archive_version(),
        "services": {
            "api": {"url": settings.api_url},
            "webui": {"url": settings.webui_url},
            # Always an object, as upstream: clients read ``services.jupyterhub.url``.
            "jupyterhub": {"url": settings.hub_root or ""},
        },
        "cli-minimal-version": CLI_MINIMAL_VERSION,
        "cli-requires-python": ">=3.10",
        "cli-bad-versions": [],
    }


router.add_api_route("/server-info", server_info, methods=["GET"], summary="Server information")
router.add_api_route("/api/info/", server_info, methods=["GET"], summary="Server information")


@router.get("/api/schemas/available/", summary="Models whose JSON Schema is served")
def available_schemas() -> list[str]:
    return list(SCHEMA_MODELS)


@router.get("/api/schemas/", summary="JSON Schema of a dandischema model")
def schema(model: str = Query(description="One of " + ", ".join(SCHEMA_MODELS))) -> dict[str, Any]:
    from dandischema import models

    if model not in SCHEMA_MODELS:
        raise BadRequest(f"Unknown model {model!r}; choose one of {', '.join(SCHEMA_MODELS)}.")
    return getattr(models, model).model_json_schema(mode="validation")
