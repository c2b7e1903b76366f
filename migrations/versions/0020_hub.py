"""federation hub: the merged items' folded search text (cross-group search)

Revision ID: 0020_hub
Revises: 0019_moving
Create Date: 2026-12-03 15:00:00.000000

"""
import json

from alembic import op
import sqlalchemy as sa

from lets_site.search import normalise_text


# revision identifiers, used by Alembic.
revision = '0020_hub'
down_revision = '0019_moving'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('federation_item') as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False,
                                      server_default=''))
    items = sa.table('federation_item', sa.column('id', sa.Integer),
                     sa.column('title', sa.String), sa.column('content_text', sa.Text),
                     sa.column('data', sa.Text), sa.column('search_text', sa.Text))
    connection = op.get_bind()
    rows = connection.execute(sa.select(items.c.id, items.c.title, items.c.content_text,
                                        items.c.data)).all()
    for row_id, title, text, data in rows:
        details = json.loads(data or '{}')
        parts = [title or '', text or '', str(details.get('book_title') or ''),
                 str(details.get('book_authors') or '')]
        connection.execute(items.update().where(items.c.id == row_id).values(
            search_text=normalise_text(' '.join(p for p in parts if p))))
    with op.batch_alter_table('federation_item') as batch_op:
        batch_op.alter_column('search_text', server_default=None)


def downgrade():
    with op.batch_alter_table('federation_item') as batch_op:
        batch_op.drop_column('search_text')
