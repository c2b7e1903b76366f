"""the common agenda: each event's end and kind, indexed for the agenda's range

Revision ID: 0021_agenda
Revises: 0020_hub
Create Date: 2026-12-03 15:00:00.000000

"""
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alembic import op
import sqlalchemy as sa

import lets_site.database


# revision identifiers, used by Alembic.
revision = '0021_agenda'
down_revision = '0020_hub'
branch_labels = None
depends_on = None


def _end(data, start):
    """The event's end in UTC, as federation/agenda.py's event_end (copied here so this
    migration stays as it is when the app's code changes)."""
    try:
        if data.get('all_day'):
            last = date.fromisoformat(str(data.get('end_date') or data.get('start_date')))
            zone = ZoneInfo(str(data.get('timezone') or 'UTC'))
            after = last + timedelta(days=1)
            return datetime(after.year, after.month, after.day, tzinfo=zone).astimezone(UTC)
        if data.get('end'):
            return datetime.fromisoformat(str(data['end'])).astimezone(UTC)
    except (ValueError, ZoneInfoNotFoundError):
        pass
    return start


def upgrade():
    with op.batch_alter_table('federation_item') as batch_op:
        batch_op.add_column(sa.Column('end_at', lets_site.database.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=40), nullable=True))
        batch_op.create_index('ix_federation_item_agenda',
                              ['type', 'deleted', 'start_at', 'end_at'], unique=False)
        batch_op.create_index('ix_federation_item_kind', ['type', 'kind', 'end_at'],
                              unique=False)
    items = sa.table('federation_item', sa.column('id', sa.Integer()),
                     sa.column('type', sa.String()), sa.column('data', sa.Text()),
                     sa.column('start_at', lets_site.database.UTCDateTime(timezone=True)),
                     sa.column('end_at', lets_site.database.UTCDateTime(timezone=True)),
                     sa.column('kind', sa.String()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(items.c.id, items.c.data, items.c.start_at)
                        .where(items.c.type == 'event')).all()
    for item_id, text, start in rows:
        data = json.loads(text or '{}')
        kind = data.get('kind') if isinstance(data.get('kind'), str) else None
        bind.execute(items.update().where(items.c.id == item_id)
                     .values(end_at=_end(data, start), kind=kind))


def downgrade():
    with op.batch_alter_table('federation_item') as batch_op:
        batch_op.drop_index('ix_federation_item_kind')
        batch_op.drop_index('ix_federation_item_agenda')
        batch_op.drop_column('kind')
        batch_op.drop_column('end_at')
