"""Engines and sessions.

SQLite needs two things PostgreSQL does not: write transactions must start with
``BEGIN IMMEDIATE`` (else two writers that both read first deadlock and one fails at
once instead of waiting), and WAL mode so readers never wait for a writer. We keep a
second engine for writes that begins that way.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

AfterCommitHook = Callable[[Session], None]


def _sqlite_engine(url: str, begin: str) -> Engine:
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=10
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


# A pooled connection back in use within this many seconds is not pinged (see below).
PING_AFTER_IDLE_SECONDS = 10.0


def _has_input(dbapi_connection: Any) -> bool:
    """Whether the server sent something to a connection that is idle between
    transactions: only a server going away does (its termination notice, or EOF)."""
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _check_on_checkout(engine: Engine) -> None:
    """Make sure a pooled connection still works before a request uses it.

    SQLAlchemy's ``pool_pre_ping`` costs a round trip to the server on every checkout,
    as much as a short query: a fifth of a small request. Instead, a connection is
    pinged only if it sat idle for a while, or if the server has written to it since
    (a restart or ``pg_terminate_backend`` sends a notice and closes it, which a
    zero-timeout poll of the socket sees). A failed ping drops every pooled connection
    made before it, as a failed ``pool_pre_ping`` does.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None:
            return  # just connected
        recent = time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS
        if recent and not _has_input(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.InvalidatePoolError() from error


def _postgres_engine(url: str) -> Engine:
    engine = create_engine(url, pool_size=10, max_overflow=20)
    _check_on_checkout(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The archive's statements are short. JIT compilation, which PostgreSQL starts
        # when a plan's estimated cost is high, took ~60 ms for a search that runs in 40.
        # psycopg prepares a statement run five times; PostgreSQL may then reuse a plan
        # made without the values, which for search (word selectivity, tsquery folded
        # to a constant) was twice as slow as planning with them.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_connection.commit()

    return engine


class Database:
    """Session factory for one database URL.

    ``session(write=True)`` is for transactions that change rows. After a successful
    commit, hooks registered with :meth:`after_commit` run (used to queue background
    jobs only once their rows are visible to other processes).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine = _sqlite_engine(url, "BEGIN")
            self.write_engine = _sqlite_engine(url, "BEGIN IMMEDIATE")
        else:
            self.engine = _postgres_engine(url)
            self.write_engine = self.engine
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def new_session(self, write: bool = False) -> Session:
        return (self._write if write else self._read)()

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """A transaction: committed if the block succeeds, rolled back if it raises."""
        session = self.new_session(write)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        run_after_commit_hooks(session)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()


def after_commit(session: Session, hook: AfterCommitHook) -> None:
    """Run ``hook`` once the session's transaction has committed (never on rollback)."""
    session.info.setdefault("after_commit", []).append(hook)


def run_after_commit_hooks(session: Session) -> None:
    """Called by whoever committed ``session``; hooks of a rolled-back one are dropped."""
    hooks = session.info.pop("after_commit", [])
    if session.info.pop("rolled_back", False):
        return
    for hook in hooks:
        hook(session)
