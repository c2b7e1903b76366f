"""contact scripts shared between groups: the share flag, when the shared set last
changed, and the scripts a federation site fetched from the groups it follows

Revision ID: 0022_shared_scripts
Revises: 0021_agenda
Create Date: 2026-12-03 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lets_site.database


# revision identifiers, used by Alembic.
revision = '0022_shared_scripts'
down_revision = '0021_agenda'
branch_labels = None
depends_on = None


def _when(name, nullable):
    return sa.Column(name, lets_site.database.UTCDateTime(timezone=True), nullable=nullable)


def upgrade():
    with op.batch_alter_table('partner_script') as batch_op:
        batch_op.add_column(sa.Column('shared', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('partner_script_values') as batch_op:
        batch_op.add_column(_when('shared_changed_at', nullable=True))
    op.create_table(
        'federation_script_source',
        sa.Column('feed_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('etag', sa.String(length=200), nullable=True),
        sa.Column('last_modified', sa.String(length=100), nullable=True),
        _when('fetched_at', nullable=True),
        sa.ForeignKeyConstraint(['feed_id'], ['federation_feed.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('feed_id'),
    )
    op.create_table(
        'federation_script',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('feed_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('title_key', sa.String(length=120), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        _when('fetched_at', nullable=False),
        sa.ForeignKeyConstraint(['feed_id'], ['federation_feed.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('feed_id', 'language', 'title_key',
                            name='uq_federation_script_key'),
    )


def downgrade():
    op.drop_table('federation_script')
    op.drop_table('federation_script_source')
    with op.batch_alter_table('partner_script_values') as batch_op:
        batch_op.drop_column('shared_changed_at')
    with op.batch_alter_table('partner_script') as batch_op:
        batch_op.drop_column('shared')
