"""INSERT ... ON CONFLICT, which both engines speak but SQLAlchemy builds per dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: type) -> Any:
    """An INSERT of ``table`` with ``on_conflict_do_*``, for the session's engine."""
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)
