"""Category search words: other words, in any language, that find a category's listings

Revision ID: 0008_category_words
Revises: 0006_mail_outbox
Create Date: 2026-12-03 08:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_category_words'
down_revision = '0007_group_texts'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no batch copy of the table), so the listing table's search
    # triggers on SQLite are not touched.
    op.add_column('offer_category',
                  sa.Column('words', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('offer_category') as batch_op:
        batch_op.drop_column('words')
