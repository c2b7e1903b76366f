"""the common agenda's index: its page walks (type, deleted, start_at, id, end_at) in its
order, without a sort on PostgreSQL either

Revision ID: 0023_agenda_index
Revises: 0022_shared_scripts
Create Date: 2026-12-03 18:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0023_agenda_index'
down_revision = '0022_shared_scripts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('federation_item') as batch_op:
        batch_op.drop_index('ix_federation_item_agenda')
        batch_op.create_index('ix_federation_item_agenda_order',
                              ['type', 'deleted', 'start_at', 'id', 'end_at'], unique=False)


def downgrade():
    with op.batch_alter_table('federation_item') as batch_op:
        batch_op.drop_index('ix_federation_item_agenda_order')
        batch_op.create_index('ix_federation_item_agenda',
                              ['type', 'deleted', 'start_at', 'end_at'], unique=False)
