"""Full-text search over listings: SQLite FTS5 or PostgreSQL text search.

Both search the ``listing.search_text`` column, which the services fill with the title,
description and category names in lower case without accents (``normalise_text``), so
"cafe" finds "Café" on both databases.

The search objects are made by raw DDL, not by models: the same statements run from the
migration (``0003_offers``) and from ``db.create_all()`` (an ``after_create`` event on the
listing table), so both give the same schema. Autogenerate leaves names starting with
``listing_fts`` / ``ix_listing_fts`` out (tables, triggers, the PostgreSQL column and
index; ``register_unmanaged``, used by the ``include_object`` hook in
``lets_site/database.py``).

SQLite: an external-content FTS5 table ``listing_fts`` kept in step by three triggers.
Note for later migrations: a batch ("move and copy") migration of ``listing`` on SQLite
recreates the table and drops its triggers; run :func:`install` again afterwards.

PostgreSQL: a stored generated column ``listing_fts_vector`` =
``to_tsvector('simple', search_text)`` (not in the model: the ORM never writes it) with a
GIN index ``ix_listing_fts``; ranking reads the stored vector instead of parsing every
matching text again (at 100,000 listings that made common-word searches several times
faster than an index on the expression).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, column, event, func, literal_column, table, text
from sqlalchemy.engine import Connection

from lets_site.database import register_unmanaged
from lets_site.offers.models import Listing, normalise_text

MAX_TERMS = 8

register_unmanaged("listing_fts", "ix_listing_fts")

SQLITE_INSTALL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS listing_fts USING fts5("
    "search_text, content='listing', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS listing_fts_ai AFTER INSERT ON listing BEGIN "
    "INSERT INTO listing_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS listing_fts_ad AFTER DELETE ON listing BEGIN "
    "INSERT INTO listing_fts(listing_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS listing_fts_au AFTER UPDATE OF search_text ON listing "
    "BEGIN INSERT INTO listing_fts(listing_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO listing_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    # Index rows that existed before the table (a no-op on an empty table).
    "INSERT INTO listing_fts(listing_fts) VALUES ('rebuild')",
)
SQLITE_UNINSTALL = (
    "DROP TRIGGER IF EXISTS listing_fts_ai",
    "DROP TRIGGER IF EXISTS listing_fts_ad",
    "DROP TRIGGER IF EXISTS listing_fts_au",
    "DROP TABLE IF EXISTS listing_fts",
)
PG_INSTALL = (
    "ALTER TABLE listing ADD COLUMN IF NOT EXISTS listing_fts_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED",
    "CREATE INDEX IF NOT EXISTS ix_listing_fts ON listing USING gin (listing_fts_vector)",
)
PG_UNINSTALL = (
    "DROP INDEX IF EXISTS ix_listing_fts",
    "ALTER TABLE listing DROP COLUMN IF EXISTS listing_fts_vector",
)


def install(connection: Connection) -> None:
    statements = SQLITE_INSTALL if connection.dialect.name == "sqlite" else PG_INSTALL
    for statement in statements:
        connection.exec_driver_sql(statement)


def uninstall(connection: Connection) -> None:
    statements = SQLITE_UNINSTALL if connection.dialect.name == "sqlite" else PG_UNINSTALL
    for statement in statements:
        connection.exec_driver_sql(statement)


@event.listens_for(Listing.__table__, "after_create")
def _after_create(target: Any, connection: Connection, **kw: Any) -> None:
    install(connection)


@event.listens_for(Listing.__table__, "before_drop")
def _before_drop(target: Any, connection: Connection, **kw: Any) -> None:
    uninstall(connection)


def terms(query: str) -> list[str]:
    """The words of a search, normalised; punctuation and operators are dropped."""
    return re.findall(r"\w+", normalise_text(query))[:MAX_TERMS]


def apply(stmt: Select[Any], query: str, dialect: str, ranked: bool = True) -> Select[Any]:
    """Restrict ``stmt`` (a select of Listing) to matches of every word (as a prefix),
    best match first when ``ranked``.

    On SQLite the order is FTS5's ``rank`` alone: with nothing after it, SQLite lets FTS5
    sort the matches itself, several times faster than a sort on (rank, date) at 100,000
    listings. Equal ranks may then come in any order."""
    words = terms(query)
    if not words:
        return stmt
    if dialect == "sqlite":
        match = " ".join(f'"{w}"*' for w in words)
        fts = table("listing_fts", column("rowid"), column("rank"))
        stmt = stmt.join(fts, fts.c.rowid == Listing.id).where(
            text("listing_fts MATCH :fts_query").bindparams(fts_query=match))
        return stmt.order_by(fts.c.rank) if ranked else stmt
    tsquery = func.to_tsquery(literal_column("'simple'"), " & ".join(f"{w}:*" for w in words))
    vector = literal_column("listing.listing_fts_vector")
    stmt = stmt.where(vector.op("@@")(tsquery))
    if ranked:
        stmt = stmt.order_by(func.ts_rank(vector, tsquery).desc(), Listing.id.desc())
    return stmt


def like_scan(stmt: Select[Any], query: str) -> Select[Any]:
    """The naive alternative, for the benchmark: LIKE over the same column."""
    for word in terms(query):
        stmt = stmt.where(Listing.search_text.like(f"%{word}%"))
    return stmt
