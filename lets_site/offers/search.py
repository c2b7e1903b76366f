"""Full-text search over listings, on the shared machinery of ``lets_site/search.py``
(SQLite FTS5 or PostgreSQL text search).

The index searches the ``listing.search_text`` column, which the services fill with the
title, description and category names in lower case without accents
(``normalise_text``), so "cafe" finds "Café" on both databases. Its objects are named
``listing_fts`` (the FTS5 table and its triggers on SQLite) and ``listing_fts_vector`` /
``ix_listing_fts`` (the generated column and its index on PostgreSQL); the same statements
run from the migration ``0003_offers`` and from ``db.create_all()``.

PostgreSQL: at 100,000 listings, ranking on the stored vector made common-word searches
several times faster than an index on the expression.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection

from lets_site.offers.models import Listing
from lets_site.search import MAX_TERMS, FullText, terms

__all__ = ["INDEX", "MAX_TERMS", "apply", "install", "like_scan", "terms", "uninstall"]

INDEX = FullText("listing_fts", "listing")
INDEX.bind(Listing.__table__)  # type: ignore[arg-type]

SQLITE_INSTALL = INDEX.sqlite_install()
SQLITE_UNINSTALL = INDEX.sqlite_uninstall()
PG_INSTALL = INDEX.pg_install()
PG_UNINSTALL = INDEX.pg_uninstall()


def install(connection: Connection) -> None:
    INDEX.install(connection)


def uninstall(connection: Connection) -> None:
    INDEX.uninstall(connection)


def apply(stmt: Select[Any], query: str, dialect: str, ranked: bool = True) -> Select[Any]:
    """Restrict ``stmt`` (a select of Listing) to matches of every word (as a prefix),
    best match first when ``ranked`` (see ``FullText.apply``)."""
    return INDEX.apply(stmt, query, dialect, Listing.id, ranked)


def like_scan(stmt: Select[Any], query: str) -> Select[Any]:
    """The naive alternative, for the benchmark: LIKE over the same column."""
    for word in terms(query):
        stmt = stmt.where(Listing.search_text.like(f"%{word}%"))
    return stmt
