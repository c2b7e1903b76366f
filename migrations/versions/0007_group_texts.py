"""The group's own words per language: the unit's singular and plural and the "about the
group" text in nl, fr and en (today's unit name and about text go to the default language)

Revision ID: 0007_group_texts
Revises: 0006_mail_outbox
Create Date: 2026-12-03 08:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_group_texts'
down_revision = '0006_mail_outbox'
branch_labels = None
depends_on = None

LANGUAGES = ('nl', 'fr', 'en')
# A group that counts in hours gets the hour's name in every language; any other unit
# (e.g. "Ieperlinck") is known in the default language only, and the other languages fall
# back to it until an admin fills them in.
HOURS = {'nl': ('uur', 'uren'), 'fr': ('heure', 'heures'), 'en': ('hour', 'hours')}
HOUR_WORDS = {word for pair in HOURS.values() for word in pair}

settings = sa.table(
    'site_settings',
    sa.column('id', sa.Integer), sa.column('unit_name', sa.String),
    sa.column('about', sa.Text), sa.column('default_language', sa.String),
    *[sa.column(f'unit_singular_{lang}', sa.String) for lang in LANGUAGES],
    *[sa.column(f'unit_plural_{lang}', sa.String) for lang in LANGUAGES],
    *[sa.column(f'about_{lang}', sa.Text) for lang in LANGUAGES],
)


def _texts(unit: str, about: str, default: str) -> dict[str, str]:
    default = default if default in LANGUAGES else 'nl'
    unit = (unit or '').strip()
    values = {f'{kind}_{lang}': '' for kind in ('unit_singular', 'unit_plural', 'about')
              for lang in LANGUAGES}
    if unit.lower() in HOUR_WORDS:
        for lang, (one, many) in HOURS.items():
            values[f'unit_singular_{lang}'], values[f'unit_plural_{lang}'] = one, many
    else:
        values[f'unit_singular_{default}'] = unit
        values[f'unit_plural_{default}'] = unit
    values[f'about_{default}'] = about or ''
    return values


def upgrade():
    with op.batch_alter_table('site_settings', schema=None) as batch_op:
        for lang in LANGUAGES:
            batch_op.add_column(sa.Column(f'unit_singular_{lang}', sa.String(length=40),
                                          nullable=False, server_default=''))
            batch_op.add_column(sa.Column(f'unit_plural_{lang}', sa.String(length=40),
                                          nullable=False, server_default=''))
        for lang in LANGUAGES:
            batch_op.add_column(sa.Column(f'about_{lang}', sa.Text(), nullable=False,
                                          server_default=''))
    conn = op.get_bind()
    rows = conn.execute(sa.select(settings.c.id, settings.c.unit_name, settings.c.about,
                                  settings.c.default_language)).all()
    for row in rows:
        conn.execute(settings.update().where(settings.c.id == row.id)
                     .values(**_texts(row.unit_name, row.about, row.default_language)))
    with op.batch_alter_table('site_settings', schema=None) as batch_op:
        batch_op.drop_column('unit_name')
        batch_op.drop_column('about')


def downgrade():
    with op.batch_alter_table('site_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_name', sa.String(length=40), nullable=False,
                                      server_default='uur'))
        batch_op.add_column(sa.Column('about', sa.Text(), nullable=False, server_default=''))
    conn = op.get_bind()
    rows = conn.execute(sa.select(settings)).mappings().all()
    for row in rows:
        lang = row['default_language'] if row['default_language'] in LANGUAGES else 'nl'
        conn.execute(settings.update().where(settings.c.id == row['id']).values(
            unit_name=row[f'unit_singular_{lang}'] or 'uur', about=row[f'about_{lang}']))
    with op.batch_alter_table('site_settings', schema=None) as batch_op:
        for lang in LANGUAGES:
            batch_op.drop_column(f'about_{lang}')
        for lang in reversed(LANGUAGES):
            batch_op.drop_column(f'unit_plural_{lang}')
            batch_op.drop_column(f'unit_singular_{lang}')
