"""Checks before starting: each problem is one line naming it and the setting to change.

Run by ``serve`` (port first, before anything is created), ``migrate`` and ``worker``,
so that a typo in a setting is a clear message at start instead of a traceback, or a
generic 500 on the first upload.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import uuid
from pathlib import Path

from dandi_archive.config import Settings


class StartupProblem(Exception):
    """A setting that cannot work; the message names it."""


def check_port(host: str, port: int) -> None:
    """The address is free (bound as uvicorn binds it, then released)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise StartupProblem(
            f"Cannot listen on host {host!r}: {exc.strerror or exc}; "
            "set --host or DANDI_ARCHIVE_HOST."
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"{exc.strerror}"
            raise StartupProblem(
                f"Port {port} on {host} {reason}; set --port or DANDI_ARCHIVE_PORT "
                "(or stop the program using it)."
            ) from None


def check_data_dir(path: Path) -> None:
    """The data dir exists or can be created, and a file can be written in it."""
    probe = path / f".write-test-{uuid.uuid4().hex}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
    except OSError as exc:
        raise StartupProblem(
            f"Cannot write to the data dir {path.resolve()}: {exc.strerror or exc}; "
            "set --data-dir or DANDI_ARCHIVE_DATA_DIR to a writable folder."
        ) from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


def check_database(settings: Settings) -> None:
    """A server database answers (the embedded SQLite file is covered by the data dir)."""
    if settings.uses_sqlite:
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    try:
        url = make_url(settings.sqlalchemy_url)
    except Exception:
        raise StartupProblem(
            "DANDI_ARCHIVE_DATABASE_URL is not a database URL "
            "(e.g. postgresql+psycopg://user@host/db)."
        ) from None
    shown = url.render_as_string(hide_password=True)
    args = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
    try:
        engine = create_engine(url, connect_args=args)
    except Exception as exc:
        raise StartupProblem(
            f"Cannot use the database {shown}: {first_line(exc)}; check DANDI_ARCHIVE_DATABASE_URL."
        ) from None
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise StartupProblem(
            f"Cannot reach the database {shown}: {first_line(exc.orig or exc)}; "
            "check DANDI_ARCHIVE_DATABASE_URL."
        ) from None
    finally:
        engine.dispose()


def check_s3(settings: Settings) -> None:
    """The S3 endpoint answers (one try, short timeouts) with the configured credentials."""
    if not settings.s3_bucket:
        return
    import boto3
    from botocore.client import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    where = settings.s3_endpoint_url or "AWS S3"
    client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
        config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}),
    )
    try:
        client.head_bucket(Bucket=settings.s3_bucket)
    except ClientError:
        return  # the endpoint answered; the bucket itself is the store's business
    except NoCredentialsError:
        raise StartupProblem(
            f"No credentials for the S3 endpoint {where}; set DANDI_ARCHIVE_S3_ACCESS_KEY_ID "
            "and DANDI_ARCHIVE_S3_SECRET_ACCESS_KEY."
        ) from None
    except (BotoCoreError, ValueError) as exc:
        raise StartupProblem(
            f"Cannot reach the S3 endpoint {where}: {first_line(exc)}; "
            "check DANDI_ARCHIVE_S3_ENDPOINT_URL."
        ) from None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_all(settings: Settings, *, port: bool) -> None:
    """Everything a command needs, the port first (before anything is created)."""
    if port:
        check_port(settings.host, settings.port)
    check_data_dir(settings.data_dir)
    check_database(settings)
    check_s3(settings)
