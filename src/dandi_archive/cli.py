"""The ``dandi-archive`` command: run the server and workers, manage users.

Every command reads the same settings (``--data-dir`` or the ``DANDI_ARCHIVE_*``
environment variables), so ``user create`` talks to the database ``serve`` uses.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from dandi_archive.config import Settings

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="DANDI_ARCHIVE_DATA_DIR",
    default="archive-data",
    show_default=True,
    help="Folder of the embedded database and bucket (also DANDI_ARCHIVE_DATA_DIR).",
)


def load_settings(**overrides: Any) -> Settings:
    from pydantic import ValidationError

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        name = f"DANDI_ARCHIVE_{'_'.join(map(str, first['loc'])).upper()}"
        raise click.ClickException(f"{name}: {first['msg']}.") from None


def ready(settings: Settings, *, port: bool = False) -> None:
    """Fail at start, in one line naming the setting, on what cannot work (see preflight)."""
    from dandi_archive.preflight import StartupProblem, check_all

    try:
        check_all(settings, port=port)
    except StartupProblem as exc:
        raise click.ClickException(str(exc)) from None


def migrate_database(settings: Settings) -> None:
    from dandi_archive.db.migrate import upgrade

    ready(settings)
    upgrade(settings.sqlalchemy_url)
    ensure_search_index(settings)


def ensure_search_index(settings: Settings) -> None:
    """Index Dandisets that predate the search index (after an upgrade)."""
    from dandi_archive.db.session import Database
    from dandi_archive.search.index import ensure_built

    db = Database(settings.sqlalchemy_url)
    try:
        with db.session(write=True) as session:
            ensure_built(session)
    finally:
        db.dispose()


@click.group()
@click.option("--log-level", default="INFO", show_default=True)
def main(log_level: str) -> None:
    """A self-hostable DANDI archive."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@main.command()
@click.option("--host", default=None, help="Interface to listen on  [default: 127.0.0.1]")
@click.option("--port", type=int, default=None, help="Port to listen on  [default: 8000]")
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Server processes (more than one needs PostgreSQL and a broker).",
)
@data_dir_option
def serve(host: str | None, port: int | None, workers: int, data_dir: Path) -> None:
    """Run the archive (API, bucket URLs and, without a broker, background jobs)."""
    import uvicorn

    settings = load_settings(host=host, port=port, data_dir=data_dir)
    if workers > 1 and (settings.uses_sqlite or not settings.broker_url):
        raise click.UsageError(
            "Several server processes need PostgreSQL and a broker "
            "(DANDI_ARCHIVE_DATABASE_URL, DANDI_ARCHIVE_BROKER_URL)."
        )
    ready(settings, port=True)  # before anything is created
    migrate_database(settings)
    warn_about_bucket_policy(settings)
    # The worker processes read their settings from the environment, like every command.
    os.environ["DANDI_ARCHIVE_HOST"] = settings.host
    os.environ["DANDI_ARCHIVE_PORT"] = str(settings.port)
    os.environ["DANDI_ARCHIVE_DATA_DIR"] = str(settings.data_dir)
    os.environ.setdefault("DANDI_ARCHIVE_SECRET_KEY", settings.signing_key)
    click.echo(
        f"DANDI archive at {settings.public_url}/ (API docs: {settings.public_url}/swagger/)"
    )
    if not settings.smtp_configured:
        outbox = (settings.data_dir / "outbox").resolve()
        click.echo(f"Mail is written to {outbox}/ (set DANDI_ARCHIVE_SMTP_HOST to send it)")
    uvicorn.run(
        "dandi_archive.asgi:app",
        host=settings.host,
        port=settings.port,
        workers=workers,
        proxy_headers=True,
    )


def warn_about_bucket_policy(settings: Settings) -> None:
    """One log line if the S3 bucket's policy is not the archive's (or unreadable):
    then open objects may be unreachable, or embargoed ones public."""
    if not settings.s3_bucket:
        return  # the folder store applies the same rule itself
    from dandi_archive.archive import build_store

    problem = build_store(settings).policy_problem()  # type: ignore[attr-defined]
    if problem:
        logging.getLogger("dandi_archive").warning(
            "%s: anonymous reads may fail or embargoed objects be public; "
            "see `dandi-archive bucket policy --apply`",
            problem,
        )


@main.command()
@data_dir_option
def migrate(data_dir: Path) -> None:
    """Create or upgrade the database schema."""
    migrate_database(load_settings(data_dir=data_dir))
    click.echo("Database is up to date.")


@main.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--beat/--no-beat",
    default=True,
    show_default=True,
    help="Also run the scheduler of periodic jobs (run it in one worker only).",
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(beat: bool, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker for background jobs (needs DANDI_ARCHIVE_BROKER_URL)."""
    from dandi_archive.archive import build_archive
    from dandi_archive.integrity.tasks import periodic_jobs
    from dandi_archive.tasks.celery_app import make_celery

    settings = load_settings()
    if not settings.broker_url:
        raise click.UsageError("Set DANDI_ARCHIVE_BROKER_URL (redis:// or amqp://) to run workers.")
    ready(settings)
    app = make_celery(
        settings,
        schedule=periodic_jobs(settings),
        archive_factory=lambda: build_archive(Settings(), run_jobs_in_process=False),
    )
    argv = ["worker", "--loglevel=INFO", "-Q", settings.queue]
    if beat:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        argv += ["--beat", "--schedule", str(settings.data_dir / "celerybeat-schedule")]
    argv += celery_args
    app.worker_main(argv)


@main.group()
def user() -> None:
    """Manage accounts."""


@user.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name, e.g. 'Jane Doe'.")
@click.option("--admin", is_flag=True, help="Give the account admin rights.")
@data_dir_option
def user_create(email: str, name: str, admin: bool, data_dir: Path) -> None:
    """Create an approved user."""
    from dandi_archive.accounts import users
    from dandi_archive.db.session import Database
    from dandi_archive.errors import ArchiveError

    settings = load_settings(data_dir=data_dir)
    migrate_database(settings)
    db = Database(settings.sqlalchemy_url)
    try:
        with db.session(write=True) as session:
            users.create_user(session, email, name=name, admin=admin)
    except ArchiveError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        db.dispose()
    click.echo(f"Created {'admin ' if admin else ''}user {email}.", err=True)


@user.command("set-password")
@click.argument("email")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@data_dir_option
def user_set_password(email: str, password_stdin: bool, data_dir: Path) -> None:
    """Set the password the user signs in to the web pages with."""
    from dandi_archive.accounts import registration as accounts
    from dandi_archive.accounts import users
    from dandi_archive.db.session import Database
    from dandi_archive.errors import ArchiveError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = load_settings(data_dir=data_dir)
    migrate_database(settings)
    db = Database(settings.sqlalchemy_url)
    try:
        with db.session(write=True) as session:
            accounts.set_password(session, users.get_user_by_email(session, email), password)
    except ArchiveError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        db.dispose()
    click.echo(f"Password of {email} set.", err=True)


@user.command("api-key")
@click.argument("email")
@data_dir_option
def user_api_key(email: str, data_dir: Path) -> None:
    """Print the user's API key (creating one if needed)."""
    from dandi_archive.accounts import users
    from dandi_archive.db.session import Database
    from dandi_archive.errors import ArchiveError

    settings = load_settings(data_dir=data_dir)
    migrate_database(settings)
    db = Database(settings.sqlalchemy_url)
    try:
        with db.session(write=True) as session:
            key = users.get_or_create_api_key(session, users.get_user_by_email(session, email))
    except ArchiveError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        db.dispose()
    click.echo(key)


@main.group()
def oauth() -> None:
    """Applications that sign people in with the archive (OAuth 2 / OpenID Connect)."""


def _in_database(data_dir: Path, work: Any) -> Any:
    """Run ``work(session)`` in one transaction of the archive's database."""
    from dandi_archive.db.session import Database
    from dandi_archive.errors import ArchiveError

    settings = load_settings(data_dir=data_dir)
    migrate_database(settings)
    db = Database(settings.sqlalchemy_url)
    try:
        with db.session(write=True) as session:
            return work(session)
    except ArchiveError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        db.dispose()


@oauth.command("add-client")
@click.option("--name", required=True, help="Shown to people when they are asked to agree.")
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    required=True,
    help="Where people are sent back with a code; matched exactly. Repeatable.",
)
@click.option("--trusted", is_flag=True, help="Do not ask people to agree (your own services).")
@data_dir_option
def oauth_add_client(
    name: str, redirect_uris: tuple[str, ...], trusted: bool, data_dir: Path
) -> None:
    """Register an application; prints {"client_id", "client_secret"} (shown only now)."""
    import json

    from dandi_archive.oauth import clients

    made = _in_database(
        data_dir, lambda session: clients.add_client(session, name, redirect_uris, trusted=trusted)
    )
    click.echo(json.dumps({"client_id": made.client_id, "client_secret": made.client_secret}))


@oauth.command("list-clients")
@data_dir_option
def oauth_list_clients(data_dir: Path) -> None:
    """Print the registered applications as JSON (never their secrets)."""
    import json

    from dandi_archive.oauth import clients

    click.echo(json.dumps(_in_database(data_dir, clients.list_clients), indent=2))


@oauth.command("remove-client")
@click.argument("client_id")
@data_dir_option
def oauth_remove_client(client_id: str, data_dir: Path) -> None:
    """Remove an application; the tokens it holds stop working at once."""
    from dandi_archive.oauth import clients

    _in_database(data_dir, lambda session: clients.remove_client(session, client_id))
    click.echo(f"Removed OAuth client {client_id}.", err=True)


@main.command()
@click.option("--ip", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=int, default=8888, show_default=True, help="Port to listen on.")
@click.option(
    "--public-url",
    envvar="DANDI_HUB_PUBLIC_URL",
    help="The hub's address as people reach it (behind a proxy)  [default: http://IP:PORT]",
)
@click.option(
    "--spawner",
    default="local",
    show_default=True,
    help="local (processes of this Python), docker, kubernetes, or a spawner class.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A jupyterhub_config.py read last  [default: <data dir>/hub/jupyterhub_config.py]",
)
@click.option(
    "--proxy-prefix",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="DANDI_HUB_PROXY_PREFIX",
    help="Where npm installs configurable-http-proxy if it is missing  "
    "[default: <data dir>/hub/node]",
)
@click.option(
    "--client-id",
    envvar="DANDI_HUB_CLIENT_ID",
    help="An OAuth client registered with `oauth add-client` (a hub without access to the "
    "archive's database); default: registered on first start",
)
@click.option("--client-secret", envvar="DANDI_HUB_CLIENT_SECRET", help="Its secret.")
@data_dir_option
def hub(
    ip: str,
    port: int,
    public_url: str | None,
    spawner: str,
    config_file: Path | None,
    proxy_prefix: Path | None,
    client_id: str | None,
    client_secret: str | None,
    data_dir: Path,
) -> None:
    """Run DANDI Hub: a JupyterHub people sign in to with their archive account."""
    try:
        from dandi_archive.hub import launch, proxy
    except ImportError as exc:
        raise click.ClickException(
            f"{exc.name} is not installed: pip install 'dandi-archive[hub]'"
        ) from None

    settings = load_settings(data_dir=data_dir)
    options = launch.HubOptions(
        settings,
        ip=ip,
        port=port,
        public_url=public_url,
        spawner=spawner,
        config_file=config_file.resolve() if config_file else None,
    )
    try:
        command = proxy.ensure_proxy((proxy_prefix or options.hub_dir / "node").resolve())
    except proxy.ProxyMissing as exc:
        raise click.ClickException(str(exc)) from None
    client, registered = _hub_client(options, client_id, client_secret)
    for line in launch.describe(options, client, registered):
        click.echo(line)
    launch.run(launch.hub_config(options, client, command), options.hub_dir)


def _hub_client(options: Any, client_id: str | None, client_secret: str | None) -> tuple[Any, bool]:
    """The client given, or the hub's own, registered in the archive's database."""
    from dandi_archive.hub.registration import HubClient, ensure_client

    if client_id or client_secret:
        if not (client_id and client_secret):
            raise click.UsageError("Give both --client-id and --client-secret, or neither.")
        return HubClient(client_id, client_secret, options.redirect_uri), False
    return _in_database(
        options.settings.data_dir,
        lambda session: ensure_client(session, options.hub_dir, options.redirect_uri),
    )


@main.group()
def bucket() -> None:
    """The S3 bucket's policy (public reads, except embargoed objects)."""


@bucket.command("policy")
@click.option("--apply", "apply_", is_flag=True, help="Set it on the bucket (needs permission).")
@data_dir_option
def bucket_policy(apply_: bool, data_dir: Path) -> None:
    """Print the bucket policy the archive needs; with --apply, set it."""
    import json

    from dandi_archive.archive import build_store
    from dandi_archive.storage.s3 import BucketPolicyError, S3Store

    store = build_store(load_settings(data_dir=data_dir))
    if not isinstance(store, S3Store):
        raise click.ClickException(
            "The bucket is a local folder (no DANDI_ARCHIVE_S3_BUCKET): the archive serves "
            "it and applies the same rule itself; there is no policy to set."
        )
    click.echo(json.dumps(store.policy(), indent=2))
    if apply_:
        try:
            store.apply_policy()
        except BucketPolicyError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Policy set on bucket {store.bucket}.", err=True)
    elif problem := store.policy_problem():
        click.echo(f"Not applied: {problem}. Run with --apply to set it.", err=True)


@main.group()
def manifests() -> None:
    """The bucket's dandisets/ manifests."""


@manifests.command("verify")
@click.option("--dandiset", help="Only this Dandiset (six digits).")
@click.option("--version", "version_id", help="Only this version (draft or 0.YYMMDD.HHMM).")
@click.option("--quick", is_flag=True, help="Check sizes and ETags only, not SHA-256.")
@click.option(
    "--inventory",
    "inventory_",
    is_flag=True,
    help="Instead, check the latest inventory (inventory/) against the whole bucket.",
)
@data_dir_option
def manifests_verify(
    dandiset: str | None, version_id: str | None, quick: bool, inventory_: bool, data_dir: Path
) -> None:
    """Check every listed file against the bucket, reading only the bucket."""
    from tqdm import tqdm

    from dandi_archive.archive import build_store
    from dandi_archive.integrity.verify import manifest_versions, verify_version

    settings = load_settings(data_dir=data_dir)
    store = build_store(settings)
    if inventory_:
        if dandiset or version_id or quick:
            raise click.UsageError("--inventory checks the whole bucket; it takes no other option.")
        verify_inventory(store, settings.inventory_config_id)
        return
    versions = manifest_versions(store, dandiset, version_id)
    if not versions:
        raise click.ClickException("No manifests found in the bucket for that selection.")
    failed = 0
    with tqdm(unit=" files", desc="verifying") as bar:
        for ds, version in versions:
            report = verify_version(store, ds, version, quick=quick, progress=bar.update)
            failed += bool(report.problems)
            status = "OK" if not report.problems else f"{len(report.problems)} PROBLEM(S)"
            tqdm.write(f"{ds}/{version}: {report.assets} files, {status}")
            for problem in report.problems:
                tqdm.write(f"  {problem}")
    if failed:
        raise click.ClickException(f"{failed} of {len(versions)} version(s) failed verification.")


def verify_inventory(store: Any, config_id: str) -> None:
    from tqdm import tqdm

    from dandi_archive.integrity import inventory

    try:
        with tqdm(unit=" objects", desc="comparing") as bar:
            report = inventory.verify(store, config_id, progress=bar.update)
    except inventory.InventoryProblem as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{report.manifest_key}: {report.listed} objects listed")
    for problem in report.problems:
        click.echo(f"  {problem}")
    if report.problems:
        raise click.ClickException(f"{len(report.problems)} difference(s) from the bucket.")
    click.echo("The inventory matches the bucket.")


@main.group()
def inventory() -> None:
    """The bucket's own listing under inventory/ (S3 Inventory's CSV format)."""


@inventory.command("write")
@data_dir_option
def inventory_write(data_dir: Path) -> None:
    """List every object of the bucket into a new inventory; prints its manifest's key."""
    from dandi_archive.archive import build_store
    from dandi_archive.integrity import inventory as service

    settings = load_settings(data_dir=data_dir)
    click.echo(service.write(build_store(settings), settings))


@manifests.command("rebuild")
@click.option("--dandiset", help="Only this Dandiset (six digits).")
@data_dir_option
def manifests_rebuild(dandiset: str | None, data_dir: Path) -> None:
    """Rewrite the manifests of every version from the database."""
    from sqlalchemy import select, update

    from dandi_archive.archive import build_archive
    from dandi_archive.dandisets.dandisets import parse_identifier
    from dandi_archive.db.models import Version
    from dandi_archive.publishing.manifests import write_manifests

    archive = build_archive(load_settings(data_dir=data_dir), run_jobs_in_process=True)
    try:
        query = select(Version.id).order_by(Version.dandiset_id, Version.id)
        if dandiset:
            query = query.where(Version.dandiset_id == parse_identifier(dandiset))
        with archive.db.session(write=True) as session:
            ids = list(session.scalars(query))
            session.execute(
                update(Version).where(Version.id.in_(ids)).values(manifests_revision=None)
            )
        for version_id in ids:
            write_manifests(archive, version_id)
        click.echo(f"Rewrote the manifests of {len(ids)} version(s).")
    finally:
        archive.close()


@main.command()
@click.option(
    "--to-database",
    envvar="DANDI_ARCHIVE_DATABASE_URL",
    required=True,
    help="PostgreSQL URL of the new database (also DANDI_ARCHIVE_DATABASE_URL).",
)
@click.option(
    "--to-s3-bucket",
    envvar="DANDI_ARCHIVE_S3_BUCKET",
    required=True,
    help="The new S3 bucket (also DANDI_ARCHIVE_S3_BUCKET); credentials and region "
    "come from DANDI_ARCHIVE_S3_* as for `serve`.",
)
@click.option(
    "--to-s3-endpoint-url",
    envvar="DANDI_ARCHIVE_S3_ENDPOINT_URL",
    default=None,
    help="An S3-compatible service (also DANDI_ARCHIVE_S3_ENDPOINT_URL); unset: AWS.",
)
@click.option(
    "--create-bucket", is_flag=True, help="Create the bucket (with the archive's policy)."
)
@click.option(
    "--jobs", type=click.IntRange(1, 64), default=8, show_default=True, help="Objects at once."
)
@data_dir_option
def transfer(
    to_database: str,
    to_s3_bucket: str,
    to_s3_endpoint_url: str | None,
    create_bucket: bool,
    jobs: int,
    data_dir: Path,
) -> None:
    """Copy the embedded archive in --data-dir (SQLite and the bucket folder) to
    PostgreSQL and S3. Run it again to resume an interrupted transfer."""
    from botocore.exceptions import BotoCoreError, ClientError
    from sqlalchemy.exc import SQLAlchemyError

    from dandi_archive.archive import build_store
    from dandi_archive.db.migrate import upgrade
    from dandi_archive.db.session import Database
    from dandi_archive.errors import ArchiveError
    from dandi_archive.preflight import first_line
    from dandi_archive.storage.folder import FolderStore
    from dandi_archive.storage.s3 import S3Store
    from dandi_archive.transfer.run import Source, Target, source_identity
    from dandi_archive.transfer.run import transfer as run_transfer

    settings = load_settings(data_dir=data_dir)
    source = settings.model_copy(update={"database_url": None, "s3_bucket": None})
    target = load_settings(
        data_dir=data_dir,
        database_url=to_database,
        s3_bucket=to_s3_bucket,
        s3_endpoint_url=to_s3_endpoint_url,
    )
    if target.uses_sqlite:
        raise click.UsageError("--to-database must be a PostgreSQL URL (postgresql+psycopg://...).")
    if not (source.data_dir / "archive.sqlite3").is_file():
        raise click.ClickException(
            f"No embedded archive in {source.data_dir.resolve()} (no archive.sqlite3); "
            "set --data-dir or DANDI_ARCHIVE_DATA_DIR."
        )
    ready(target)
    upgrade(source.sqlalchemy_url)  # both at the same head: the same tables to copy
    upgrade(target.sqlalchemy_url)
    folder, bucket = build_store(source), build_store(target)
    assert isinstance(folder, FolderStore) and isinstance(bucket, S3Store)
    if create_bucket:
        bucket.ensure_bucket()
    if problem := bucket.problem():
        hint = " (--create-bucket makes it)" if "does not exist" in problem else ""
        raise click.ClickException(f"S3 bucket {to_s3_bucket}: {problem}{hint}.")
    source_db, target_db = Database(source.sqlalchemy_url), Database(target.sqlalchemy_url)
    try:
        report = run_transfer(
            Source(source_db, folder, source_identity(source.signing_key)),
            Target(target_db, bucket),
            tmp_dir=source.data_dir / "tmp",
            jobs=jobs,
            progress=_TransferBars(),
        )
    except ArchiveError as exc:
        raise click.ClickException(exc.message) from None
    except (BotoCoreError, ClientError, SQLAlchemyError) as exc:
        # The target went away mid-copy: what was copied stays; the next run goes on.
        raise click.ClickException(
            f"The transfer stopped: {first_line(exc)}. Run the command again to resume."
        ) from None
    finally:
        source_db.dispose()
        target_db.dispose()
    _print_transfer_report(report, bucket)
    if not report.complete:
        raise click.ClickException(
            f"{len(report.objects.problems)} object(s) not copied; fix them and run again."
        )


class _TransferBars:
    """tqdm bars of a transfer: one per table, then one for the objects (bytes)."""

    def __init__(self) -> None:
        self._totals: dict[str, int] = {}
        self._bar: Any = None
        self._table: str | None = None

    def rows_started(self, totals: dict[str, int]) -> None:
        self._totals = totals

    def rows(self, table: str, n: int) -> None:
        from tqdm import tqdm

        if table != self._table:
            self._close()
            self._table = table
            self._bar = tqdm(total=self._totals.get(table), desc=table, unit=" rows", leave=False)
        self._bar.update(n)

    def objects_started(self, count: int, size: int) -> None:
        from tqdm import tqdm

        self._close()
        self._bar = tqdm(
            total=size, desc=f"{count} objects", unit="B", unit_scale=True, unit_divisor=1024
        )

    def objects(self, outcome: Any) -> None:
        self._bar.update(outcome.read)
        if outcome.problem:
            self._bar.write(outcome.problem)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _print_transfer_report(report: Any, bucket: Any) -> None:
    if report.rows_already_copied:
        click.echo("Rows: copied by an earlier run.")
    else:
        click.echo("Rows (copied, already there):")
        for table, count in report.rows.items():
            if count.copied or count.present:
                click.echo(f"  {table:<28} {count.copied:>10} {count.present:>10}")
    objects = report.objects
    click.echo(
        f"Objects: {objects.copied} copied ({objects.bytes_copied} bytes), "
        f"{objects.present} already there ({objects.bytes_present} bytes), "
        f"{len(objects.problems)} problem(s)."
    )
    for problem in objects.problems:
        click.echo(f"  {problem}")
    click.echo(f"Time: {report.seconds:.1f} s.")
    if problem := bucket.policy_problem():
        click.echo(
            f"Bucket policy: {problem}; set it with `dandi-archive bucket policy --apply` "
            "(embargoed objects are tagged, open ones are read through it)."
        )
    if report.complete:
        click.echo(
            "Done. Check the new instance with `dandi-archive check` and "
            "`dandi-archive manifests verify`, with its settings."
        )


def _embedded_data_dir(data_dir: Path, command: str) -> Path:
    """Backups by these commands are of the embedded default only."""
    settings = load_settings(data_dir=data_dir)
    if not settings.uses_sqlite or settings.s3_bucket:
        raise click.UsageError(
            f"`dandi-archive {command}` is for the embedded archive (SQLite and the bucket "
            "folder); with PostgreSQL and S3 use pg_dump/pg_restore and the bucket's "
            "replication (see the handbook's Backups page)."
        )
    return settings.data_dir


def _bytes_bar(total: int | None, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024)


@main.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@data_dir_option
def backup(dest: Path, data_dir: Path) -> None:
    """Back up the embedded archive (database, bucket folder, secret key) into DEST, a
    new folder. Safe while the server runs; every file is copied with its SHA-256."""
    from dandi_archive.backup.run import BackupRefused
    from dandi_archive.backup.run import backup as run_backup

    source = _embedded_data_dir(data_dir, "backup")
    try:
        with _bytes_bar(None, "backing up") as bar:
            report = run_backup(source, dest, progress=bar.update)
    except BackupRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Backed up the database (schema {report.schema}) and {report.files} file(s), "
        f"{report.bytes} bytes, into {dest}."
    )
    if not report.secret_key:
        click.echo("The secret key is set in the environment: keep DANDI_ARCHIVE_SECRET_KEY too.")
    if report.vanished:
        click.echo(f"{len(report.vanished)} object(s) were deleted while being copied (skipped).")


@main.command()
@click.argument("source", type=click.Path(file_okay=False, path_type=Path))
@click.option("--check", "check_only", is_flag=True, help="Only check the backup; change nothing.")
@data_dir_option
def restore(source: Path, check_only: bool, data_dir: Path) -> None:
    """Restore a backup made by `dandi-archive backup` into --data-dir, which must be new
    or empty. Every file is checked against its SHA-256 first: a damaged or incomplete
    backup is refused and nothing is changed."""
    from dandi_archive.backup.run import BackupRefused, check, read_backup
    from dandi_archive.backup.run import restore as run_restore

    try:
        meta, entries = read_backup(source)
        total = sum(e.size for e in entries)
        if check_only:
            with _bytes_bar(total, "checking") as bar:
                check(source, progress=bar.update)
            click.echo(f"The backup of {meta['created']} is whole: {len(entries)} file(s) check.")
            return
        target = _embedded_data_dir(data_dir, "restore")
        with _bytes_bar(total, "restoring") as bar:
            run_restore(source, target, progress=bar.update)
    except BackupRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Restored the backup of {meta['created']} ({len(entries)} files) into "
        f"{target}. Start the archive on it (`dandi-archive serve` migrates the database "
        "if this version is newer), then run `dandi-archive check`."
    )


@main.command()
@click.option("--no-objects", is_flag=True, help="Skip asking the bucket for every blob.")
@data_dir_option
def check(no_objects: bool, data_dir: Path) -> None:
    """Check that the archive holds together: every blob has its object, every asset a
    version, folder totals add up. Exits non-zero naming each problem."""
    from dandi_archive.archive import build_archive
    from dandi_archive.integrity import consistency

    archive = build_archive(load_settings(data_dir=data_dir), run_jobs_in_process=True)
    try:
        problems = consistency.check(archive, objects=not no_objects)
    finally:
        archive.close()
    for problem in problems:
        click.echo(problem)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found.")
    click.echo("The archive is consistent.")


if __name__ == "__main__":
    sys.exit(main())
