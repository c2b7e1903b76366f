"""Book-swap events: bringing books (the rules at their edges), the event page's list, and
the organisers' one-form record of what changed hands."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from lets_site import features
from lets_site.books import swaps
from lets_site.books.models import Book, BookAtEvent, BookRequest, BookState, Mode, RequestState
from lets_site.domain import DomainError, PermissionDenied
from lets_site.events import services as events
from lets_site.extensions import db
from lets_site.ledger.models import Transfer
from tests.books.helpers import make_book
from tests.events.conftest import make_event, make_organiser
from tests.html import main_text, select_text


def _swap(organiser: Any, days: int = 10, **values: Any) -> Any:
    return make_event(organiser, days=days, title="Boekenruil", kind="book_swap", **values)


def _bring(member: Any, book: Book, event: Any) -> BookAtEvent:
    row = swaps.bring(member, book, event)
    db.session.commit()
    return row


@pytest.fixture
def org_er(app: Any) -> Any:
    return make_organiser(display_name="Olga Organiser", locale="en")


# --- Bringing a book --------------------------------------------------------------------


def test_the_contract_finds_an_event_by_its_urn_and_lists_coming_swaps(
        people: dict[str, Any], org_er: Any) -> None:
    swap = _swap(org_er)
    _swap(org_er, days=-2)  # over
    make_event(org_er, kind="film")
    assert features.find_subject(features.EVENT, swap.urn) is swap
    assert features.find_subject(features.EVENT, "urn:uuid:" + "0" * 36) is None
    assert features.find_subject(features.EVENT, "not-a-urn") is None
    assert [e.id for e in swaps.coming_swaps(people["member"])] == [swap.id]


def test_an_owner_brings_an_available_book_once(people: dict[str, Any], org_er: Any) -> None:
    swap = _swap(org_er)
    book = make_book(people["member"], "De avonden")
    _bring(people["member"], book, swap)
    assert swaps.events_of(book) == [swap.urn]
    with pytest.raises(DomainError, match="on the list of this swap already"):
        swaps.bring(people["member"], book, swap)
    db.session.rollback()
    # The database refuses a second row too (a concurrent post that passed the check).
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(insert(BookAtEvent).values(book_id=book.id, event_urn=swap.urn,
                                                      added_at=swap.created_at))
    assert db.session.scalar(select(func.count(BookAtEvent.id))) == 1


def test_only_the_owner_or_the_organisations_intermediary_brings_a_book(
        people: dict[str, Any], org_er: Any) -> None:
    swap = _swap(org_er)
    book = make_book(people["member"])
    for other in (people["intermediary"], people["admin"], org_er):
        with pytest.raises(PermissionDenied):
            swaps.bring(other, book, swap)
    org_book = make_book(people["org"], "Pallieter")
    with pytest.raises(PermissionDenied):
        swaps.bring(people["member"], org_book, swap)
    _bring(people["intermediary"], org_book, swap)
    assert swaps.events_of(org_book) == [swap.urn]


def test_a_past_or_cancelled_event_or_one_that_is_no_swap_takes_no_books(
        people: dict[str, Any], org_er: Any) -> None:
    book = make_book(people["member"])
    past = _swap(org_er, days=-1)
    with pytest.raises(DomainError, match="is over"):
        swaps.bring(people["member"], book, past)
    film = make_event(org_er, kind="film")
    with pytest.raises(DomainError, match="not a book swap"):
        swaps.bring(people["member"], book, film)
    cancelled = _swap(org_er)
    events.set_status(org_er, cancelled, "cancelled")
    db.session.commit()
    with pytest.raises(DomainError, match="cancelled"):
        swaps.bring(people["member"], book, cancelled)
    # The last day still counts: an event that ends in the future takes books.
    today = _swap(org_er, days=0, start_time=None, all_day=True)
    _bring(people["member"], book, today)


def test_only_an_available_book_is_brought(people: dict[str, Any], org_er: Any) -> None:
    from lets_site.books import services

    swap = _swap(org_er)
    shelved = make_book(people["member"], "Kaas")
    services.shelve(people["member"], shelved)
    lent = make_book(people["member"], "Het smelt", mode=Mode.LEND)
    req = services.request_book(people["intermediary"], lent, "")
    services.accept(people["member"], req)
    services.hand_over(people["member"], req)
    db.session.commit()
    for book in (shelved, lent):
        with pytest.raises(DomainError, match="offered and not on loan"):
            swaps.bring(people["member"], book, swap)
    assert swaps.bringable(people["member"], swap) == []


def test_take_back_before_the_end_only(people: dict[str, Any], org_er: Any) -> None:
    swap = _swap(org_er)
    book = make_book(people["member"])
    _bring(people["member"], book, swap)
    with pytest.raises(PermissionDenied):
        swaps.unbring(people["intermediary"], book, swap)
    swaps.unbring(people["member"], book, swap)
    db.session.commit()
    assert swaps.events_of(book) == []
    with pytest.raises(DomainError, match="not on the list"):
        swaps.unbring(people["member"], book, swap)


# --- Pages ------------------------------------------------------------------------------


def test_the_event_page_lists_the_books_by_language_and_genre_with_the_host(
        client: Any, auth: Any, people: dict[str, Any], org_er: Any) -> None:
    from lets_site.books.models import Visibility
    from lets_site.partners.models import Partner

    partner = Partner(slug="bib", name="Stadsbibliotheek Ieper", name_key="stadsbibliotheek")
    db.session.add(partner)
    db.session.flush()
    swap = _swap(org_er, partner_ids=(partner.id,))
    reader = people["member"]
    for title, language, genre in (("Le Petit Prince", "fr", "children"),
                                   ("De avonden", "nl", "novel"),
                                   ("Nijntje", "nl", "children"),
                                   ("Emma", "en", "novel")):
        _bring(reader, make_book(reader, title, language=language, genre=genre), swap)
    _bring(reader, make_book(reader, "Geheim", visibility=Visibility.MEMBERS), swap)
    page = client.get(f"/events/{swap.id}", headers={"Accept-Language": "en"})
    text = select_text(page.get_data(as_text=True), "#books-at-event")
    assert "Hosted with Stadsbibliotheek Ieper." in text
    assert "4 books are brought." in text and "Geheim" not in text  # a visitor
    # Dutch, French, English (the books' language list); in Dutch the novels before the
    # children's books (the genre list's order).
    order = [text.index(t) for t in ("Dutch", "De avonden", "Nijntje", "French",
                                     "Le Petit Prince", "English", "Emma")]
    assert order == sorted(order)
    auth.login(people["intermediary"].account_code)
    member_text = select_text(client.get(f"/events/{swap.id}").get_data(as_text=True),
                              "#books-at-event")
    assert "Geheim" in member_text


def test_a_film_night_has_no_books_panel(client: Any, org_er: Any) -> None:
    film = make_event(org_er, kind="film")
    assert 'id="books-at-event"' not in client.get(f"/events/{film.id}").get_data(as_text=True)


def test_bring_and_take_back_from_the_book_page_and_the_event_page(
        client: Any, auth: Any, make_member: Any, org_er: Any) -> None:
    owner = make_member(display_name="Bea Bookish", locale="en")
    swap = _swap(org_er)
    book = make_book(owner, "Max Havelaar")
    auth.login(owner.account_code)
    page = client.get(f"/books/{book.id}").get_data(as_text=True)
    assert "Bring it to the book swap" in select_text(page, "#book-swaps")
    response = client.post_form("/books/swaps/bring", {"book": str(book.id),
                                                       "event": swap.urn})
    assert response.status_code == 303 and response.headers["Location"] == f"/books/{book.id}"
    assert "You bring it to Boekenruil" in main_text(
        client.get(f"/books/{book.id}").get_data(as_text=True))
    event_page = client.get(f"/events/{swap.id}").get_data(as_text=True)
    assert "Max Havelaar" in select_text(event_page, "#books-at-event")
    # Taken back from the event's page: back to the event's page.
    response = client.post_form("/books/swaps/take-back", {
        "book": str(book.id), "event": swap.urn, "next": f"/events/{swap.id}"})
    assert response.headers["Location"] == f"/events/{swap.id}"
    assert swaps.events_of(book) == []
    # Brought again from the event page's own form (its select names the book).
    assert "Bring this book" in client.get(f"/events/{swap.id}").get_data(as_text=True)
    response = client.post_form("/books/swaps/bring", {
        "book": str(book.id), "event": swap.urn, "next": f"/events/{swap.id}"})
    assert response.headers["Location"] == f"/events/{swap.id}"
    assert swaps.events_of(book) == [swap.urn]
    # Twice: refused with the reason, flashed.
    again = client.post_form("/books/swaps/bring", {
        "book": str(book.id), "event": swap.urn}, follow_redirects=True)
    assert "on the list of this swap already" in again.get_data(as_text=True)


def test_someone_elses_book_or_a_missing_event_is_refused(
        client: Any, auth: Any, people: dict[str, Any], org_er: Any) -> None:
    swap = _swap(org_er)
    book = make_book(people["member"])
    auth.login(people["intermediary"].account_code)
    assert client.post_form("/books/swaps/bring", {"book": str(book.id), "event": swap.urn}
                            ).status_code == 403
    assert client.post_form("/books/swaps/bring", {"book": str(book.id),
                                                   "event": "urn:uuid:nothing"}
                            ).status_code == 404
    assert client.post_form("/books/swaps/bring", {"book": "x", "event": swap.urn}
                            ).status_code == 404
    assert client.post("/books/swaps/bring", data={"book": str(book.id),
                                                   "event": swap.urn}).status_code == 400
    assert db.session.scalar(select(func.count(BookAtEvent.id))) == 0


# --- After the event: the record --------------------------------------------------------


def _brought_books(people: dict[str, Any], swap: Any) -> dict[str, Book]:
    """Four books brought before the event (which is now over)."""
    owner = people["member"]
    books = {"give": make_book(owner, "De avonden"),
             "lend": make_book(owner, "Het smelt", mode=Mode.LEND),
             "stay": make_book(owner, "Kaas", mode=Mode.SWAP),
             "priced": make_book(owner, "Max Havelaar", price=Decimal(3))}
    for book in books.values():
        db.session.add(BookAtEvent(book_id=book.id, event_urn=swap.urn,
                                   added_by_id=owner.id, added_at=swap.created_at))
    db.session.commit()
    return books


def _rows(swap: Any) -> dict[str, int]:
    return {r.book.title: r.id for r in swaps.brought(swap)}


def _form(rows: dict[str, int], **lines: tuple[str, str] | tuple[str, str, str]) -> dict[str, str]:
    data = {}
    for title, row_id in rows.items():
        line = lines.get(title.replace(" ", "_"), ("stayed", ""))
        data[f"outcome_{row_id}"], data[f"member_{row_id}"] = line[0], line[1]
        if len(line) > 2:
            data[f"due_{row_id}"] = line[2]
    return data


def test_the_record_with_one_bad_line_writes_nothing_and_says_why(
        client: Any, auth: Any, people: dict[str, Any]) -> None:
    organiser = make_organiser(locale="en")
    swap = _swap(organiser, days=-1)
    _brought_books(people, swap)
    receiver = people["intermediary"]
    auth.login(organiser.account_code)
    rows = _rows(swap)
    response = client.post_form(f"/books/swaps/{swap.urn}/record", _form(
        rows, De_avonden=("given", receiver.account_code),
        Het_smelt=("lent", "ZZ-999")))
    assert response.status_code == 200
    text = select_text(response.get_data(as_text=True), f"#record-{rows['Het smelt']}")
    assert "No active member has the account code ZZ-999." in text
    assert "nothing is recorded yet" in main_text(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.scalar(select(func.count(BookRequest.id))) == 0
    assert db.session.scalar(select(func.count(BookAtEvent.id)).where(
        BookAtEvent.recorded_at.is_not(None))) == 0
    assert set(db.session.scalars(select(Book.state))) == {BookState.AVAILABLE}
    # The owner as receiver, or an outcome the book's mode does not allow: refused too.
    for line in ({"De_avonden": ("given", people["member"].account_code)},
                 {"Het_smelt": ("given", receiver.account_code)},
                 {"De_avonden": ("given", "")}):
        assert client.post_form(f"/books/swaps/{swap.urn}/record",
                                _form(rows, **line)).status_code == 200
    assert db.session.scalar(select(func.count(BookRequest.id))) == 0


def test_the_record_gives_lends_and_leaves_a_priced_book_to_its_receiver(
        client: Any, auth: Any, people: dict[str, Any]) -> None:
    organiser = make_organiser(locale="en")
    swap = _swap(organiser, days=-1)
    books = _brought_books(people, swap)
    receiver, borrower = people["intermediary"], people["other_org_member"]
    auth.login(organiser.account_code)
    rows = _rows(swap)
    due = date.today() + timedelta(days=20)
    response = client.post_form(f"/books/swaps/{swap.urn}/record", _form(
        rows, De_avonden=("given", receiver.account_code.lower()),
        Het_smelt=("lent", borrower.account_code, due.strftime("%d/%m/%Y")),
        Max_Havelaar=("given", receiver.account_code)))
    assert response.status_code == 303, main_text(response.get_data(as_text=True))
    db.session.expire_all()
    give = db.session.get(Book, books["give"].id)
    assert give.state == BookState.CLOSED
    assert db.session.scalar(select(Book).where(Book.owner_member_id == receiver.id,
                                                Book.title == "De avonden")) is not None
    loan = db.session.scalar(select(BookRequest).where(BookRequest.book_id == books["lend"].id))
    assert loan.state == RequestState.HANDED_OVER and loan.due_date == due
    assert db.session.get(Book, books["lend"].id).state == BookState.ON_LOAN
    assert db.session.get(Book, books["stay"].id).state == BookState.AVAILABLE
    # The priced book waits for its receiver, who confirms and pays through the ledger.
    priced = db.session.scalar(select(BookRequest).where(
        BookRequest.book_id == books["priced"].id))
    assert priced.state == RequestState.ACCEPTED
    assert db.session.scalar(select(func.count(Transfer.id))) == 0
    page = client.get(f"/books/swaps/{swap.urn}/record").get_data(as_text=True)
    assert "Every book brought to this swap is recorded." in page
    assert "waiting for Ivo Intermediary to confirm and pay" in page
    auth.logout()
    auth.login(receiver.account_code)
    assert client.post_form(f"/books/requests/{priced.id}/hand-over",
                            {"to_shelf": "y"}).status_code == 303
    db.session.expire_all()
    transfer = db.session.scalar(select(Transfer))
    assert transfer.amount == 3 and transfer.idempotency_key == f"book-request-{priced.id:012d}"
    assert db.session.get(Book, books["priced"].id).state == BookState.CLOSED


def test_a_lend_line_without_a_date_lends_for_four_weeks(people: dict[str, Any]) -> None:
    organiser = make_organiser()
    swap = _swap(organiser, days=-1)
    books = _brought_books(people, swap)
    rows = _rows(swap)
    swaps.record(organiser, swap, [swaps.RowChoice(rows["Het smelt"], "lent",
                                                   people["admin"].account_code)])
    db.session.commit()
    loan = db.session.scalar(select(BookRequest).where(BookRequest.book_id == books["lend"].id))
    assert loan.due_date == date.today() + timedelta(days=28)


def test_the_record_is_for_organisers_after_the_start_and_once(
        client: Any, auth: Any, people: dict[str, Any]) -> None:
    organiser = make_organiser(locale="en")
    coming = _swap(organiser, days=3)
    with pytest.raises(DomainError, match="once the swap has begun"):
        swaps.record(organiser, coming, [swaps.RowChoice(1)])
    swap = _swap(organiser, days=-1)
    _brought_books(people, swap)
    rows = _rows(swap)
    auth.login(people["member"].account_code)
    assert client.get(f"/books/swaps/{swap.urn}/record").status_code == 403
    with pytest.raises(PermissionDenied):
        swaps.record(people["member"], swap, [swaps.RowChoice(rows["Kaas"])])
    choice = swaps.RowChoice(rows["De avonden"], "given", people["intermediary"].account_code)
    assert swaps.record(people["admin"], swap, [choice]) == 1  # an admin may
    db.session.commit()
    with pytest.raises(swaps.RowErrors) as refused:
        swaps.record(organiser, swap, [choice])
    assert "recorded already" in str(refused.value.rows[rows["De avonden"]])


def test_the_panel_shows_the_record_link_to_organisers_once_begun(
        client: Any, auth: Any, people: dict[str, Any]) -> None:
    organiser = make_organiser(locale="en")
    swap = _swap(organiser, days=-1)
    _brought_books(people, swap)
    auth.login(organiser.account_code)
    page = client.get(f"/events/{swap.id}").get_data(as_text=True)
    assert "Record what changed hands" in page
    assert "Bring this book" not in page  # over: nothing more to bring
    auth.logout()
    auth.login(people["member"].account_code)
    assert "Record what changed hands" not in client.get(
        f"/events/{swap.id}").get_data(as_text=True)


def test_the_demo_brings_a_dozen_books_in_three_languages_to_the_librarys_swap(
        people: dict[str, Any], org_er: Any) -> None:
    from lets_site.books import demo
    from lets_site.partners.models import Partner

    library = Partner(slug="bib", name="Stadsbibliotheek Ieper", name_key="stadsbibliotheek")
    db.session.add(library)
    db.session.flush()
    _swap(org_er, days=5)  # an earlier swap elsewhere
    swap = _swap(org_er, days=20, partner_ids=(library.id,))
    owners = [people["member"], people["intermediary"], people["other_org_member"]]
    books = [make_book(owners[n % 3], f"Boek {n}", language=("nl", "fr", "en")[n % 3])
             for n in range(30)]
    brought = demo.bring_to_swap(books)
    assert len(brought) == demo.SWAP_BOOKS == 12
    assert {row.event_urn for row in brought} == {swap.urn}
    assert {row.book.language for row in brought} == {"nl", "fr", "en"}


def test_the_members_data_download_lists_the_books_they_bring(
        people: dict[str, Any], org_er: Any) -> None:
    from lets_site.books.feature import FEATURE

    swap = _swap(org_er)
    _bring(people["member"], make_book(people["member"], "De avonden"), swap)
    make_book(people["member"], "Kaas")
    assert FEATURE.export is not None
    section = FEATURE.export.build(people["member"])
    assert [(s["title"], s["event"], s["outcome"]) for s in section["swaps"]] == [
        ("De avonden", swap.urn, None)]
    assert FEATURE.export.build(people["intermediary"])["swaps"] == []
