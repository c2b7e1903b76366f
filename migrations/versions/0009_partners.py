"""Partners: directory, collaborations, prospects pipeline, contact scripts

Revision ID: 0009_partners
Revises: 0006_mail_outbox
Create Date: 2026-12-03 08:12:02.046670

"""
from alembic import op
import sqlalchemy as sa

import lets_site.database


# revision identifiers, used by Alembic.
revision = '0009_partners'
down_revision = '0006_mail_outbox'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('partner_script',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_script')),
    sa.UniqueConstraint('title', 'language', name=op.f('uq_partner_script_title'))
    )
    op.create_table('partner_script_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('our_offer', sa.Text(), nullable=False),
    sa.Column('next_intro_evening', sa.String(length=200), nullable=False),
    sa.Column('updated_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_script_values'))
    )
    op.create_table('partner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('name_key', sa.String(length=160), nullable=False),
    sa.Column('sector', sa.String(length=24), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('gives', sa.Text(), nullable=False),
    sa.Column('needs', sa.Text(), nullable=False),
    sa.Column('visibility', sa.String(length=8), nullable=False),
    sa.Column('created_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind <> 'member' OR organisation_id IS NOT NULL", name=op.f('ck_partner_member_has_organisation')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_partner_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner')),
    sa.UniqueConstraint('name_key', name=op.f('uq_partner_name_key')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_partner_organisation_id')),
    sa.UniqueConstraint('slug', name=op.f('uq_partner_slug'))
    )
    op.create_table('partner_coordinator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('created_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_partner_coordinator_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_coordinator')),
    sa.UniqueConstraint('member_id', name=op.f('uq_partner_coordinator_member_id'))
    )
    op.create_table('partner_collaboration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=160), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('support', sa.String(length=80), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=True),
    sa.Column('open_to_non_members', sa.Boolean(), nullable=False),
    sa.Column('visitors', sa.Integer(), nullable=True),
    sa.Column('visibility', sa.String(length=8), nullable=False),
    sa.Column('created_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_cents IS NULL OR amount_cents >= 0', name=op.f('ck_partner_collaboration_amount_not_negative')),
    sa.CheckConstraint('visitors IS NULL OR visitors >= 0', name=op.f('ck_partner_collaboration_visitors_not_negative')),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_partner_collaboration_partner_id_partner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_collaboration'))
    )
    with op.batch_alter_table('partner_collaboration', schema=None) as batch_op:
        batch_op.create_index('ix_partner_collaboration_happened_on', ['happened_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_collaboration_partner_id'), ['partner_id'], unique=False)

    op.create_table('partner_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_partner_contact_partner_id_partner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_contact'))
    )
    with op.batch_alter_table('partner_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_contact_partner_id'), ['partner_id'], unique=False)

    op.create_table('partner_prospect',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('name_key', sa.String(length=160), nullable=False),
    sa.Column('sector', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('next_step', sa.String(length=200), nullable=False),
    sa.Column('next_step_on', sa.Date(), nullable=True),
    sa.Column('contact_name', sa.String(length=120), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['member.id'], name=op.f('fk_partner_prospect_owner_id_member'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_partner_prospect_partner_id_partner'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_prospect')),
    sa.UniqueConstraint('name_key', name=op.f('uq_partner_prospect_name_key'))
    )
    with op.batch_alter_table('partner_prospect', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_prospect_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_prospect_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_prospect_status'), ['status'], unique=False)

    op.create_table('partner_prospect_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prospect_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('medium', sa.String(length=8), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('old_status', sa.String(length=16), nullable=False),
    sa.Column('new_status', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['member.id'], name=op.f('fk_partner_prospect_log_actor_id_member'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['prospect_id'], ['partner_prospect.id'], name=op.f('fk_partner_prospect_log_prospect_id_partner_prospect'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_prospect_log'))
    )
    with op.batch_alter_table('partner_prospect_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_prospect_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_prospect_log_prospect_id'), ['prospect_id'], unique=False)



def downgrade():
    with op.batch_alter_table('partner_prospect_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_prospect_log_prospect_id'))
        batch_op.drop_index(batch_op.f('ix_partner_prospect_log_actor_id'))

    op.drop_table('partner_prospect_log')
    with op.batch_alter_table('partner_prospect', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_prospect_status'))
        batch_op.drop_index(batch_op.f('ix_partner_prospect_partner_id'))
        batch_op.drop_index(batch_op.f('ix_partner_prospect_owner_id'))

    op.drop_table('partner_prospect')
    with op.batch_alter_table('partner_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_contact_partner_id'))

    op.drop_table('partner_contact')
    with op.batch_alter_table('partner_collaboration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_collaboration_partner_id'))
        batch_op.drop_index('ix_partner_collaboration_happened_on')

    op.drop_table('partner_collaboration')
    op.drop_table('partner_coordinator')
    op.drop_table('partner')
    op.drop_table('partner_script_values')
    op.drop_table('partner_script')
