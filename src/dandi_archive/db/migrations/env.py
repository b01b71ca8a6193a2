"""Alembic environment: migrations run on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from dandi_archive.db.models import Base
from dandi_archive.db.search import include_object

config = context.config
url = config.get_main_option("sqlalchemy.url")
connectable = config.attributes.get("connection") or create_engine(url)

if hasattr(connectable, "connect") and not hasattr(connectable, "execute"):
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(
        connection=connectable,
        target_metadata=Base.metadata,
        include_object=include_object,
        render_as_batch=connectable.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
