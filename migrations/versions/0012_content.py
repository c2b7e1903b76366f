"""Content: pages (texts per language, revisions), news, documents, content editors; the
settings' "about" texts copied into an "about us" page

Revision ID: 0012_content
Revises: 0008_category_words
Create Date: 2026-12-03 09:10:00.000000

"""
import json
import unicodedata
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import lets_site.database


# revision identifiers, used by Alembic.
revision = '0012_content'
down_revision = '0011_books'
branch_labels = None
depends_on = None

ABOUT_TITLES = {"nl": "Over ons", "fr": "À propos de nous", "en": "About us"}


def upgrade():
    op.create_table('content_editor',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('granted_at', lets_site.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_content_editor_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_content_editor'))
    )
    op.create_table('content_page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('placement', sa.String(length=16), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', lets_site.database.UTCDateTime(), nullable=False),
    sa.Column('updated_at', lets_site.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['content_page.id'], name=op.f('fk_content_page_parent_id_content_page')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_page')),
    sa.UniqueConstraint('slug', name=op.f('uq_content_page_slug'))
    )
    op.create_table('content_page_text',
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['content_page.id'], name=op.f('fk_content_page_text_page_id_content_page'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('page_id', 'lang', name=op.f('pk_content_page_text'))
    )
    op.create_table('content_page_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lets_site.database.UTCDateTime(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('texts_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['member.id'], name=op.f('fk_content_page_revision_author_id_member'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['page_id'], ['content_page.id'], name=op.f('fk_content_page_revision_page_id_content_page')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_page_revision'))
    )
    op.create_index(op.f('ix_content_page_revision_page_id'), 'content_page_revision', ['page_id'], unique=False)
    op.create_table('content_news',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('news_date', sa.Date(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lets_site.database.UTCDateTime(), nullable=False),
    sa.Column('updated_at', lets_site.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['member.id'], name=op.f('fk_content_news_author_id_member'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_news'))
    )
    op.create_table('content_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('folder', sa.String(length=80), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lets_site.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['uploader_id'], ['member.id'], name=op.f('fk_content_document_uploader_id_member'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_document')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_content_document_stored_name'))
    )
    _about_page()
    for name, table in SEARCH:
        for statement in _search_ddl(name, table, op.get_bind().dialect.name):
            op.execute(statement)


# Full-text search, written out here (not imported) so this migration never changes; the
# same statements come from lets_site/search.py (FullText) for db.create_all().
SEARCH = (("content_page_fts", "content_page"), ("content_news_fts", "content_news"),
          ("content_document_fts", "content_document"))


def _search_ddl(n, t, dialect):
    if dialect == "sqlite":
        return (
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {n} USING fts5("
            f"search_text, content='{t}', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')",
            f"CREATE TRIGGER IF NOT EXISTS {n}_ai AFTER INSERT ON {t} BEGIN "
            f"INSERT INTO {n}(rowid, search_text) VALUES (new.id, new.search_text); END",
            f"CREATE TRIGGER IF NOT EXISTS {n}_ad AFTER DELETE ON {t} BEGIN "
            f"INSERT INTO {n}({n}, rowid, search_text) "
            f"VALUES ('delete', old.id, old.search_text); END",
            f"CREATE TRIGGER IF NOT EXISTS {n}_au AFTER UPDATE OF search_text ON {t} "
            f"BEGIN INSERT INTO {n}({n}, rowid, search_text) "
            f"VALUES ('delete', old.id, old.search_text); "
            f"INSERT INTO {n}(rowid, search_text) VALUES (new.id, new.search_text); END",
            f"INSERT INTO {n}({n}) VALUES ('rebuild')",
        )
    return (
        f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {n}_vector tsvector "
        f"GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED",
        f"CREATE INDEX IF NOT EXISTS ix_{n} ON {t} USING gin ({n}_vector)",
    )


def _search_drop(n, t, dialect):
    if dialect == "sqlite":
        return (f"DROP TRIGGER IF EXISTS {n}_ai", f"DROP TRIGGER IF EXISTS {n}_ad",
                f"DROP TRIGGER IF EXISTS {n}_au", f"DROP TABLE IF EXISTS {n}")
    return (f"DROP INDEX IF EXISTS ix_{n}", f"ALTER TABLE {t} DROP COLUMN IF EXISTS {n}_vector")


def _fold(value):
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _about_page():
    """The group's "about" texts (settings) become the "about us" page, published, in the
    footer. The settings keep them: the home page still shows them."""
    bind = op.get_bind()
    row = bind.execute(sa.text(
        "SELECT about_nl, about_fr, about_en FROM site_settings ORDER BY id LIMIT 1")).first()
    if row is None:
        return
    texts = {lang: (ABOUT_TITLES[lang], (body or "").strip())
             for lang, body in zip(("nl", "fr", "en"), row) if (body or "").strip()}
    if not texts:
        return
    if "nl" not in texts:  # a title in every language the text is in, and in Dutch
        texts["nl"] = (ABOUT_TITLES["nl"], "")
    now = datetime.now(timezone.utc)
    page = sa.table('content_page', sa.column('id', sa.Integer), sa.column('slug'),
                    sa.column('parent_id'), sa.column('position'), sa.column('state'),
                    sa.column('visibility'), sa.column('placement'),
                    sa.column('deleted', sa.Boolean), sa.column('search_text'),
                    sa.column('created_at', lets_site.database.UTCDateTime()),
                    sa.column('updated_at', lets_site.database.UTCDateTime()))
    bind.execute(page.insert().values(slug='about-us', parent_id=None, position=0,
                                      state='published', visibility='public',
                                      placement='footer', deleted=False,
                                      search_text=_fold("\n".join(
                                          f"{title}\n{body}"
                                          for title, body in texts.values())),
                                      created_at=now, updated_at=now))
    page_id = bind.execute(sa.text("SELECT id FROM content_page WHERE slug = 'about-us'")
                           ).scalar_one()
    text = sa.table('content_page_text', sa.column('page_id'), sa.column('lang'),
                    sa.column('title'), sa.column('body'))
    bind.execute(text.insert(), [{"page_id": page_id, "lang": lang, "title": title,
                                  "body": body} for lang, (title, body) in texts.items()])
    revision = sa.table('content_page_revision', sa.column('page_id'), sa.column('number'),
                        sa.column('author_id'),
                        sa.column('created_at', lets_site.database.UTCDateTime()),
                        sa.column('note'), sa.column('texts_json'))
    snapshot = {lang: {"title": title, "body": body} for lang, (title, body) in texts.items()}
    bind.execute(revision.insert().values(
        page_id=page_id, number=1, author_id=None, created_at=now,
        note="copied from the settings' about text",
        texts_json=json.dumps(snapshot, ensure_ascii=False, sort_keys=True)))


def downgrade():
    for name, table in SEARCH:
        for statement in _search_drop(name, table, op.get_bind().dialect.name):
            op.execute(statement)
    op.drop_table('content_document')
    op.drop_table('content_news')
    op.drop_index(op.f('ix_content_page_revision_page_id'), table_name='content_page_revision')
    op.drop_table('content_page_revision')
    op.drop_table('content_page_text')
    op.drop_table('content_page')
    op.drop_table('content_editor')
