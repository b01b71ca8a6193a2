#!/usr/bin/env python3
r"""Run the dandi client's own server tests against a fresh archive.

The real ``dandi`` client ships tests that need a live archive (``pytest --pyargs dandi
--dandi-api``). This script:

1. creates a temporary data dir (SQLite database and bucket folder);
2. creates the admin account ``admin@nil.nil`` there and reads its API key;
3. starts ``dandi-archive serve`` on http://localhost:8000, with the API at
   http://localhost:8000/api and the web UI URL http://localhost:8085 (the client's
   tests expect exactly these, as for its own docker-compose setup);
4. waits until ``/api/info/`` answers;
5. runs ``pytest --pyargs dandi --dandi-api`` with ``DANDI_TESTS_API_URL``,
   ``DANDI_TESTS_DJANGO_API_KEY`` and ``DANDI_NO_ET=1``, passing on every argument this
   script does not know (``-x``, ``-k name``, ``-p no:cacheprovider``, ...);
6. prints a summary (counts, wall time and the tests that did not pass), stops the server and
   exits with pytest's exit code (the first non-zero one with ``--repeat``).

Options:

``--postgres URL``
    Run the server on PostgreSQL instead of SQLite. ``URL`` names the server, e.g.
    ``postgresql+psycopg://postgres@127.0.0.1:5432`` (any database name in it is
    ignored); a database of its own is created for the run and dropped afterwards.
``--s3``
    Store in S3 instead of the folder: a moto server on a free loopback port, with the
    bucket ``dandi-dandisets``.
``--keep``
    Keep the data dir (database, bucket, ``server.log``, ``junit-*.xml``) and print its
    path, for looking into failures.
``--repeat N``
    Run the tests N times against the same server, as upstream's long-lived test server
    sees them: later runs find every file already stored (deduplication) and hundreds
    of Dandisets in each listing.
``--mirrors FILE`` (or ``DANDI_CLIENT_SUITE_MIRRORS=FILE``)
    A shell file to source for the tests' environment, such as
    ``/work/shared/testdata/bids-mirrors.sh``: the BIDS tests ``git clone``
    bids-standard/bids-examples and bids-error-examples from GitHub, and that file
    redirects git to local bundles through ``GIT_CONFIG_*`` variables. Only the
    variables the file sets or changes are passed on, to pytest alone.

The BIDS tests also run ``bids-validator-deno`` (``pip install bids-validator-deno``,
in the ``test`` extra): the directory of this interpreter is put first on the tests'
``PATH``, so the one installed in this environment is found without activating it.

The port is fixed, so only one run fits on a machine at a time. As root, a private
network namespace gives a run its own loopback (and no other network): several runs,
or a run beside another server on port 8000, then work side by side. PostgreSQL is
reached through its Unix socket there::

    unshare -n sh -c 'ip link set lo up; exec "$@"' - \
        .venv/bin/python scripts/run_client_suite.py \
        --postgres 'postgresql+psycopg://postgres@/postgres?host=/var/run/postgresql'

Examples::

    .venv/bin/python scripts/run_client_suite.py
    .venv/bin/python scripts/run_client_suite.py -x -k test_upload -p no:cacheprovider
    .venv/bin/python scripts/run_client_suite.py --mirrors ../shared/testdata/bids-mirrors.sh
    .venv/bin/python scripts/run_client_suite.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432
    .venv/bin/python scripts/run_client_suite.py --s3 --postgres postgresql+psycopg://postgres@127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOST, PORT = "localhost", 8000
BASE_URL = f"http://{HOST}:{PORT}"
WEB_URL = "http://localhost:8085"
ADMIN = "admin@nil.nil"
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def archive_command() -> list[str]:
    """``dandi-archive`` from the same environment as this interpreter."""
    script = Path(sys.executable).parent / "dandi-archive"
    if script.exists():
        return [str(script)]
    found = shutil.which("dandi-archive")
    if found is None:
        sys.exit("dandi-archive is not installed; run: pip install -e '.[test]'")
    return [found]


@contextmanager
def postgres_database(server_url: str | None) -> Iterator[str | None]:
    """A new database on ``server_url`` for this run (dropped at the end), or None."""
    if server_url is None:
        yield None
        return
    from sqlalchemy import create_engine, make_url, text

    server = make_url(server_url)
    name = f"dandi_client_suite_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def moto_s3(enabled: bool) -> Iterator[dict[str, str]]:
    """The archive's S3 settings for a moto server on a free loopback port, or none.

    The bucket is named ``dandi-dandisets`` like dandiarchive.org's: two of the client's
    Zarr tests look for that name in upload URLs.
    """
    if not enabled:
        yield {}
        return
    import boto3

    from dandi_archive.testing import moto_server, s3_settings

    with moto_server() as endpoint:
        settings = s3_settings(endpoint, "dandi-dandisets")
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=settings["s3_access_key_id"],
            aws_secret_access_key=settings["s3_secret_access_key"],
        )
        s3.create_bucket(Bucket=settings["s3_bucket"])
        yield {f"DANDI_ARCHIVE_{name.upper()}": value for name, value in settings.items()}


def create_admin(env: dict[str, str], data_dir: Path) -> str:
    """Create the admin account and return its API key."""
    cmd = archive_command()
    common = ["--data-dir", str(data_dir)]
    subprocess.run(
        [*cmd, "user", "create", ADMIN, "--name", "Admin User", "--admin", *common],
        env=env,
        check=True,
    )
    result = subprocess.run(
        [*cmd, "user", "api-key", ADMIN, *common],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip().splitlines()[-1]


def check_port_free() -> None:
    """Refuse to start if something already listens on the port (it would answer for us)."""
    for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        with socket.socket(family) as sock:
            sock.settimeout(1)
            if sock.connect_ex((address, PORT)) == 0:
                sys.exit(f"Port {PORT} on {address} is already in use; stop that server first.")


def start_server(env: dict[str, str], data_dir: Path, log_path: Path) -> subprocess.Popen:
    cmd = [
        *archive_command(),
        "serve",
        "--host",
        HOST,
        "--port",
        str(PORT),
        "--data-dir",
        str(data_dir),
    ]
    with open(log_path, "wb") as log:
        return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.stderr.write(log_path.read_text(errors="replace"))
            sys.exit(f"The server exited with code {server.returncode} while starting.")
        try:
            with urllib.request.urlopen(f"{BASE_URL}/api/info/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    stop_server(server)
    sys.exit(f"The server did not answer {BASE_URL}/api/info/ within {STARTUP_TIMEOUT:.0f} s.")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def sourced_environment(shell_file: Path) -> dict[str, str]:
    """The variables ``shell_file`` sets or changes when sourced by bash."""
    if not shell_file.is_file():
        sys.exit(f"--mirrors: {shell_file} is not a file.")
    script = '. "$1" >/dev/null && env -0'
    result = subprocess.run(
        ["bash", "-c", script, "bash", str(shell_file.resolve())],
        capture_output=True,
        env=dict(os.environ),
    )
    if result.returncode != 0:
        sys.exit(f"--mirrors: sourcing {shell_file} failed: {result.stderr.decode().strip()}")
    after = dict(
        entry.split("=", 1) for entry in result.stdout.decode().split("\0") if "=" in entry
    )
    ignored = {"_", "SHLVL", "PWD", "OLDPWD"}
    return {k: v for k, v in after.items() if k not in ignored and os.environ.get(k) != v}


def test_environment(api_key: str, mirrors: dict[str, str]) -> dict[str, str]:
    """The environment of the client's tests: the archive to test, the mirrors, and this
    interpreter's directory first on PATH (``bids-validator-deno``, ``dandi``)."""
    env = dict(os.environ)
    env.pop("DANDI_TESTS_NONETWORK", None)  # it would skip every test
    env.update(mirrors)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(
        DANDI_TESTS_API_URL=f"{BASE_URL}/api",
        DANDI_TESTS_DJANGO_API_KEY=api_key,
        DANDI_NO_ET="1",
    )
    return env


def report_bids_tools(env: dict[str, str]) -> None:
    """Say up front why the BIDS tests would fail: no validator, or GitHub unmirrored."""
    if shutil.which("bids-validator-deno", path=env["PATH"]) is None:
        print("Note: bids-validator-deno is not installed; the BIDS tests will fail.")
    if not any(k.startswith("GIT_CONFIG_KEY_") for k in env):
        print("Note: no --mirrors; the BIDS tests clone their examples from GitHub.")


def run_pytest(env: dict[str, str], junit: Path, workdir: Path, extra_args: list[str]) -> int:
    args = [sys.executable, "-m", "pytest", "--pyargs", "dandi", "--dandi-api"]
    if importlib.util.find_spec("pytest_randomly") is not None:
        args += ["-p", "no:randomly"]  # keep the client's test order
    args += [f"--junitxml={junit}", *extra_args]
    # Run outside this repository so its own pytest configuration does not apply.
    return subprocess.run(args, env=env, cwd=workdir).returncode


def print_summary(junit: Path, title: str = "", seconds: float | None = None) -> None:
    """Counts per outcome and every test that failed or errored, from the JUnit report."""
    if not junit.exists():
        print("No test report was written.")
        return
    counts: Counter[str] = Counter()
    problems: list[str] = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed" if child.tag == "failure" else "error"
                message = (child.get("message") or "").splitlines()
                problems.append(f"{outcome.upper():7} {name}: {message[0] if message else ''}")
                break
            if child.tag == "skipped":
                xfail = (child.get("type") or "") == "pytest.xfail"
                outcome = "xfailed" if xfail else "skipped"
        counts[outcome] += 1
    print(f"\n=== client suite summary{f' ({title})' if title else ''} ===")
    print(", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "no tests")
    if seconds is not None:
        print(f"wall time {seconds / 60:.1f} min")
    for line in problems:
        print(line[:300])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Unknown arguments are passed to pytest.",
        allow_abbrev=False,
    )
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL server URL")
    parser.add_argument("--s3", action="store_true", help="store in S3 (a moto server)")
    parser.add_argument("--keep", action="store_true", help="keep the data dir")
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="run the tests N times, same server"
    )
    parser.add_argument(
        "--mirrors",
        type=Path,
        metavar="FILE",
        default=os.environ.get("DANDI_CLIENT_SUITE_MIRRORS") or None,
        help="shell file to source for the tests (e.g. bids-mirrors.sh); "
        "default $DANDI_CLIENT_SUITE_MIRRORS",
    )
    options, pytest_args = parser.parse_known_args()
    mirrors = sourced_environment(options.mirrors) if options.mirrors else {}

    check_port_free()
    codes: list[int] = []
    data_dir = Path(tempfile.mkdtemp(prefix="dandi-client-suite-"))
    try:
        with postgres_database(options.postgres) as database_url, moto_s3(options.s3) as s3:
            env = dict(os.environ)
            env.update(
                DANDI_ARCHIVE_BASE_URL=BASE_URL,
                DANDI_ARCHIVE_WEB_URL=WEB_URL,
                DANDI_ARCHIVE_DATA_DIR=str(data_dir),
                **s3,
            )
            if database_url:
                env["DANDI_ARCHIVE_DATABASE_URL"] = database_url
            api_key = create_admin(env, data_dir)
            log_path = data_dir / "server.log"
            server = start_server(env, data_dir, log_path)
            try:
                wait_until_up(server, log_path)
                print(f"Archive running at {BASE_URL} (log: {log_path})", flush=True)
                workdir = data_dir / "pytest"
                workdir.mkdir()
                test_env = test_environment(api_key, mirrors)
                report_bids_tools(test_env)
                reports, durations = [], []
                for run in range(1, options.repeat + 1):
                    reports.append(data_dir / f"junit-{run}.xml")
                    started = time.monotonic()
                    codes.append(run_pytest(test_env, reports[-1], workdir, pytest_args))
                    durations.append(time.monotonic() - started)
            finally:
                stop_server(server)
            for run, (report, seconds) in enumerate(zip(reports, durations, strict=True), 1):
                print_summary(report, f"run {run}" if options.repeat > 1 else "", seconds)
    finally:
        if options.keep:
            print(f"Data dir kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    return next((code for code in codes if code != 0), 0)


if __name__ == "__main__":
    sys.exit(main())
