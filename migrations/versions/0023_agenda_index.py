"""the common agenda's index: its page walks (type, deleted, start_at, id, end_at) in its
order, without a sort on PostgreSQL either

Revision ID: 0023_agenda_index
Revises: 0021_agenda
Create Date: 2026-12-03 18:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
# (0022_shared_scripts is made at the same time on another branch: the merge re-chains this
# one after it.)
revision = '0023_agenda_index'
down_revision = '0021_agenda'
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
