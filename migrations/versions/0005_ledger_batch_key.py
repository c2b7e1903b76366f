"""Mass transfers get a batch row with a UNIQUE key: one form books once

Revision ID: 0005_ledger_batch_key
Revises: 0004_listing_photo_key
Create Date: 2026-12-03 05:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lets_site.database


# revision identifiers, used by Alembic.
revision = '0005_ledger_batch_key'
down_revision = '0004_listing_photo_key'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ledger_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['member.id'], name=op.f('fk_ledger_batch_created_by_id_member'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_batch')),
    sa.UniqueConstraint('key', name=op.f('uq_ledger_batch_key'))
    )
    # One row per batch already booked. A batch booked several times by concurrent copies
    # of its form gets one row counting all its transfers: `lets-site ledger check` then
    # names the accounts it booked more than once.
    op.execute(
        "INSERT INTO ledger_batch (key, kind, amount, lines, created_by_id, created_at) "
        "SELECT batch, MIN(kind), MIN(amount), COUNT(*), MIN(created_by_id), MIN(created_at) "
        "FROM ledger_transfer WHERE batch IS NOT NULL GROUP BY batch"
    )


def downgrade():
    op.drop_table('ledger_batch')
