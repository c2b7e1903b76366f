"""Only once, with real concurrent clients (gunicorn, several processes and threads, on
the test's database: SQLite file or LETS_TEST_DATABASE_URL): the organisers of a book swap
post the record of what changed hands from several browsers at once; every brought book is
recorded once, handed over once, and lands on its receiver's shelf once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from lets_site.books.models import Book, BookAtEvent, BookRequest, BookState, Mode, RequestState
from lets_site.extensions import db
from tests import factories
from tests.books.helpers import make_book
from tests.events.conftest import make_event, make_organiser
from tests.ledger.test_concurrency import CSRF_RE, Browser, server  # noqa: F401

pytestmark = [pytest.mark.real_commits, pytest.mark.slow]

BROWSERS = 6


def test_a_swap_recorded_from_several_browsers_at_once_is_recorded_once(
        app: Flask, server: tuple[str, dict[str, str], Path]) -> None:  # noqa: F811
    base, _env, server_log = server
    organiser, host = make_organiser(), factories.make_member()
    owner, receiver, borrower = (factories.make_member() for _ in range(3))
    swap = make_event(organiser, days=-1, kind="book_swap", title="Boekenruil",
                      host_codes=(host.account_code,))
    given = make_book(owner, "De avonden")
    lent = make_book(owner, "Het smelt", mode=Mode.LEND)
    stays = make_book(owner, "Kaas")
    for book in (given, lent, stays):
        db.session.add(BookAtEvent(book_id=book.id, event_urn=swap.urn, added_at=swap.created_at))
    db.session.commit()
    rows = {r.book_id: r.id for r in db.session.scalars(select(BookAtEvent))}
    data = {f"outcome_{rows[given.id]}": "given", f"member_{rows[given.id]}": receiver.account_code,
            f"outcome_{rows[lent.id]}": "lent", f"member_{rows[lent.id]}": borrower.account_code,
            f"outcome_{rows[stays.id]}": "stayed", f"member_{rows[stays.id]}": ""}
    path = f"/books/swaps/{swap.urn}/record"
    forms = []
    for n in range(BROWSERS):
        browser = Browser(base)
        browser.login((organiser if n % 2 else host).account_code or "")
        token = CSRF_RE.search(browser.get(path))
        assert token
        forms.append((browser, token.group(1)))
    outcomes: list[tuple[int, str]] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(BROWSERS)

    def post(browser: Browser, token: str) -> None:
        try:
            start.wait()
            status, _location, text = browser.post(path, {"csrf_token": token, **data})
            with lock:
                outcomes.append((status, text))
        except Exception as exc:  # a failed thread must fail the test
            with lock:
                errors.append(repr(exc))

    threads = [threading.Thread(target=post, args=form) for form in forms]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, [*errors, server_log.read_text(errors="replace")[-2000:]]
    assert sum(1 for status, _ in outcomes if status == 303) == 1, [s for s, _ in outcomes]
    # The others: refused with the reason (the rows were recorded while they waited), or
    # the page that says so (they came after the first had committed).
    for status, text in outcomes:
        assert status == 303 or (status == 200 and (
            "recorded already" in text
            or "Every book brought to this swap is recorded." in text)), (status, text[:300])

    db.session.rollback()  # a new transaction sees what the server committed
    assert db.session.scalar(select(func.count(BookAtEvent.id)).where(
        BookAtEvent.recorded_at.is_not(None))) == 3
    assert db.session.scalar(select(func.count(BookRequest.id))) == 2
    assert db.session.get(Book, given.id).state == BookState.CLOSED
    assert db.session.get(Book, lent.id).state == BookState.ON_LOAN
    assert db.session.get(Book, stays.id).state == BookState.AVAILABLE
    states = set(db.session.scalars(select(BookRequest.state)))
    assert states == {RequestState.HANDED_OVER}
    assert db.session.scalar(select(func.count(Book.id)).where(
        Book.owner_member_id == receiver.id)) == 1
