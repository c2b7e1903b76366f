from __future__ import annotations

from typing import Any

from tests.access import AD, LOGIN, MEMBERS_ONLY, A, I, M, O, Table, everyone


def _values(people: dict[str, Any]) -> dict[str, Any]:
    """A public book of the member, a members-only one, one of the organisation, and an
    accepted request of the other organisation's intermediary for the member's book."""
    if "_books" not in people:
        import io

        from lets_site.books.models import Visibility
        from lets_site.photos import file_name
        from tests.books.helpers import accepted, make_book
        from tests.uploads import png

        book = make_book(people["member"], "Het smelt", cover=io.BytesIO(png()))
        members_book = make_book(people["member"], "Kaas", visibility=Visibility.MEMBERS,
                                 cover=io.BytesIO(png((0, 90, 0))))
        people["_books"] = {
            "book": book.id,
            "cover": file_name(book.cover_key or "", thumb=True),
            "members_book": members_book.id,
            "members_cover": file_name(members_book.cover_key or ""),
            "org_book": make_book(people["org"], "Pallieter").id,
            "book_request": accepted(book, people["other_org_member"], people["member"]).id,
        }
    return people["_books"]


TABLE = Table(
    routes={
        "/books/": everyone(200),
        "/books/mine": MEMBERS_ONLY,
        "/books/new": MEMBERS_ONLY,
        "/books/import": MEMBERS_ONLY,
        "/books/{book}": everyone(200),
        "/books/{members_book}": {A: LOGIN, M: 200, I: 200, AD: 200, O: 200},
        "/books/covers/{cover}": everyone(200),
        # A members-only book's cover: a visitor is not told it exists.
        "/books/covers/{members_cover}": {A: 404, M: 200, I: 200, AD: 200, O: 200},
        "/books/{book}/edit": {A: LOGIN, M: 200, I: 403, AD: 200, O: 403},
        "/books/{org_book}/edit": {A: LOGIN, M: 403, I: 200, AD: 200, O: 403},
        "/books/requests/{book_request}/hand-over": {A: LOGIN, M: 200, I: 403, AD: 200,
                                                     O: 200},
    },
    post_only={
        "/books/<int:book_id>/shelve",
        "/books/<int:book_id>/offer",
        "/books/requests/<int:request_id>/accept",
        "/books/requests/<int:request_id>/decline",
        "/books/requests/<int:request_id>/cancel",
        "/books/requests/<int:request_id>/return",
    },
    rules={
        "/books/<int:book_id>": "/books/{book}",
        "/books/<int:book_id>/edit": "/books/{book}/edit",
        "/books/covers/<name>": "/books/covers/{cover}",
        "/books/requests/<int:request_id>/hand-over": "/books/requests/{book_request}/hand-over",
    },
    values=_values,
)
