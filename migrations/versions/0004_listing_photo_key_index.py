"""Index listing photos by key (photos are served only to who may see their listing)

Revision ID: 0004_listing_photo_key
Revises: 0003_offers
Create Date: 2026-11-28 10:38:05.741775

"""
from alembic import op
import sqlalchemy as sa

import lets_site.database


# revision identifiers, used by Alembic.
revision = '0004_listing_photo_key'
down_revision = '0003_offers'
branch_labels = None
depends_on = None


def upgrade():
    # A plain CREATE INDEX: no table rebuild, so the full-text triggers on listing stay.
    op.create_index('ix_listing_photo_key', 'listing', ['photo_key'], unique=False)


def downgrade():
    op.drop_index('ix_listing_photo_key', table_name='listing')
