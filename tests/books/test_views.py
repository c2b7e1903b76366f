"""The book pages through HTTP: a member lists, requests, lends and gets back a book;
another is given away with a price booked once; bad input gets a clear message."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from lets_site.books import services
from lets_site.books.models import Book, BookRequest, BookState, Mode, RequestState
from lets_site.extensions import db
from lets_site.ledger.models import Transfer
from tests.books.helpers import accepted, make_book, make_request
from tests.html import main_text

HX = {"HX-Request": "true"}


def _pair(make_member: Any) -> tuple[Any, Any]:
    return (make_member(display_name="Olga Owner", locale="en"),
            make_member(display_name="Rik Reader", locale="en"))


def _book_form(**overrides: str) -> dict[str, str]:
    data = {"owner": "", "title": "De avonden", "authors": "Gerard Reve",
            "isbn": "978-0-306-40615-7", "language": "nl", "genre": "novel",
            "condition": "good", "mode": "give", "price": "", "visibility": "public",
            "note": ""}
    data.update(overrides)
    return data


def test_add_a_book_with_a_hyphenated_isbn(client: Any, auth: Any, make_member: Any) -> None:
    owner, _reader = _pair(make_member)
    auth.login(owner.account_code)
    response = client.post_form("/books/new", _book_form())
    assert response.status_code == 303
    book = db.session.scalar(select(Book))
    assert book.isbn == "9780306406157" and book.owner_member_id == owner.id
    assert response.headers["Location"].endswith(f"/books/{book.id}")


def test_a_wrong_isbn_is_shown_next_to_the_field_and_keeps_the_input(
        client: Any, auth: Any, make_member: Any) -> None:
    owner, _reader = _pair(make_member)
    auth.login(owner.account_code)
    response = client.post_form("/books/new", _book_form(isbn="978-0-306-40615-8",
                                                         note="Met opdracht"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This is not a valid ISBN" in page
    assert 'value="978-0-306-40615-8"' in page and "Met opdracht" in page
    assert db.session.scalar(select(func.count(Book.id))) == 0


def test_a_price_follows_the_groups_decimals(client: Any, auth: Any,
                                             make_member: Any) -> None:
    """The group counts whole units (the default): 1,5 is refused next to the price and
    nothing is stored; 3 is stored as 3 units."""
    owner, _reader = _pair(make_member)
    auth.login(owner.account_code)
    refused = client.post_form("/books/new", _book_form(price="1,5"))
    assert refused.status_code == 200
    assert "This group counts in whole units: no decimals." in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Book.id))) == 0
    assert client.post_form("/books/new", _book_form(price="3")).status_code == 303
    assert db.session.scalar(select(Book.price)) == 3


def test_request_lend_and_return_through_the_pages(client: Any, auth: Any,
                                                   make_member: Any) -> None:
    owner, reader = _pair(make_member)
    book = make_book(owner, "Kaas", mode=Mode.LEND)
    auth.login(reader.account_code)
    page = client.get(f"/books/{book.id}").get_data(as_text=True)
    assert "Request this book" in page
    response = client.post_form(f"/books/{book.id}", {"message": "Mag ik het lenen?"})
    assert response.status_code == 303
    req = db.session.scalar(select(BookRequest))
    assert req.message == "Mag ik het lenen?"
    # Asking again: the form is gone, and a forged post gets the message.
    assert "Request this book" not in client.get(f"/books/{book.id}").get_data(as_text=True)
    again = client.post_form(f"/books/{book.id}", {"message": "nog eens"})
    assert again.status_code == 200
    assert "You have asked for this book already" in main_text(again.get_data(as_text=True))
    auth.logout()

    auth.login(owner.account_code)
    too_late = client.post_form(f"/books/requests/{req.id}/accept", {"due_date": "31/12/2099"})
    assert too_late.status_code == 303
    assert "A loan lasts at most a year." in client.get(f"/books/{book.id}").get_data(
        as_text=True)
    due = date.today() + timedelta(days=14)
    accept = client.post_form(f"/books/requests/{req.id}/accept",
                              {"due_date": due.strftime("%d/%m/%Y")})
    assert accept.status_code == 303
    db.session.refresh(req)
    assert req.state == RequestState.ACCEPTED and req.due_date == due
    confirm = client.get(f"/books/requests/{req.id}/hand-over")
    assert "Confirm the hand-over" in confirm.get_data(as_text=True)
    handed = client.post_form(f"/books/requests/{req.id}/hand-over", {})
    assert handed.status_code == 303, main_text(handed.get_data(as_text=True))
    db.session.refresh(book)
    assert book.state == BookState.ON_LOAN
    mine = client.get("/books/mine").get_data(as_text=True)
    assert "Lent out" in mine and "Rik Reader" in mine
    assert client.post_form(f"/books/requests/{req.id}/return").status_code == 303
    db.session.refresh(book)
    assert book.state == BookState.AVAILABLE


def test_requesting_ones_own_book_by_post_is_refused(client: Any, auth: Any,
                                                     make_member: Any) -> None:
    owner, _reader = _pair(make_member)
    book = make_book(owner)
    auth.login(owner.account_code)
    assert "Request this book" not in client.get(f"/books/{book.id}").get_data(as_text=True)
    response = client.post_form(f"/books/{book.id}", {"message": "x"})
    assert response.status_code == 200
    assert "This is your own book." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(BookRequest.id))) == 0


def test_give_away_with_a_price_books_it_once(client: Any, auth: Any,
                                              make_member: Any) -> None:
    owner, reader = _pair(make_member)
    from decimal import Decimal

    book = make_book(owner, "Het smelt", price=Decimal(2))
    req = accepted(book, reader, owner)
    auth.login(owner.account_code)
    page = client.get(f"/books/{book.id}").get_data(as_text=True)
    assert "Waiting for Rik Reader to confirm receipt and pay." in page
    auth.logout()
    auth.login(reader.account_code)
    summary = client.get(f"/books/requests/{req.id}/hand-over").get_data(as_text=True)
    assert "Confirming pays" in summary and "Olga Owner" in summary
    token = client.csrf_token(f"/books/requests/{req.id}/hand-over")
    first = client.post(f"/books/requests/{req.id}/hand-over",
                        data={"csrf_token": token, "to_shelf": "y"})
    assert first.status_code == 303
    twice = client.post(f"/books/requests/{req.id}/hand-over",
                        data={"csrf_token": token, "to_shelf": "y"})
    assert twice.status_code == 200
    assert "handed over already" in twice.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Transfer.id)).where(
        Transfer.idempotency_key == services.payment_key(req))) == 1
    db.session.refresh(book)
    assert book.state == BookState.CLOSED


def test_a_stranger_cannot_see_the_hand_over_page(client: Any, auth: Any,
                                                  make_member: Any) -> None:
    owner, reader = _pair(make_member)
    req = accepted(make_book(owner), reader, owner)
    auth.login(make_member(locale="en").account_code)
    assert client.get(f"/books/requests/{req.id}/hand-over").status_code == 403
    assert client.post_form(f"/books/requests/{req.id}/decline").status_code == 403
    db.session.refresh(req)
    assert req.state == RequestState.ACCEPTED


def test_search_answers_with_the_list_alone_for_htmx(client: Any, make_member: Any) -> None:
    owner, _reader = _pair(make_member)
    make_book(owner, "Le Petit Prince", authors="Antoine de Saint-Exupéry", language="fr")
    make_book(owner, "Kaas", authors="Willem Elsschot")
    partial = client.get("/books/?q=exupery", headers=HX)
    text = partial.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="books"')
    assert "Le Petit Prince" in text and "Kaas" not in text
    assert "HX-Request" in partial.headers["Vary"]
    full = client.get("/books/?q=exupery").get_data(as_text=True)
    assert "<html" in full and "Le Petit Prince" in full and "Kaas" not in full


def test_the_profile_shows_the_members_shelf(client: Any, auth: Any, make_member: Any) -> None:
    owner, reader = _pair(make_member)
    make_book(owner, "Pallieter")
    auth.login(reader.account_code)
    page = client.get(f"/members/{owner.account_code}").get_data(as_text=True)
    assert "Books on the shelf" in page and "Pallieter" in page


def test_public_books_are_items_for_the_feed(app: Any, make_member: Any) -> None:
    from lets_site import features
    from lets_site.books.models import Visibility

    owner, _reader = _pair(make_member)
    public = make_book(owner, "Max Havelaar")
    make_book(owner, "Kaas", visibility=Visibility.MEMBERS)
    with app.test_request_context():
        items = [i for i in features.items(None, 50) if i.kind == "book"]
    assert [(i.title, i.id) for i in items] == [("Max Havelaar", public.urn)]


def test_the_request_mails_the_owner(client: Any, auth: Any, make_member: Any,
                                     outbox: Any) -> None:
    owner, reader = _pair(make_member)
    book = make_book(owner, "Kaas")
    make_request(book, reader, "Graag")
    db.session.commit()
    auth.login(reader.account_code)
    mails = [m for m in outbox() if owner.email in m]
    assert mails and "Kaas" in mails[-1]


def test_my_books_lists_an_overdue_loan_with_a_reminder(client: Any, auth: Any,
                                                        make_member: Any) -> None:
    owner, reader = _pair(make_member)
    book = make_book(owner, "Kaas", mode=Mode.LEND)
    req = accepted(book, reader, owner)
    services.hand_over(owner, req)
    db.session.commit()
    auth.login(owner.account_code)
    assert "Past the return date" not in client.get("/books/mine").get_data(as_text=True)
    req.due_date = date.today() - timedelta(days=2)
    db.session.commit()
    page = client.get("/books/mine").get_data(as_text=True)
    assert "Past the return date" in page and "Send a friendly reminder" in page
    assert f"mailto:{reader.email}" in page


def test_htmx_page_of_twenty_books_fits_the_budget(client: Any, auth: Any,
                                                   make_member: Any) -> None:
    """Page budget: an htmx search result with 20 books is at most 4 KB compressed."""
    import gzip

    owner, reader = _pair(make_member)
    for n in range(25):
        make_book(owner, f"Het verdriet van België, deel {n}", authors="Hugo Claus",
                  isbn="978-0-306-40615-7", genre="history")
    auth.login(reader.account_code)
    body = client.get("/books/?q=claus&page=2", headers=HX).get_data()
    assert body.count(b'<tr id="book-') == 5
    body = client.get("/books/?q=claus", headers=HX).get_data()
    assert body.count(b'<tr id="book-') == 20 and b"<html" not in body
    size = len(gzip.compress(body, compresslevel=6, mtime=0))
    assert size <= 4 * 1024, size
