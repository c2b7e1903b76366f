"""Book covers: the shared image pipeline (lets_site/photos.py) with the books' folder,
``instance/uploads/books``; a cover is shown only to who may see a book with it."""

from __future__ import annotations

from typing import IO

from sqlalchemy import select

from lets_site.books.models import Book
from lets_site.extensions import db
from lets_site.members.models import Member
from lets_site.photos import MEMBERS, PUBLIC, PhotoStore

COVERS = PhotoStore("books", field="cover")


def apply(book: Book, upload: IO[bytes] | None, remove: bool) -> None:
    """Remove the cover, or store a new one (a refused file raises DomainError on the
    "cover" field before anything of the book changes in the database)."""
    if remove:
        book.cover_key = book.cover_width = book.cover_height = None
        book.cover_thumb_width = book.cover_thumb_height = None
    if upload is not None:
        stored = COVERS.store(upload)
        book.cover_key = stored.key
        book.cover_width, book.cover_height = stored.width, stored.height
        book.cover_thumb_width, book.cover_thumb_height = stored.thumb_width, stored.thumb_height


def audience(key: str, viewer: Member | None) -> str | None:
    """``PUBLIC`` when a book anyone may see has this cover, ``MEMBERS`` when only books
    this viewer may see do, None otherwise (a members-only book's cover is a 404 for
    visitors, like a members-only listing's photo)."""
    books = db.session.scalars(select(Book).where(Book.cover_key == key)).all()
    if any(book.can_view(None) for book in books):
        return PUBLIC
    return MEMBERS if any(book.can_view(viewer) for book in books) else None
