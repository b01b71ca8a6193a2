"""Helpers for the programs that run an archive for testing: the tests, the client-suite
script (scripts/run_client_suite.py) and the benchmarks (bench/).

They are separate programs, so the pieces they share live here, in the package they all
import: a free loopback port and an S3 server (moto) to store in. moto is in the ``test``
extra, not a dependency of the archive: it is imported only when a server is started.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

LOOPBACK = "127.0.0.1"
# The archive's default port, which the client suite always uses: never handed out, so a
# helper never takes it from a server about to start there.
RESERVED_PORTS = frozenset({8000})
# moto accepts any credentials; these are the ones every program passes to the archive.
S3_ACCESS_KEY_ID = "testing"
S3_SECRET_ACCESS_KEY = "testing"


def free_port() -> int:
    """A loopback port nobody listens on right now (never one of RESERVED_PORTS)."""
    while True:
        with socket.socket() as sock:
            sock.bind((LOOPBACK, 0))
            port = sock.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def s3_settings(endpoint: str, bucket: str) -> dict[str, str]:
    """The archive's S3 settings (``Settings`` keyword arguments) for a bucket of the
    moto server at ``endpoint``."""
    return {
        "s3_bucket": bucket,
        "s3_endpoint_url": endpoint,
        "s3_access_key_id": S3_ACCESS_KEY_ID,
        "s3_secret_access_key": S3_SECRET_ACCESS_KEY,
    }


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server (S3 and the other AWS APIs) on a free loopback port, stopped on exit;
    yields its endpoint URL.

    The dummy AWS credentials are put in the environment unless some are set already, so
    a boto3 client made without explicit keys (in this process or its children) can sign
    its requests.
    """
    from moto.server import ThreadedMotoServer

    # moto serves through werkzeug, which logs every request to stderr by default.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY_ID)
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", S3_SECRET_ACCESS_KEY)
    port = free_port()
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    server.start()
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.stop()
