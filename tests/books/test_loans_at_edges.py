"""Book loans at their edges, second part: what the full mutation run of books-loans found
untested (docs/testing.md, "Mutation testing"). The acceptance announced with who said
yes, a hand-over recorded for the receiver (a swap event's organiser) refusing a priced
book, requests of the same second in the order they came in, and the rules of opening a
request (the swap events' way in, without the owner's mail)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select

from lets_site import signals
from lets_site.books import services
from lets_site.books.models import Book, BookRequest, BookState, Mode, RequestState
from lets_site.database import utcnow
from lets_site.domain import DomainError
from lets_site.extensions import db
from lets_site.ledger.models import Transfer
from tests.books.helpers import accepted, make_book, make_request


def _transfers() -> int:
    return db.session.scalar(select(func.count(Transfer.id))) or 0


def test_an_acceptance_is_announced_with_who_said_yes(people: dict[str, Any]) -> None:
    owner, admin = people["member"], people["admin"]
    heard: list[tuple[Any, Any]] = []

    def listener(sender: Any, **extra: Any) -> None:
        heard.append((sender, extra.get("actor")))

    first = make_request(make_book(owner, "Eerste"), people["intermediary"])
    second = make_request(make_book(owner, "Tweede"), people["intermediary"])
    signals.book_accepted.connect(listener)
    try:
        services.accept(owner, first)
        services.accept(admin, second)  # an admin answering for the owner
    finally:
        signals.book_accepted.disconnect(listener)
    assert heard == [(first, owner), (second, admin)]


def test_a_hand_over_not_confirmed_by_the_receiver_refuses_a_priced_book(
        people: dict[str, Any]) -> None:
    """The swap events' record hands a book over for its receiver; a priced book waits for
    the receiver to confirm and pay, so the bare hand-over refuses it and books nothing."""
    owner, receiver = people["member"], people["intermediary"]
    priced = make_book(owner, "Met prijs", price=Decimal(3))
    req = accepted(priced, receiver, owner)
    with pytest.raises(DomainError, match="has a price"):
        services.hand_over_request(req)
    assert (req.state, priced.state, _transfers()) == (
        RequestState.ACCEPTED, BookState.AVAILABLE, 0)
    # Without to_shelf the given book joins no shelf.
    free = make_book(owner, "Gratis")
    services.hand_over_request(accepted(free, receiver, owner))
    assert free.state == BookState.CLOSED
    assert db.session.scalar(select(func.count()).select_from(Book).where(
        Book.owner_member_id == receiver.id)) == 0
    # Confirmed by the receiver, the price is paid with it.
    services.hand_over_request(req, receiver_confirms=True)
    assert (req.state, _transfers()) == (RequestState.HANDED_OVER, 1)


def test_requests_of_the_same_second_are_listed_in_the_order_they_came_in(
        people: dict[str, Any]) -> None:
    """Ties on the time are broken by the request's number, also after the owner answered
    some of them. On PostgreSQL an answered request's row is written anew at the end of its
    table, so without that the answered ones would come last; SQLite hands ties back in
    number order either way."""
    owner = people["member"]
    book = make_book(owner)
    askers = (people["intermediary"], people["other_org_member"], people["admin"])
    reqs = [make_request(book, asker) for asker in askers]
    moment = utcnow().replace(microsecond=0)
    for req in reqs:
        req.created_at = moment
    db.session.flush()
    services.accept(owner, reqs[1])  # answered: the second, then the first
    services.decline(owner, reqs[0])
    db.session.commit()
    db.session.expire_all()
    assert [r.id for r in services.requests_for(book, owner)] == [r.id for r in reqs]
    assert [r.id for r in services.requests_for(book, people["admin"])] == [r.id for r in reqs]


# --- Opening a request (open_request: request_book and the swap events) -------------------------


def test_opening_a_request_needs_an_offered_book(people: dict[str, Any]) -> None:
    owner, asker = people["member"], people["intermediary"]
    lent = make_book(owner, "Uitgeleend", mode=Mode.LEND)
    services.hand_over(owner, accepted(lent, people["other_org_member"], owner))
    assert lent.state == BookState.ON_LOAN
    req = services.open_request(lent, asker, "Na jou")
    assert (req.state, req.book_id, req.requester_id, req.message) == (
        RequestState.OPEN, lent.id, asker.id, "Na jou")
    assert req.open_key == f"{lent.id}-{asker.id}" and req.busy_book is None
    assert req.book is lent and req.requester is asker
    kept = make_book(owner, "Bewaard")
    services.shelve(owner, kept)
    given = make_book(owner, "Gegeven")
    services.hand_over(owner, accepted(given, people["other_org_member"], owner))
    for book in (kept, given):
        with pytest.raises(DomainError, match="no longer offered"):
            services.open_request(book, asker, "")
    assert db.session.scalar(select(func.count(BookRequest.id)).where(
        BookRequest.requester_id == asker.id)) == 1


def test_one_open_request_per_member_per_book_others_may_queue(people: dict[str, Any]) -> None:
    owner, asker = people["member"], people["intermediary"]
    book = make_book(owner)
    other_book = make_book(owner, "Ander boek")
    first = services.open_request(book, asker, "")
    with pytest.raises(DomainError, match="asked for this book already"):
        services.open_request(book, asker, "Nog eens")
    # The same member may ask for another book, another member for this one.
    assert services.open_request(other_book, asker, "").state == RequestState.OPEN
    assert services.open_request(book, people["other_org_member"], "").state == \
        RequestState.OPEN
    # Once the first request is withdrawn the member may ask again.
    services.cancel(asker, first)
    assert services.open_request(book, asker, "Toch wel").state == RequestState.OPEN


def test_my_books_page_lists_requests_of_the_same_second_in_the_order_they_came_in(
        people: dict[str, Any]) -> None:
    """The incoming requests on my books page, as on the book's page: accepting one of
    several requests of the same second does not move it to the end of the list (on
    PostgreSQL the accepted request's row is written anew at the end of its table)."""
    owner = people["member"]
    book = make_book(owner)
    askers = (people["intermediary"], people["other_org_member"], people["admin"])
    reqs = [make_request(book, asker) for asker in askers]
    moment = utcnow().replace(microsecond=0)
    for req in reqs:
        req.created_at = moment
    db.session.flush()
    services.accept(owner, reqs[0])
    db.session.commit()
    db.session.expire_all()
    assert [r.id for r in services.mine(owner).incoming] == [r.id for r in reqs]


def test_a_request_another_browser_stored_meanwhile_is_refused_with_the_same_words(
        people: dict[str, Any]) -> None:
    """Two requests of one member for one book at once: both find no open request, the
    other one is stored first (here: just before this one's flush), and the UNIQUE key
    refuses this one with the words of the ordinary refusal (tests/books/test_concurrency.py
    does it with real browsers, where which path is taken depends on timing)."""
    book = make_book(people["member"])
    asker = people["intermediary"]

    stored: list[bool] = []

    def other_browser(session: Any, _context: Any, _instances: Any) -> None:
        if stored:
            return
        stored.append(True)
        session.connection().execute(insert(BookRequest).values(
            book_id=book.id, requester_id=asker.id, message="", state=RequestState.OPEN,
            open_key=f"{book.id}-{asker.id}", created_at=utcnow()))

    event.listen(db.session, "before_flush", other_browser)
    try:
        with pytest.raises(DomainError, match="asked for this book already") as error:
            services.open_request(book, asker, "Graag")
    finally:
        event.remove(db.session, "before_flush", other_browser)
    assert stored and error.value.field is None
