"""search facet totals: Dandisets per facet value, kept by triggers (PostgreSQL)

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Statement-level triggers with transition tables: a statement that adds or removes many
# facet rows (a rebuild, a deleted Dandiset) updates each total once, in (facet, value)
# order. A total changes only when a Dandiset gains or loses a value, not per file.
POSTGRES = """
CREATE TABLE search_facet_totals (
    facet VARCHAR(32) NOT NULL,
    value VARCHAR(255) NOT NULL,
    dandisets BIGINT NOT NULL,
    PRIMARY KEY (facet, value)
);
INSERT INTO search_facet_totals (facet, value, dandisets)
    SELECT facet, value, count(*) FROM search_facets GROUP BY facet, value;
CREATE FUNCTION search_facets_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_facet_totals AS t (facet, value, dandisets)
        SELECT facet, value, count(*) FROM new_rows GROUP BY facet, value ORDER BY facet, value
    ON CONFLICT (facet, value) DO UPDATE SET dandisets = t.dandisets + EXCLUDED.dandisets;
    RETURN NULL;
END $$;
CREATE FUNCTION search_facets_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_facet_totals AS t (facet, value, dandisets)
        SELECT facet, value, -count(*) FROM old_rows GROUP BY facet, value ORDER BY facet, value
    ON CONFLICT (facet, value) DO UPDATE SET dandisets = t.dandisets + EXCLUDED.dandisets;
    RETURN NULL;
END $$;
-- Most updates change only a file count: then the difference is empty and no total is
-- touched (or locked).
CREATE FUNCTION search_facets_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_facet_totals AS t (facet, value, dandisets)
        SELECT facet, value, sum(n) FROM (
            SELECT facet, value, 1 AS n FROM new_rows
            UNION ALL SELECT facet, value, -1 FROM old_rows
        ) AS changes
        GROUP BY facet, value HAVING sum(n) <> 0 ORDER BY facet, value
    ON CONFLICT (facet, value) DO UPDATE SET dandisets = t.dandisets + EXCLUDED.dandisets;
    RETURN NULL;
END $$;
CREATE FUNCTION search_facets_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_facet_totals;
    RETURN NULL;
END $$;
CREATE TRIGGER search_facets_inserted AFTER INSERT ON search_facets
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_facets_inserted();
CREATE TRIGGER search_facets_deleted AFTER DELETE ON search_facets
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_facets_deleted();
CREATE TRIGGER search_facets_updated AFTER UPDATE ON search_facets
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_facets_updated();
CREATE TRIGGER search_facets_truncated AFTER TRUNCATE ON search_facets
    FOR EACH STATEMENT EXECUTE FUNCTION search_facets_truncated();
"""


def upgrade() -> None:
    # SQLite counts facets directly (its archives are small); only PostgreSQL keeps totals.
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(POSTGRES)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for change in ("inserted", "deleted", "updated", "truncated"):
            op.execute(f"DROP TRIGGER search_facets_{change} ON search_facets")
            op.execute(f"DROP FUNCTION search_facets_{change}()")
        op.execute("DROP TABLE search_facet_totals")
