"""book swaps: books on members' shelves and requests for them

Revision ID: 0011_books
Revises: 0008_category_words
Create Date: 2026-12-03 09:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lets_site.database


# revision identifiers, used by Alembic.
revision = '0011_books'
down_revision = '0010_events'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'book',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('authors', sa.String(length=200), nullable=False),
        sa.Column('isbn', sa.String(length=13), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('genre', sa.String(length=16), nullable=False),
        sa.Column('condition', sa.String(length=12), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('mode', sa.String(length=8), nullable=False),
        sa.Column('price', sa.Integer(), nullable=True),
        sa.Column('visibility', sa.String(length=8), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('owner_member_id', sa.Integer(), nullable=True),
        sa.Column('owner_org_id', sa.Integer(), nullable=True),
        sa.Column('search_text', sa.Text(), nullable=False),
        sa.Column('created_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('(owner_member_id IS NULL) <> (owner_org_id IS NULL)',
                           name='book_one_owner'),
        sa.CheckConstraint('price IS NULL OR price > 0', name='book_price_positive'),
        sa.ForeignKeyConstraint(['owner_member_id'], ['member.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['owner_org_id'], ['organisation.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('uuid'),
    )
    with op.batch_alter_table('book') as batch_op:
        batch_op.create_index('ix_book_isbn', ['isbn'], unique=False)
        batch_op.create_index('ix_book_owner_member_id', ['owner_member_id'], unique=False)
        batch_op.create_index('ix_book_owner_org_id', ['owner_org_id'], unique=False)
        batch_op.create_index('ix_book_state_created', ['state', 'created_at'], unique=False)

    op.create_table(
        'book_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('book_id', sa.Integer(), nullable=False),
        sa.Column('requester_id', sa.Integer(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('open_key', sa.String(length=24), nullable=True),
        sa.Column('busy_book', sa.Integer(), nullable=True),
        sa.Column('due_date', sa.Date(), nullable=True),
        sa.Column('transfer_uid', sa.String(length=32), nullable=True),
        sa.Column('created_at', lets_site.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', lets_site.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('handed_over_at', lets_site.database.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column('returned_at', lets_site.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['book_id'], ['book.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requester_id'], ['member.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('open_key'),
        sa.UniqueConstraint('busy_book'),
    )
    with op.batch_alter_table('book_request') as batch_op:
        batch_op.create_index('ix_book_request_book_id', ['book_id'], unique=False)
        batch_op.create_index('ix_book_request_requester_id', ['requester_id'], unique=False)


def downgrade():
    op.drop_table('book_request')
    op.drop_table('book')
