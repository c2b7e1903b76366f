from __future__ import annotations

from typing import Any

from tests.access import AD, LOGIN, MEMBERS_ONLY, A, I, M, O, Table, everyone


def _values(people: dict[str, Any]) -> dict[str, Any]:
    """A public book of the member, a members-only one, one of the organisation, and an
    accepted request of the other organisation's intermediary for the member's book."""
    if "_books" not in people:
        from lets_site.books.models import Visibility
        from tests.books.helpers import accepted, make_book

        book = make_book(people["member"], "Het smelt")
        people["_books"] = {
            "book": book.id,
            "members_book": make_book(people["member"], "Kaas",
                                      visibility=Visibility.MEMBERS).id,
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
        "/books/requests/<int:request_id>/hand-over": "/books/requests/{book_request}/hand-over",
    },
    values=_values,
)
