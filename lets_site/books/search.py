"""Full-text search over books, on the shared machinery of ``lets_site/search.py``
(SQLite FTS5 or PostgreSQL text search), ranked: a word in the title (or the ISBN-13)
counts more than one in the authors, which counts more than one in the note.

The services keep three columns of the ``book`` row in lower case without accents
(``normalise_text``): ``search_text`` (title and ISBN-13), ``search_authors`` and
``search_note``. The index objects are named ``book_fts`` (the FTS5 table, its triggers
and its ranking on SQLite) and ``book_fts_vector`` / ``ix_book_fts`` (the weighted
generated column and its index on PostgreSQL); the same statements run from the
migration ``0014_book_swaps`` and from ``db.create_all()``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from lets_site.books.models import Book
from lets_site.search import FullText, normalise_text

COLUMNS = ("search_text", "search_authors", "search_note")
# SQLite's bm25 weights; PostgreSQL weighs the columns A, B, C (ts_rank: 1.0, 0.4, 0.2).
WEIGHTS = (10.0, 3.0, 1.0)
INDEX = FullText("book_fts", "book", columns=COLUMNS, weights=WEIGHTS)
INDEX.bind(Book.__table__)  # type: ignore[arg-type]


def fill(book: Book) -> None:
    """Write the book's searchable columns from its title, ISBN, authors and note."""
    book.search_text = normalise_text("\n".join(p for p in (book.title, book.isbn) if p))
    book.search_authors = normalise_text(book.authors or "")
    book.search_note = normalise_text(book.note or "")


def apply(stmt: Select[Any], query: str, dialect: str) -> Select[Any]:
    """Restrict ``stmt`` (a select of Book) to books with every word of the query (as a
    prefix), best match first."""
    return INDEX.apply(stmt, query, dialect, Book.id)
