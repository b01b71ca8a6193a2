"""search index: words of Dandisets and files, facet values; FTS per engine

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PathString = sa.String(512).with_variant(sa.String(512, collation="C"), "postgresql")
TermString = sa.String(255).with_variant(sa.String(255, collation="C"), "postgresql")
RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_FTS = """
CREATE VIRTUAL TABLE search_dandisets_fts USING fts5(
    name_words, keyword_words, body_words,
    content='search_dandisets', content_rowid='dandiset_id',
    tokenize='unicode61 remove_diacritics 0', prefix='2 3');
CREATE TRIGGER search_dandisets_ai AFTER INSERT ON search_dandisets BEGIN
    INSERT INTO search_dandisets_fts(rowid, name_words, keyword_words, body_words)
    VALUES (new.dandiset_id, new.name_words, new.keyword_words, new.body_words);
END;
CREATE TRIGGER search_dandisets_ad AFTER DELETE ON search_dandisets BEGIN
    INSERT INTO search_dandisets_fts(search_dandisets_fts, rowid, name_words, keyword_words, body_words)
    VALUES ('delete', old.dandiset_id, old.name_words, old.keyword_words, old.body_words);
END;
CREATE TRIGGER search_dandisets_au AFTER UPDATE ON search_dandisets BEGIN
    INSERT INTO search_dandisets_fts(search_dandisets_fts, rowid, name_words, keyword_words, body_words)
    VALUES ('delete', old.dandiset_id, old.name_words, old.keyword_words, old.body_words);
    INSERT INTO search_dandisets_fts(rowid, name_words, keyword_words, body_words)
    VALUES (new.dandiset_id, new.name_words, new.keyword_words, new.body_words);
END;
CREATE VIRTUAL TABLE search_assets_fts USING fts5(
    words, content='search_assets', content_rowid='id',
    tokenize='unicode61 remove_diacritics 0', prefix='2 3');
CREATE TRIGGER search_assets_ai AFTER INSERT ON search_assets BEGIN
    INSERT INTO search_assets_fts(rowid, words) VALUES (new.id, new.words);
END;
CREATE TRIGGER search_assets_ad AFTER DELETE ON search_assets BEGIN
    INSERT INTO search_assets_fts(search_assets_fts, rowid, words) VALUES ('delete', old.id, old.words);
END;
CREATE TRIGGER search_assets_au AFTER UPDATE ON search_assets BEGIN
    INSERT INTO search_assets_fts(search_assets_fts, rowid, words) VALUES ('delete', old.id, old.words);
    INSERT INTO search_assets_fts(rowid, words) VALUES (new.id, new.words);
END;
"""

POSTGRES_FTS = """
ALTER TABLE search_dandisets ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, name_words), 'A')
    || setweight(to_tsvector('simple'::regconfig, keyword_words), 'B')
    || setweight(to_tsvector('simple'::regconfig, body_words), 'C')) STORED;
CREATE INDEX ix_search_dandisets_tsv ON search_dandisets USING gin (tsv);
ALTER TABLE search_assets ADD COLUMN tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, words)) STORED;
CREATE INDEX ix_search_assets_tsv ON search_assets USING gin (tsv);
"""


def upgrade() -> None:
    op.create_table(
        "search_dandisets",
        sa.Column("dandiset_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("name_words", sa.Text(), nullable=False),
        sa.Column("keyword_words", sa.Text(), nullable=False),
        sa.Column("body_words", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["dandiset_id"], ["dandisets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dandiset_id"),
    )
    op.create_table(
        "search_assets",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("dandiset_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("path", PathString, nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["dandiset_id"], ["dandisets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_search_assets_dandiset_path", "search_assets", ["dandiset_id", "path"])
    op.create_index("ix_search_assets_asset", "search_assets", ["asset_id"])
    op.create_table(
        "search_terms",
        sa.Column("dandiset_id", sa.Integer(), nullable=False),
        sa.Column("term", TermString, nullable=False),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["dandiset_id"], ["dandisets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dandiset_id", "term"),
    )
    op.create_index("ix_search_terms_term", "search_terms", ["term", "dandiset_id"])
    op.create_table(
        "search_facets",
        sa.Column("dandiset_id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(32), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("in_metadata", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["dandiset_id"], ["dandisets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dandiset_id", "facet", "value"),
    )
    op.create_index(
        "ix_search_facets_value", "search_facets", ["facet", "value", "dandiset_id"]
    )
    bind = op.get_bind()
    statements = POSTGRES_FTS if bind.dialect.name == "postgresql" else SQLITE_FTS
    if bind.dialect.name == "sqlite":
        # Triggers contain ';', so split on the blank-line-free statement ends by hand.
        for statement in _sqlite_statements(statements):
            bind.exec_driver_sql(statement)
    else:
        bind.exec_driver_sql(statements)
    # Existing Dandisets are indexed on the next start (search_index.ensure_built), with
    # the models of that code, not here with models that may be ahead of this schema.


def _sqlite_statements(script: str) -> list[str]:
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        joined = "\n".join(current)
        if line.rstrip().endswith(";") and (
            not joined.lstrip().upper().startswith("CREATE TRIGGER") or line.strip() == "END;"
        ):
            statements.append(joined)
            current = []
    return statements


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("search_dandisets", "search_assets"):
            for suffix in ("ai", "ad", "au"):
                bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}_{suffix}")
            bind.exec_driver_sql(f"DROP TABLE IF EXISTS {name}_fts")
    op.drop_table("search_facets")
    op.drop_table("search_terms")
    op.drop_table("search_assets")
    op.drop_table("search_dandisets")
