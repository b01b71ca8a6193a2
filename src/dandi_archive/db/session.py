"""Engines and sessions.

SQLite needs two things PostgreSQL does not: write transactions must start with
``BEGIN IMMEDIATE`` (else two writers that both read first deadlock and one fails at
once instead of waiting), and WAL mode so readers never wait for a writer. We keep a
second engine for writes that begins that way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
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


def _postgres_engine(url: str) -> Engine:
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)

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
