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


def _migrate_usernames(url: str) -> list[tuple[str, str]]:
    """Users made before 0009 (usernames were addresses) after the upgrade."""
    from alembic import command
    from sqlalchemy import text

    config = alembic_config(url)
    command.upgrade(config, "0008")
    engine = create_engine(url)
    people = [
        ("jane@example.org", "Jane Doe"),
        ("jane.d@example.com", "Jane Doe"),
        ("ada@example.org", ""),
        ("keeper@example.org", "Kept"),
    ]
    with engine.begin() as conn:
        for email, name in people:
            username = "keeper" if email.startswith("keeper") else email
            conn.execute(
                text(
                    "INSERT INTO users (email, username, name, is_admin, status, created) "
                    "VALUES (:e, :u, :n, false, 'APPROVED', CURRENT_TIMESTAMP)"
                ),
                {"e": email, "u": username, "n": name},
            )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT email, username FROM users ORDER BY id")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


EXPECTED_USERNAMES = [
    ("jane@example.org", "jane-doe"),
    ("jane.d@example.com", "jane-doe-2"),
    ("ada@example.org", "ada"),
    ("keeper@example.org", "keeper"),  # not an address: kept
]


def test_sqlite_migration_replaces_email_usernames(tmp_path):
    assert _migrate_usernames(f"sqlite:///{tmp_path / 'old.sqlite3'}") == EXPECTED_USERNAMES


def test_postgres_migration_replaces_email_usernames(postgres_url):
    import uuid

    from sqlalchemy import text

    server, _, _ = postgres_url.rpartition("/")
    name = f"dandi_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        assert _migrate_usernames(f"{server}/{name}") == EXPECTED_USERNAMES
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
