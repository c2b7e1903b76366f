"""Digests: the group's default frequency, members' choices and link versions, one row per
digest sent (member, period; unique); the outbox's HTML part and extra headers

Revision ID: 0016_digests
Revises: 0015_notifications
Create Date: 2026-12-03 12:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lets_site.database


# revision identifiers, used by Alembic.
revision = '0016_digests'
down_revision = '0015_notifications'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('digest_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('default_frequency', sa.String(length=8), nullable=False),
    sa.Column('updated_at', lets_site.database.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_settings'))
    )
    op.create_table('digest_preference',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.String(length=8), nullable=True),
    sa.Column('link_version', sa.Integer(), nullable=False),
    sa.Column('last_digest_at', lets_site.database.UTCDateTime(), nullable=True),
    sa.Column('updated_at', lets_site.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_digest_preference_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_digest_preference'))
    )
    op.create_table('digest_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('created_at', lets_site.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_digest_sent_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_sent')),
    sa.UniqueConstraint('member_id', 'period', name=op.f('uq_digest_sent_member_id'))
    )
    with op.batch_alter_table('digest_sent', schema=None) as batch_op:
        batch_op.create_index('ix_digest_sent_member_id', ['member_id'], unique=False)

    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('html', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('headers', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_column('headers')
        batch_op.drop_column('html')

    with op.batch_alter_table('digest_sent', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_sent_member_id')

    op.drop_table('digest_sent')
    op.drop_table('digest_preference')
    op.drop_table('digest_settings')
