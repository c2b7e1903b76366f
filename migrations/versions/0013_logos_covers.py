"""Partner logos, book covers, and the event a collaboration came from

Revision ID: 0013_logos_covers
Revises: 0012_content
Create Date: 2026-12-03 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_logos_covers'
down_revision = '0012_content'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN and CREATE INDEX on partner and book: no table rebuild, so the
    # books' full-text triggers stay.
    op.add_column('partner', sa.Column('logo_key', sa.String(length=64), nullable=True))
    op.add_column('partner', sa.Column('logo_width', sa.Integer(), nullable=True))
    op.add_column('partner', sa.Column('logo_height', sa.Integer(), nullable=True))
    op.create_index('ix_partner_logo_key', 'partner', ['logo_key'], unique=False)

    op.add_column('book', sa.Column('cover_key', sa.String(length=64), nullable=True))
    op.add_column('book', sa.Column('cover_width', sa.Integer(), nullable=True))
    op.add_column('book', sa.Column('cover_height', sa.Integer(), nullable=True))
    op.add_column('book', sa.Column('cover_thumb_width', sa.Integer(), nullable=True))
    op.add_column('book', sa.Column('cover_thumb_height', sa.Integer(), nullable=True))
    op.create_index('ix_book_cover_key', 'book', ['cover_key'], unique=False)

    # A foreign key: SQLite rebuilds the table (it has no triggers).
    with op.batch_alter_table('partner_collaboration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_partner_collaboration_event_id', ['event_id'], unique=False)
        batch_op.create_foreign_key(op.f('fk_partner_collaboration_event_id_event'), 'event',
                                    ['event_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('partner_collaboration', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_partner_collaboration_event_id_event'),
                                 type_='foreignkey')
        batch_op.drop_index('ix_partner_collaboration_event_id')
        batch_op.drop_column('event_id')

    op.drop_index('ix_book_cover_key', table_name='book')
    for column in ('cover_thumb_height', 'cover_thumb_width', 'cover_height', 'cover_width',
                   'cover_key'):
        with op.batch_alter_table('book', schema=None, recreate='never') as batch_op:
            batch_op.drop_column(column)

    op.drop_index('ix_partner_logo_key', table_name='partner')
    for column in ('logo_height', 'logo_width', 'logo_key'):
        with op.batch_alter_table('partner', schema=None, recreate='never') as batch_op:
            batch_op.drop_column(column)
