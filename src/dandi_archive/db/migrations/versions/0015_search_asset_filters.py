"""search asset filters: per-file fields for /api/dandisets/search/

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-11 10:00:00.000000
"""

import json
from typing import Any

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

COLUMNS = ('encoding_format', 'species', 'genotype', 'techniques')


def _label(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get('name')
    return str(value)[:255] if value else ''


def _fields(metadata: Any) -> dict[str, str]:
    """As search.index.asset_filter_fields at this revision (frozen here on purpose)."""
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    metadata = metadata or {}
    agents = metadata.get('wasAttributedTo') or []
    first = agents[0] if isinstance(agents, list) and agents else None
    participant = first if isinstance(first, dict) else {}
    techniques = [
        str(t['name'])
        for t in metadata.get('measurementTechnique') or []
        if isinstance(t, dict) and t.get('name')
    ]
    return {
        'encoding_format': str(metadata.get('encodingFormat') or '')[:255],
        'species': _label(participant.get('species')),
        'genotype': _label(participant.get('genotype')),
        'techniques': ''.join(f'|{t}' for t in techniques) + '|' if techniques else '',
    }


def upgrade() -> None:
    # Plain ADD COLUMN (not batch mode), so SQLite keeps the table and its FTS triggers.
    for name in COLUMNS:
        kind = sa.Text() if name == 'techniques' else sa.String(length=255)
        op.add_column('search_assets', sa.Column(name, kind, nullable=False, server_default=''))
    op.create_index('ix_search_assets_species', 'search_assets', ['species', 'dandiset_id'])
    op.create_index('ix_search_assets_genotype', 'search_assets', ['genotype', 'dandiset_id'])
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            'SELECT search_assets.id, assets.metadata FROM search_assets '
            'JOIN assets ON assets.id = search_assets.asset_id'
        )
    )
    update = sa.text(
        'UPDATE search_assets SET encoding_format = :encoding_format, species = :species, '
        'genotype = :genotype, techniques = :techniques WHERE id = :id'
    )
    batch = []
    for row_id, metadata in rows.fetchall():
        values = _fields(metadata)
        if any(values.values()):
            batch.append({'id': row_id, **values})
    if batch:
        bind.execute(update, batch)


def downgrade() -> None:
    op.drop_index('ix_search_assets_genotype', table_name='search_assets')
    op.drop_index('ix_search_assets_species', table_name='search_assets')
    for name in reversed(COLUMNS):  # plain DROP COLUMN keeps SQLite's FTS triggers too
        op.drop_column('search_assets', name)
