"""Book swaps at events (book_at_event) and the books' ranked full-text search (the
title, authors and note columns folded for search, and the book_fts index)

Revision ID: 0014_book_swaps
Revises: 0013_logos_covers
Create Date: 2026-12-03 12:00:00.000000

"""
import unicodedata

from alembic import op
import sqlalchemy as sa

import lets_site.database


# revision identifiers, used by Alembic.
revision = '0014_book_swaps'
down_revision = '0013_logos_covers'
branch_labels = None
depends_on = None

# Full-text search, written out here (not imported) so this migration never changes; the
# same statements are made by lets_site/books/search.py for db.create_all().
COLUMNS = "search_text, search_authors, search_note"
NEW = "new.search_text, new.search_authors, new.search_note"
OLD = "old.search_text, old.search_authors, old.search_note"
SQLITE_INSTALL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS book_fts USING fts5({COLUMNS}, content='book', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO book_fts(book_fts, rank) VALUES ('rank', 'bm25(10, 3, 1)')",
    f"CREATE TRIGGER IF NOT EXISTS book_fts_ai AFTER INSERT ON book BEGIN "
    f"INSERT INTO book_fts(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END",
    f"CREATE TRIGGER IF NOT EXISTS book_fts_ad AFTER DELETE ON book BEGIN "
    f"INSERT INTO book_fts(book_fts, rowid, {COLUMNS}) VALUES ('delete', old.id, {OLD}); END",
    f"CREATE TRIGGER IF NOT EXISTS book_fts_au AFTER UPDATE OF {COLUMNS} ON book "
    f"BEGIN INSERT INTO book_fts(book_fts, rowid, {COLUMNS}) VALUES ('delete', old.id, {OLD}); "
    f"INSERT INTO book_fts(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END",
    "INSERT INTO book_fts(book_fts) VALUES ('rebuild')",
)
SQLITE_UNINSTALL = ("DROP TRIGGER IF EXISTS book_fts_ai", "DROP TRIGGER IF EXISTS book_fts_ad",
                    "DROP TRIGGER IF EXISTS book_fts_au", "DROP TABLE IF EXISTS book_fts")
PG_INSTALL = (
    "ALTER TABLE book ADD COLUMN IF NOT EXISTS book_fts_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', search_text), 'A') || "
    "setweight(to_tsvector('simple', search_authors), 'B') || "
    "setweight(to_tsvector('simple', search_note), 'C')) STORED",
    "CREATE INDEX IF NOT EXISTS ix_book_fts ON book USING gin (book_fts_vector)",
)
PG_UNINSTALL = ("DROP INDEX IF EXISTS ix_book_fts",
                "ALTER TABLE book DROP COLUMN IF EXISTS book_fts_vector")

book = sa.table('book', sa.column('id', sa.Integer), sa.column('title', sa.String),
                sa.column('isbn', sa.String), sa.column('authors', sa.String),
                sa.column('note', sa.Text), sa.column('search_text', sa.Text),
                sa.column('search_authors', sa.Text), sa.column('search_note', sa.Text))


def _fold(value):
    decomposed = unicodedata.normalize("NFKD", (value or "").casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _run(statements):
    conn = op.get_bind()
    for statement in statements:
        conn.exec_driver_sql(statement)


def upgrade():
    op.add_column('book', sa.Column('search_authors', sa.Text(), nullable=False,
                                    server_default=''))
    op.add_column('book', sa.Column('search_note', sa.Text(), nullable=False,
                                    server_default=''))
    conn = op.get_bind()
    rows = conn.execute(sa.select(book.c.id, book.c.title, book.c.isbn, book.c.authors,
                                  book.c.note)).all()
    for row in rows:
        conn.execute(book.update().where(book.c.id == row.id).values(
            search_text=_fold("\n".join(p for p in (row.title, row.isbn) if p)),
            search_authors=_fold(row.authors), search_note=_fold(row.note)))
    op.create_table(
        'book_at_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('book_id', sa.Integer(), nullable=False),
        sa.Column('event_urn', sa.String(length=45), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=True),
        sa.Column('added_at', lets_site.database.UTCDateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=8), nullable=True),
        sa.Column('receiver_id', sa.Integer(), nullable=True),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', lets_site.database.UTCDateTime(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['added_by_id'], ['member.id'],
                                name=op.f('fk_book_at_event_added_by_id_member'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['book_id'], ['book.id'],
                                name=op.f('fk_book_at_event_book_id_book'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['receiver_id'], ['member.id'],
                                name=op.f('fk_book_at_event_receiver_id_member'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['member.id'],
                                name=op.f('fk_book_at_event_recorded_by_id_member'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['request_id'], ['book_request.id'],
                                name=op.f('fk_book_at_event_request_id_book_request'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_book_at_event')),
        sa.UniqueConstraint('book_id', 'event_urn', name='uq_book_at_event_book_event'),
    )
    op.create_index('ix_book_at_event_event', 'book_at_event', ['event_urn'], unique=False)
    sqlite = conn.dialect.name == "sqlite"
    _run(SQLITE_INSTALL if sqlite else PG_INSTALL)


def downgrade():
    conn = op.get_bind()
    _run(SQLITE_UNINSTALL if conn.dialect.name == "sqlite" else PG_UNINSTALL)
    op.drop_index('ix_book_at_event_event', table_name='book_at_event')
    op.drop_table('book_at_event')
    with op.batch_alter_table('book') as batch_op:
        batch_op.drop_column('search_note')
        batch_op.drop_column('search_authors')
    # 0011's column: title, authors and ISBN together.
    rows = conn.execute(sa.select(book.c.id, book.c.title, book.c.isbn, book.c.authors)).all()
    for row in rows:
        conn.execute(book.update().where(book.c.id == row.id).values(
            search_text=_fold("\n".join(p for p in (row.title, row.authors, row.isbn) if p))))
