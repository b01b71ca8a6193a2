"""The Alembic migrations build exactly the tables the models describe, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from dandi_archive.db.migrate import alembic_config
from dandi_archive.db.models import Base
from dandi_archive.db.search import include_object


def test_single_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"


def _differences(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    return diff


def test_sqlite_schema_matches_models(sqlite_template):
    assert _differences(f"sqlite:///{sqlite_template}") == []


def test_postgres_schema_matches_models(postgres_url):
    assert _differences(postgres_url) == []
