"""group feed: urn:uuid ids, revisions and tombstones of the public items

Revision ID: 0017_feed
Revises: 0016_digests
Create Date: 2026-12-03 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lets_site.database


# revision identifiers, used by Alembic.
revision = '0017_feed'
down_revision = '0016_digests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'feed_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_key', sa.String(length=200), nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('modified_at', lets_site.database.UTCDateTime(), nullable=False),
        sa.Column('deleted_at', lets_site.database.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_entry')),
        sa.UniqueConstraint('item_key', name=op.f('uq_feed_entry_item_key')),
        sa.UniqueConstraint('uuid', name=op.f('uq_feed_entry_uuid')),
    )
    op.create_index('ix_feed_entry_deleted_at', 'feed_entry', ['deleted_at'], unique=False)


def downgrade():
    op.drop_index('ix_feed_entry_deleted_at', table_name='feed_entry')
    op.drop_table('feed_entry')
