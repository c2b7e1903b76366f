"""Notifications: members' choices, the group's defaults, once-only notifications,
addresses a mail server refused

Revision ID: 0015_notifications
Revises: 0014_book_swaps
Create Date: 2026-12-03 12:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lets_site.database


# revision identifiers, used by Alembic.
revision = '0015_notifications'
down_revision = '0014_book_swaps'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_default',
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('kind', name=op.f('pk_notification_default'))
    )
    op.create_table('notification_preference',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_notification_preference_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', 'kind', name=op.f('pk_notification_preference'))
    )
    op.create_table('notification_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('once_key', sa.String(length=128), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lets_site.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_notification_sent_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_sent')),
    sa.UniqueConstraint('kind', 'once_key', name=op.f('uq_notification_sent_kind'))
    )
    with op.batch_alter_table('notification_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_sent_member_id'), ['member_id'], unique=False)

    op.create_table('notification_address_flag',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('flagged_at', lets_site.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_notification_address_flag_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_notification_address_flag'))
    )


def downgrade():
    op.drop_table('notification_address_flag')
    with op.batch_alter_table('notification_sent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_sent_member_id'))
    op.drop_table('notification_sent')
    op.drop_table('notification_preference')
    op.drop_table('notification_default')
