"""This instance's facts as the handbook names them, and their substitution into pages.

A page writes ``{{ web_url }}``; only the names of :class:`InstanceValues` exist, and a
page naming any other is an error (caught by the tests for every page). Nothing is
evaluated: a placeholder is a lookup in a fixed table, so a page can never reach code
or settings that are not listed here (secrets are not).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from dandischema.conf import get_instance_config

from dandi_archive.config import Settings

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")

# The dandi client's built-in instances that this archive could be: an API URL listed
# here is known to the client by this name, whatever its server says (dandi.consts).
CLIENT_KNOWN_INSTANCES = {"http://localhost:8000/api": "dandi-api-local-docker-tests"}


class UnknownPlaceholder(ValueError):
    """A page names a value the handbook does not have."""


@dataclass(frozen=True)
class InstanceValues:
    instance_name: str
    web_url: str
    base_url: str
    api_url: str
    bucket_url: str
    bucket_endpoint: str  # where S3 clients (boto3, s3fs, aws) send requests, path-style
    bucket_name: str
    dandi_instance: str  # how the dandi client names this archive
    api_key_var: str  # the environment variable the client reads the API key from
    keyring_service: str
    doi_prefix: str
    doi_base: str  # a Dandiset's concept DOI is <doi_base>.<six digits>
    licenses: str
    support: str  # a Markdown link to the support address, or where to ask instead
    support_email: str
    settings_table: str  # Markdown: every setting, from config.Settings

    def substitute(self, text: str) -> str:
        table = asdict(self)

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in table:
                raise UnknownPlaceholder(f"unknown placeholder {{{{ {name} }}}}")
            return table[name]

        return PLACEHOLDER.sub(value, text)


def client_instance_name(api_url: str) -> str:
    """The name the dandi client gives the archive at ``api_url``: a built-in instance's
    name, else the API's host (and port, when the URL has one)."""
    known = CLIENT_KNOWN_INSTANCES.get(api_url.rstrip("/"))
    if known:
        return known
    parts = urlsplit(api_url)
    host = parts.hostname or api_url
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port is not None else host


def instance_values(settings: Settings, bucket_url: str) -> InstanceValues:
    config = get_instance_config()
    client_name = client_instance_name(settings.api_url)
    email = settings.support_email or ""
    support = f"[{email}](mailto:{email})" if email else "the administrators of this archive"
    return InstanceValues(
        instance_name=config.instance_name,
        web_url=settings.webui_url,
        base_url=settings.public_url,
        api_url=settings.api_url,
        bucket_url=bucket_url.rstrip("/"),
        bucket_endpoint=(
            (settings.s3_endpoint_url or "https://s3.amazonaws.com").rstrip("/")
            if settings.s3_bucket
            else settings.public_url.rstrip("/")
        ),
        bucket_name=settings.s3_bucket or settings.folder_bucket_name,
        dandi_instance=client_name,
        api_key_var=f"{client_name.upper().replace('-', '_')}_API_KEY",
        keyring_service=f"dandi-api-{client_name}",
        doi_prefix=config.doi_prefix or "(none configured)",
        doi_base=f"{config.doi_prefix or 'PREFIX'}/{config.instance_name.lower()}",
        licenses=", ".join(sorted(str(getattr(x, "value", x)) for x in config.licenses)),
        support=support,
        support_email=email,
        settings_table=settings_table(),
    )


def settings_table() -> str:
    """A Markdown table of every setting: variable, default and description."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    prefix = Settings.model_config.get("env_prefix", "")
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "unset" if default is None else f"`{default}`"
        rows.append(
            f"| `{(prefix + name).upper()}` | {_cell(shown)} | {_cell(field.description or '')} |"
        )
    return "\n".join(rows)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
