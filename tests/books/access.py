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
            "swap": _swap(people),
        }
    return people["_books"]


def _swap(people: dict[str, Any]) -> str:
    """A book swap that began yesterday, organised by the admin with the intermediary as
    co-organiser (the organisers who may record it), with the member's book brought."""
    from lets_site.books.models import BookAtEvent
    from lets_site.extensions import db
    from tests.books.helpers import make_book
    from tests.events.conftest import make_event

    event = make_event(people["admin"], days=-1, kind="book_swap", title="Boekenruil",
                       host_codes=(people["intermediary"].account_code,))
    book = make_book(people["member"], "Het verdriet van België")
    db.session.add(BookAtEvent(book_id=book.id, event_urn=event.urn, added_at=event.created_at))
    db.session.commit()
    return event.urn


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
        "/books/swaps/{swap}/record": {A: LOGIN, M: 403, I: 200, AD: 200, O: 403},
        "/books/swaps/urn:uuid:00000000-0000-0000-0000-000000000000/record":
            {A: LOGIN, M: 404, I: 404, AD: 404, O: 404},
    },
    post_only={
        "/books/<int:book_id>/shelve",
        "/books/<int:book_id>/offer",
        "/books/requests/<int:request_id>/accept",
        "/books/requests/<int:request_id>/decline",
        "/books/requests/<int:request_id>/cancel",
        "/books/requests/<int:request_id>/return",
        "/books/swaps/bring",
        "/books/swaps/take-back",
    },
    rules={
        "/books/<int:book_id>": "/books/{book}",
        "/books/<int:book_id>/edit": "/books/{book}/edit",
        "/books/covers/<name>": "/books/covers/{cover}",
        "/books/requests/<int:request_id>/hand-over": "/books/requests/{book_request}/hand-over",
        "/books/swaps/<urn>/record": "/books/swaps/{swap}/record",
    },
    values=_values,
)
