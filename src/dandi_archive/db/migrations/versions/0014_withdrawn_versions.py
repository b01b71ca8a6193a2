"""withdrawn versions: versions.withdrawn, and DOI states registered/deleted

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-12 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

OLD = ('reserved', 'pending', 'draft', 'findable', 'failed')
NEW = (*OLD, 'registered', 'deleted')


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _doi_checks(values: tuple[str, ...]) -> None:
    """Replace the named CHECK constraints of dois.state/target (SQLite: the table is
    rebuilt, and batch mode does not carry unreflected CHECKs over, so no drop there)."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    with op.batch_alter_table('dois', recreate='always' if sqlite else 'auto') as batch_op:
        for column, name in (('state', 'doi_state'), ('target', 'doi_target')):
            if not sqlite:
                batch_op.drop_constraint(name, type_='check')
            batch_op.create_check_constraint(name, _in(column, values))


def upgrade() -> None:
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn', sa.DateTime(timezone=True), nullable=True))
    _doi_checks(NEW)


def downgrade() -> None:
    op.execute("UPDATE dois SET state = 'findable' WHERE state = 'registered'")
    op.execute("UPDATE dois SET target = 'findable' WHERE target IN ('registered', 'deleted')")
    op.execute("DELETE FROM dois WHERE state = 'deleted'")
    _doi_checks(OLD)
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_column('withdrawn')
