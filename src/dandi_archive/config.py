"""Settings of one archive instance, read from the environment.

With nothing set, the archive runs on the embedded default: a SQLite database and a
folder laid out like the S3 bucket, both under ``data_dir``, with background jobs in
the serving process. Setting ``DANDI_ARCHIVE_DATABASE_URL``, ``DANDI_ARCHIVE_S3_BUCKET``
and ``DANDI_ARCHIVE_BROKER_URL`` switches each part to its production engine.
"""

from __future__ import annotations

import re
import secrets
from email.utils import parseaddr
from functools import cache, cached_property
from importlib.metadata import version as package_version
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Image files a logo may be, with the type the archive serves each as.
LOGO_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANDI_ARCHIVE_", extra="ignore")

    data_dir: Path = Field(Path("archive-data"), description="Embedded database and bucket folder")
    host: str = Field("127.0.0.1", description="Interface `serve` listens on")
    port: int = Field(8000, description="Port `serve` listens on")
    base_url: str | None = Field(
        None, description="Public URL of the archive; defaults to http://<host>:<port>"
    )
    web_url: str | None = Field(None, description="URL of the web UI; defaults to base_url")
    hub_url: str | None = Field(
        None,
        description="DANDI Hub (`dandi-archive hub`, or any JupyterHub) for your users: "
        "linked from the pages ('Open in hub') and advertised in /api/info/",
    )
    jupyterhub_url: str | None = Field(None, description="Older name of hub_url")
    oai_page_size: int = Field(100, ge=1, description="Records per OAI-PMH list response")
    logo: str | None = Field(
        None,
        description="The instance's logo in the page header: an image file on the server "
        "(PNG, SVG, JPEG, WebP or GIF; the archive serves it at /logo) or an http(s) URL; "
        "unset, the header shows the text 'DANDI Archive'",
    )
    support_email: str | None = Field(
        None, description="The instance's support address (help pages, OAI-PMH adminEmail)"
    )

    database_url: str | None = Field(
        None, description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db"
    )

    s3_bucket: str | None = Field(None, description="Use this S3 bucket instead of the folder")
    folder_bucket_name: str = Field(
        "dandi-dandisets",
        description="Bucket name in the folder store's S3-style URLs: {base_url}/{name}/{key}",
    )
    s3_endpoint_url: str | None = Field(
        None, description="Any S3-compatible service (MinIO, Ceph, ...); unset: AWS"
    )
    s3_region: str = Field("us-east-1", description="Region of the S3 bucket")
    s3_access_key_id: str | None = Field(
        None, description="S3 credentials; unset: boto3's usual sources (environment, role)"
    )
    s3_secret_access_key: str | None = Field(None, description="Secret of the S3 access key")

    broker_url: str | None = Field(
        None, description="Celery broker (redis:// or amqp://); unset runs jobs in-process"
    )
    queue: str = Field(
        "dandi-archive", description="Celery queue; instances sharing a broker need their own"
    )
    secret_key: str | None = Field(
        None, description="Signs storage URLs; shared by all API processes of one instance"
    )

    # DataCite, to register DOIs (the prefix is dandischema's DANDI_DOI_PREFIX).
    datacite_api_url: str | None = Field(None, description="e.g. https://api.datacite.org")
    datacite_username: str | None = Field(
        None, description="DataCite repository account that registers the DOIs"
    )
    datacite_password: str | None = Field(None, description="Password of the DataCite account")
    datacite_attempts: int = Field(5, description="Tries per request (backoff in between)")

    # Sign-in with GitHub and ORCID (OAuth 2 authorization code): on when a client id and
    # secret are set. The URLs are the providers' own; they change only for tests.
    github_client_id: str | None = Field(
        None,
        description="OAuth app of 'Sign in with GitHub' (callback <web URL>/login/github/callback)",
    )
    github_client_secret: str | None = Field(None, description="Secret of the GitHub OAuth app")
    github_url: str = Field("https://github.com", description="GitHub (changed only by tests)")
    github_api_url: str = Field(
        "https://api.github.com", description="GitHub's API (changed only by tests)"
    )
    orcid_client_id: str | None = Field(
        None,
        description="ORCID client of 'Sign in with ORCID' "
        "(callback <web URL>/login/orcid/callback)",
    )
    orcid_client_secret: str | None = Field(None, description="Secret of the ORCID client")
    orcid_url: str = Field(
        "https://orcid.org", description="ORCID, or its sandbox (https://sandbox.orcid.org)"
    )

    # The archive as an OAuth 2 / OpenID Connect provider (clients: `dandi-archive oauth`).
    oauth_access_token_seconds: int = Field(
        3600, ge=1, description="Lifetime of access tokens (and ID tokens) it issues"
    )
    oauth_refresh_token_seconds: int = Field(
        30 * 24 * 3600, ge=1, description="Lifetime of refresh tokens (each use gives a new one)"
    )

    # Throttling of failed sign-ins and API keys ("N/minute;M/hour", the `limits` syntax):
    # counted in memory, or in Redis so that several API processes count together.
    throttle_sign_in_per_account: str = Field(
        "5/minute;30/hour", description="Failed password sign-ins allowed per account"
    )
    throttle_sign_in_per_address: str = Field(
        "20/minute;100/hour", description="Failed password sign-ins allowed per client address"
    )
    throttle_api_key_per_address: str = Field(
        "30/minute;300/hour", description="Requests with an unknown API key per client address"
    )
    throttle_password_reset_per_account: str = Field(
        "3/hour;10/day", description="Password-reset mails asked for one address"
    )
    throttle_password_reset_per_address: str = Field(
        "10/hour;50/day", description="Password-reset mails asked for from one client address"
    )
    throttle_contact_owners_per_account: str = Field(
        "5/hour;20/day",
        description="Messages one account may send to Dandiset owners through the pages",
    )
    throttle_storage_url: str | None = Field(
        None,
        description="Where failures are counted (memory://, redis://...); defaults to the "
        "broker when it is Redis, else memory of the process",
    )

    # Sign-up: an account whose questionnaire is answered is approved at once when its
    # provider-verified address ends with one of these (upstream's list by default);
    # others wait for an administrator. Empty: every account waits.
    auto_approve_domains: str = Field(
        ".edu,@alleninstitute.org,@nih.gov,@janelia.hhmi.org,@ccf.org,.ac.uk,.mcgill.ca,@epfl.ch",
        description="Comma-separated address endings (.edu, @example.org) approved on sign-up",
    )

    # E-mail (dandi_archive.mail): sent through this SMTP server when a host is set;
    # without one, each mail is written to <data_dir>/outbox/ as an .eml file instead.
    smtp_host: str | None = Field(None, description="SMTP server; unset writes .eml files")
    smtp_port: int | None = Field(
        None, ge=1, le=65535, description="Defaults to 465 with SSL, 587 with STARTTLS, else 25"
    )
    smtp_username: str | None = Field(None, description="SMTP login (sent only if set)")
    smtp_password: str | None = Field(None, description="Password of the SMTP login")
    smtp_starttls: bool = Field(False, description="Upgrade the connection with STARTTLS")
    smtp_ssl: bool = Field(False, description="Connect with TLS from the start (port 465)")
    smtp_timeout_seconds: float = Field(
        30.0, gt=0, description="How long to wait for the SMTP server before trying later"
    )
    mail_from: str | None = Field(
        None, description="From: of every mail; defaults to noreply@<host of base_url>"
    )
    admin_emails: str = Field(
        "", description="Comma-separated addresses of sign-up digests; default: admin accounts"
    )
    signup_digest_minutes: float = Field(
        60.0, gt=0, description="At most one digest of new sign-ups per this many minutes"
    )
    mail_retry_seconds: float = Field(
        60.0, ge=0, description="First pause before resending a mail the SMTP server refused"
    )
    mail_retry_max_seconds: float = Field(3600.0, ge=0, description="Longest pause between tries")
    password_reset_hours: float = Field(2.0, gt=0, description="How long a reset link works")

    # Fixity: every blob is re-hashed once per cycle, a batch at a time.
    fixity_cycle_days: float = Field(
        30.0, description="Every stored blob is re-hashed once per cycle"
    )
    fixity_interval_seconds: float = Field(
        3600.0, description="How often a batch of blobs is re-hashed"
    )
    fixity_batch_size: int = Field(1000, description="Most blobs re-hashed in one batch")

    # Inventory: the bucket lists itself under inventory/ (S3 Inventory's format).
    inventory_interval_seconds: float = Field(
        86400.0, ge=0, description="How often the bucket's inventory is written (0: never)"
    )
    inventory_config_id: str = Field(
        "archive",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="Inventory folder name: inventory/<bucket>/<this>/",
    )
    inventory_rows_per_file: int = Field(
        1_000_000, gt=0, description="Most objects listed in one gzipped CSV data file"
    )
    inventory_keep: int = Field(7, ge=1, description="How many inventories are kept")

    # How long presigned URLs live: uploads may take days, downloads are short-lived.
    upload_url_expiry_seconds: int = Field(
        7 * 24 * 3600, description="Lifetime of presigned upload URLs (uploads may take days)"
    )
    download_url_expiry_seconds: int = Field(
        6 * 3600, description="Lifetime of presigned download URLs"
    )
    zip_download_max_bytes: int = Field(
        2 * 10**9,
        ge=0,
        description="Largest folder or version (total bytes of its files) the pages offer "
        "as one .zip, streamed through the archive; larger ones are refused with a pointer "
        "to `dandi download`",
    )
    # Zarr file PUT URLs: until one expires its upload may still land, so each finalize
    # looks at its path again; short, since the dandi client asks again for URLs that expired.
    zarr_upload_url_expiry_seconds: int = Field(
        3600, description="Lifetime of Zarr file upload URLs (finalize watches their paths)"
    )
    # BIDS: the validator the dandi client uses, run in a job over each BIDS dataset of a
    # draft (standards/bids.py).
    bids_validator_command: str = Field(
        "bids-validator-deno",
        description="BIDS validator to run (program and leading arguments, split like a "
        "shell); empty turns BIDS validation off",
    )
    bids_validator_timeout_seconds: float = Field(
        600.0, gt=0, description="A BIDS validator run taking longer is stopped: not checked"
    )
    bids_text_max_bytes: int = Field(
        16 * 2**20,
        ge=0,
        description="Sidecar and table files (JSON, TSV, ...) up to this size are read for "
        "BIDS validation; larger ones are checked by name and size only",
    )
    # NWB files: the NWB Inspector (the field's best-practice checker) run in a job over
    # each new blob, streamed (standards/nwb.py).
    nwb_inspection_timeout_seconds: float = Field(
        900.0,
        gt=0,
        description="An NWB Inspector run over one file taking longer is stopped; the file "
        "is then marked 'could not be checked'",
    )
    # Periodic sweep that re-queues jobs lost to a crash (publishing, checksums, DOIs).
    sweep_interval_seconds: float = Field(
        300.0, description="How often jobs lost to a crash are queued again"
    )
    embargo_check_interval_seconds: float = Field(
        3600.0,
        description="How often embargo end dates are checked (warnings, lifting on the day)",
    )
    in_process_workers: int = Field(
        2, description="Threads running background jobs when there is no broker"
    )
    external_viewers: bool = Field(
        True, description="Offer Neurosift, Neuroglancer and others for files of open Dandisets"
    )
    download_count_flush_seconds: float = Field(
        5.0, gt=0, description="How often each process adds the downloads it counted"
    )
    # Reading a container image's headers is a few small ranged reads; a store that
    # answers too slowly, or a file built to make the reader wander, is given up on.
    container_inspect_seconds: float = Field(
        120.0, gt=0, description="Longest time one container image's metadata is read for"
    )
    # Largest request body the API takes (JSON, forms); file bytes to the folder store's
    # upload URLs (/storage/, /{folder_bucket_name}/, /bucket/) are not limited by it.
    max_request_body_bytes: int = Field(
        1024 * 1024, ge=1, description="Larger API request bodies get 413"
    )

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def api_url(self) -> str:
        return f"{self.public_url}/api"

    @property
    def webui_url(self) -> str:
        return (self.web_url or self.public_url).rstrip("/")

    @property
    def hub_root(self) -> str | None:
        """The hub's root URL (where ``/hub/`` is), without a trailing slash."""
        url = self.hub_url or self.jupyterhub_url
        return url.rstrip("/") if url else None

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'archive.sqlite3').resolve()}"

    @property
    def uses_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def datacite_configured(self) -> bool:
        return bool(self.datacite_api_url and self.datacite_username and self.datacite_password)

    @property
    def throttle_storage(self) -> str:
        if self.throttle_storage_url:
            return self.throttle_storage_url
        if self.broker_url and self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return "memory://"

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def smtp_port_or_default(self) -> int:
        if self.smtp_port:
            return self.smtp_port
        return 465 if self.smtp_ssl else 587 if self.smtp_starttls else 25

    @property
    def mail_sender(self) -> str:
        if self.mail_from:
            return self.mail_from
        host = urlsplit(self.public_url).hostname or "localhost"
        return f"noreply@{host}"

    @property
    def admin_addresses(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.admin_emails.split(",") if a.strip())

    @field_validator("auto_approve_domains")
    @classmethod
    def _check_domains(cls, value: str) -> str:
        # "example.org" would also approve "badexample.org": an entry names a whole
        # domain ("@example.org") or a domain and its subdomains (".example.org").
        for entry in _split_domains(value):
            if not entry.startswith((".", "@")) or len(entry) < 2 or " " in entry:
                raise ValueError(
                    f"auto_approve_domains: {entry!r} must start with '.' or '@' (e.g. .edu)"
                )
        return value

    @field_validator("logo")
    @classmethod
    def _check_logo(cls, value: str | None) -> str | None:
        if not value or value.startswith(("https://", "http://")):
            return value or None
        path = Path(value).expanduser()
        if path.suffix.lower() not in LOGO_TYPES:
            raise ValueError(f"logo: {value} is not one of {', '.join(sorted(LOGO_TYPES))}")
        if not path.is_file():
            raise ValueError(f"logo: there is no file {path}")
        return str(path.resolve())

    @property
    def logo_src(self) -> str | None:
        """What the header's <img> loads: the URL, or the archive's /logo for a file."""
        if self.logo and self.logo.startswith(("https://", "http://")):
            return self.logo
        return "/logo" if self.logo else None

    @field_validator("folder_bucket_name")
    @classmethod
    def _check_bucket_name(cls, value: str) -> str:
        # S3's rules for bucket names: the name is a path segment of every object URL.
        if not BUCKET_NAME.fullmatch(value) or ".." in value:
            raise ValueError(
                f"folder_bucket_name: {value!r} is not an S3 bucket name (3-63 lower-case "
                "letters, digits, '.' and '-', starting and ending with a letter or digit)"
            )
        return value

    @field_validator("admin_emails")
    @classmethod
    def _check_admin_emails(cls, value: str) -> str:
        for entry in (e.strip() for e in value.split(",")):
            if entry and (entry.count("@") != 1 or any(c.isspace() for c in entry)):
                raise ValueError(f"admin_emails: {entry!r} is not an address (a@example.org)")
        return value

    @field_validator("mail_from")
    @classmethod
    def _check_mail_from(cls, value: str | None) -> str | None:
        if value is not None and "@" not in parseaddr(value)[1]:
            raise ValueError(f"mail_from: {value!r} is not an address (Name <a@example.org>)")
        return value

    @model_validator(mode="after")
    def _check_smtp(self) -> Settings:
        if self.smtp_ssl and self.smtp_starttls:
            raise ValueError("smtp_ssl and smtp_starttls: choose one (SSL is TLS from the start)")
        return self

    @property
    def auto_approve_suffixes(self) -> tuple[str, ...]:
        return tuple(_split_domains(self.auto_approve_domains))

    @property
    def bucket_dir(self) -> Path:
        return self.data_dir / "bucket"

    @cached_property
    def signing_key(self) -> str:
        """The configured secret, or one generated once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()


def _split_domains(value: str) -> list[str]:
    return [entry.strip().lower() for entry in value.split(",") if entry.strip()]


@cache
def archive_version() -> str:
    """This package's installed version. Read once per process: the lookup parses the
    installed metadata files (2 ms, nearly all the cost of ``/api/info/``)."""
    return package_version("dandi-archive")
