"""``dandi_archive.testing``: the moto server the tests, the client-suite script and the
benchmarks share."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import boto3
import pytest

from dandi_archive.archive import build_store
from dandi_archive.config import Settings
from dandi_archive.testing import RESERVED_PORTS, free_port, moto_server, s3_settings


def test_moto_server_stores_through_the_archive_settings_and_stops_on_exit(tmp_path):
    with moto_server() as endpoint:
        settings = Settings(data_dir=tmp_path, **s3_settings(endpoint, "helper-test"))
        store = build_store(settings)
        store.ensure_bucket()  # type: ignore[attr-defined]
        store.put_bytes("a/b.txt", b"hello", "text/plain")
        # The dummy credentials are in the environment: a client without keys signs too.
        plain = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        assert plain.get_object(Bucket="helper-test", Key="a/b.txt")["Body"].read() == b"hello"
        port = urlsplit(endpoint).port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_free_port_is_free_and_never_a_reserved_one():
    port = free_port()
    assert port not in RESERVED_PORTS
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
