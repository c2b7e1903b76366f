"""federation aggregator: followed feeds, merged items, fetch log, held decisions

Revision ID: 0018_federation
Revises: 0017_feed
Create Date: 2026-12-03 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lets_site.database


# revision identifiers, used by Alembic.
revision = '0018_federation'
down_revision = '0017_feed'
branch_labels = None
depends_on = None


def _when(name, nullable=True):
    return sa.Column(name, lets_site.database.UTCDateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        'federation_feed',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=63), nullable=False),
        sa.Column('feed_url', sa.String(length=2000), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('public_key', sa.String(length=200), nullable=True),
        sa.Column('health', sa.String(length=8), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('group_name', sa.String(length=200), nullable=False),
        sa.Column('group_info', sa.Text(), nullable=False),
        sa.Column('etag', sa.String(length=200), nullable=True),
        sa.Column('last_modified', sa.String(length=100), nullable=True),
        sa.Column('body_hash', sa.String(length=64), nullable=True),
        sa.Column('errors', sa.Integer(), nullable=False),
        _when('next_fetch_at', nullable=False),
        _when('last_fetch_at'),
        _when('last_success_at'),
        _when('lease_until'),
        sa.Column('lease_owner', sa.String(length=40), nullable=True),
        _when('created_at', nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('slug'),
    )
    with op.batch_alter_table('federation_feed') as batch_op:
        batch_op.create_index('ix_federation_feed_due', ['status', 'next_fetch_at'],
                              unique=False)

    op.create_table(
        'federation_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('feed_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.String(length=200), nullable=False),
        sa.Column('type', sa.String(length=8), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('content_text', sa.Text(), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        _when('date_published'),
        _when('date_modified'),
        _when('start_at'),
        _when('deleted_at'),
        _when('merged_at', nullable=False),
        sa.ForeignKeyConstraint(['feed_id'], ['federation_feed.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('feed_id', 'item_id', name='uq_federation_item_feed_item'),
    )
    with op.batch_alter_table('federation_item') as batch_op:
        batch_op.create_index('ix_federation_item_type_start', ['type', 'start_at'],
                              unique=False)

    op.create_table(
        'federation_fetch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('feed_id', sa.Integer(), nullable=False),
        _when('started_at', nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('bytes', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=24), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('dropped', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['feed_id'], ['federation_feed.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('federation_fetch') as batch_op:
        batch_op.create_index('ix_federation_fetch_feed_id', ['feed_id'], unique=False)

    op.create_table(
        'federation_decision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('feed_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        _when('created_at', nullable=False),
        sa.Column('refused', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['feed_id'], ['federation_feed.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('feed_id', 'kind', name='uq_federation_decision_kind'),
    )
    with op.batch_alter_table('federation_decision') as batch_op:
        batch_op.create_index('ix_federation_decision_feed_id', ['feed_id'], unique=False)


def downgrade():
    op.drop_table('federation_decision')
    op.drop_table('federation_fetch')
    op.drop_table('federation_item')
    op.drop_table('federation_feed')
