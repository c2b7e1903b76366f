"""Moving in: transfers imported from the old system (eLAS, eLAND, a spreadsheet) are
marked, so statements can say so

Revision ID: 0019_moving
Revises: 0018_federation
Create Date: 2026-12-03 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_moving'
down_revision = '0018_federation'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ledger_transfer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('ledger_transfer', schema=None) as batch_op:
        batch_op.drop_column('imported')
