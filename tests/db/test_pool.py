"""Pooled PostgreSQL connections the server closed are replaced before a request uses them."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from dandi_archive.db import session as db_session
from dandi_archive.db.session import Database


@pytest.fixture
def database(postgres_url: str):
    database = Database(postgres_url)
    yield database
    database.dispose()


def backend_pids(database: Database) -> set[int]:
    pids = set()
    for _ in range(3):  # three pooled connections
        with database.engine.connect() as conn:
            pids.add(conn.scalar(text("SELECT pg_backend_pid()")))
    return pids


def terminate_all(postgres_url: str) -> None:
    """What a restart of PostgreSQL does to the pool: every server process goes away."""
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    admin.dispose()


def query_twice(database: Database) -> list[int]:
    answers = []
    for _ in range(2):
        with database.session() as session:
            answers.append(session.scalar(text("SELECT 1")))
    return answers


@pytest.mark.parametrize("idle", [False, True], ids=["just-used", "idle"])
def test_terminated_connections_are_replaced(
    database: Database, postgres_url: str, monkeypatch: pytest.MonkeyPatch, idle: bool
) -> None:
    # Just used: the server's termination notice is seen on the socket. Idle: pinged.
    if idle:
        monkeypatch.setattr(db_session, "PING_AFTER_IDLE_SECONDS", 0.0)
    before = backend_pids(database)
    terminate_all(postgres_url)
    assert query_twice(database) == [1, 1]
    assert not backend_pids(database) & before


def test_a_connection_in_use_is_not_pinged(database: Database) -> None:
    pings = []
    original = database.engine.dialect.do_ping
    database.engine.dialect.do_ping = lambda conn: pings.append(1) or original(conn)  # type: ignore[method-assign]
    query_twice(database)
    query_twice(database)
    assert pings == []
