"""Only once, with real concurrent clients: a real server (gunicorn, several processes
and threads) on the test's database (SQLite file or LETS_TEST_DATABASE_URL).

- Members post their request for the same book from several browsers at once: each
  member ends up with exactly one open request.
- The receiver posts the hand-over of a priced book from several browsers at once: the
  book changes hands once and the price is booked once."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from lets_site.books import services
from lets_site.books.models import Book, BookRequest, BookState, RequestState
from lets_site.extensions import db
from lets_site.ledger.models import Account, Transfer
from tests import factories
from tests.books.helpers import accepted, make_book
from tests.ledger.test_concurrency import CSRF_RE, Browser, server  # noqa: F401

pytestmark = [pytest.mark.real_commits, pytest.mark.slow]

MEMBERS = 5
BROWSERS_PER_MEMBER = 3


def _run_at_once(jobs: list, errors: list[str]) -> None:  # type: ignore[type-arg]
    start = threading.Barrier(len(jobs))
    lock = threading.Lock()

    def wrap(job):  # type: ignore[no-untyped-def]
        try:
            start.wait()
            job()
        except Exception as exc:  # a failed thread must fail the test
            with lock:
                errors.append(repr(exc))

    threads = [threading.Thread(target=wrap, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)


def test_requests_posted_at_once_leave_one_open_request_per_member(
        app: Flask, server: tuple[str, dict[str, str], Path]) -> None:  # noqa: F811
    base, _env, _log = server
    owner = factories.make_member()
    readers = [factories.make_member() for _ in range(MEMBERS)]
    book = make_book(owner, "Het verdriet van België")
    book_id = book.id
    db.session.commit()

    forms = []
    for reader in readers:
        for _ in range(BROWSERS_PER_MEMBER):
            browser = Browser(base)
            browser.login(reader.account_code)
            token = CSRF_RE.search(browser.get(f"/books/{book_id}"))
            assert token
            forms.append((browser, token.group(1)))
    outcomes: list[tuple[int, str]] = []
    errors: list[str] = []

    def job(browser: Browser, token: str):  # type: ignore[no-untyped-def]
        def post() -> None:
            status, location, text = browser.post(
                f"/books/{book_id}", {"csrf_token": token, "message": "Graag"})
            outcomes.append((status, location + text))
        return post

    _run_at_once([job(b, t) for b, t in forms], errors)
    assert not errors, errors
    for status, text in outcomes:
        assert status == 303 or (status == 200 and "asked for this book already" in text), \
            (status, text[:300])
    db.session.rollback()  # a new transaction sees what the server committed
    rows = db.session.execute(
        select(BookRequest.requester_id, func.count(BookRequest.id))
        .where(BookRequest.book_id == book_id).group_by(BookRequest.requester_id)).all()
    assert sorted(n for _, n in rows) == [1] * MEMBERS, outcomes[:3]
    assert sum(1 for status, _ in outcomes if status == 303) == MEMBERS


def test_a_priced_hand_over_posted_at_once_books_once(
        app: Flask, server: tuple[str, dict[str, str], Path]) -> None:  # noqa: F811
    base, _env, _log = server
    owner, receiver = factories.make_member(), factories.make_member()
    book = make_book(owner, "Max Havelaar", price=Decimal(2))
    req = accepted(book, receiver, owner)
    book_id, req_id = book.id, req.id
    db.session.commit()

    path = f"/books/requests/{req_id}/hand-over"
    forms = []
    for _ in range(6):
        browser = Browser(base)
        browser.login(receiver.account_code)
        token = CSRF_RE.search(browser.get(path))
        assert token
        forms.append((browser, token.group(1)))
    outcomes: list[tuple[int, str]] = []
    errors: list[str] = []

    def job(browser: Browser, token: str):  # type: ignore[no-untyped-def]
        def post() -> None:
            status, _location, text = browser.post(path, {"csrf_token": token,
                                                          "to_shelf": "y"})
            outcomes.append((status, text))
        return post

    _run_at_once([job(b, t) for b, t in forms], errors)
    assert not errors, errors
    for status, text in outcomes:
        assert status == 303 or (status == 200 and "handed over already" in text), \
            (status, text[:300])
    assert sum(1 for status, _ in outcomes if status == 303) == 1
    db.session.rollback()  # a new transaction sees what the server committed
    req = db.session.get(BookRequest, req_id)
    assert req.state == RequestState.HANDED_OVER
    assert db.session.get(Book, book_id).state == BookState.CLOSED
    transfers = db.session.scalars(select(Transfer).where(
        Transfer.idempotency_key == services.payment_key(req))).all()
    assert len(transfers) == 1 and transfers[0].uid == req.transfer_uid
    assert db.session.scalar(select(func.count(Transfer.id))) == 1
    assert db.session.scalar(select(func.sum(Account.balance))) == 0
    # The receiver's shelf got the book once.
    assert db.session.scalar(select(func.count(Book.id)).where(
        Book.owner_member_id == receiver.id)) == 1
