"""Book loans at their edges, as owners and borrowers meet them: asking for a book that is
lent or gone, the message's length, the first and last allowed return dates, declining
and withdrawing, handing over and returning what is not on loan, and who sees which
requests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from lets_site import signals
from lets_site.audit.models import AuditEntry
from lets_site.books import services
from lets_site.books.models import Book, BookRequest, BookState, Mode, RequestState, Visibility
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.members.models import Status
from tests import factories
from tests.books.helpers import accepted, make_book, make_request


class Clock:
    def __init__(self) -> None:
        self.now = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    stopped = Clock()
    monkeypatch.setattr(services, "utcnow", stopped)
    return stopped


def _lent(people: dict[str, Any], **kwargs: Any) -> tuple[Book, BookRequest]:
    owner, borrower = people["member"], people["intermediary"]
    book = make_book(owner, mode=Mode.LEND)
    req = accepted(book, borrower, owner, **kwargs)
    services.hand_over(owner, req)
    db.session.commit()
    return book, req


def _audited(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == action)) or 0


# --- Asking -----------------------------------------------------------------------------------


def test_a_lent_book_may_be_asked_for_and_waits_its_turn(people: dict[str, Any]) -> None:
    book, _req = _lent(people)
    queued = services.request_book(people["other_org_member"], book, "Na jou?")
    assert (queued.state, queued.book_id) == (RequestState.OPEN, book.id)
    assert queued.requester_id == people["other_org_member"].id
    assert queued.message == "Na jou?"


def test_a_book_given_away_or_shelved_cannot_be_asked_for(people: dict[str, Any]) -> None:
    owner = people["member"]
    given = make_book(owner, "Gegeven")
    req = accepted(given, people["intermediary"], owner)
    services.hand_over(owner, req)
    kept = make_book(owner, "Bewaard")
    services.shelve(owner, kept)
    db.session.commit()
    for book in (given, kept):
        with pytest.raises((DomainError, NotFound)):
            services.request_book(people["other_org_member"], book, "")
    # The admin, who may see a shelved book, is told it is not offered.
    with pytest.raises(DomainError, match="no longer offered"):
        services.request_book(people["admin"], kept, "")


def test_a_member_who_left_or_a_visitor_cannot_ask(people: dict[str, Any]) -> None:
    book = make_book(people["member"])
    gone = factories.make_member(status=Status.INACTIVE)
    for asker in (gone, AnonymousUserMixin()):
        with pytest.raises(PermissionDenied):
            services.request_book(asker, book, "")  # type: ignore[arg-type]
    assert db.session.scalar(select(func.count(BookRequest.id))) == 0


def test_a_book_one_cannot_see_cannot_be_asked_for(people: dict[str, Any]) -> None:
    book = make_book(people["member"], visibility=Visibility.MEMBERS)
    services.shelve(people["member"], book)
    db.session.commit()
    with pytest.raises(NotFound):
        services.request_book(people["intermediary"], book, "")


def test_the_message_may_be_2000_characters_not_one_more(people: dict[str, Any]) -> None:
    book = make_book(people["member"])
    with pytest.raises(DomainError) as error:
        services.request_book(people["intermediary"], book, "x" * 2001)
    assert error.value.field == "message"
    req = services.request_book(people["intermediary"], book, "  " + "x" * 2000 + "  ")
    assert req.message == "x" * 2000


def test_the_owner_is_mailed_the_request_and_it_is_announced(people: dict[str, Any],
                                                             outbox: Any) -> None:
    book = make_book(people["member"], "Het achterhuis")
    heard: list[tuple[Any, Any]] = []

    def listener(sender: Any, **extra: Any) -> None:
        heard.append((sender, extra.get("actor")))

    signals.book_requested.connect(listener)
    try:
        req = services.request_book(people["intermediary"], book, "Mag ik hem lenen?")
    finally:
        signals.book_requested.disconnect(listener)
    db.session.commit()
    assert heard == [(req, people["intermediary"])]
    mails = outbox()
    assert len(mails) == 1
    assert people["member"].email in mails[0]
    assert "Mag ik hem lenen?" in mails[0] and "Het achterhuis" in mails[0]
    assert f"/books/{book.id}" in mails[0]


def test_an_organisations_book_request_goes_to_its_intermediaries(people: dict[str, Any],
                                                                   outbox: Any) -> None:
    book = make_book(people["org"])
    services.request_book(people["member"], book, "Graag")
    db.session.commit()
    mails = outbox()
    assert len(mails) == 1 and people["intermediary"].email in mails[0]


# --- Accepting: the return date ---------------------------------------------------------------


def test_a_loan_may_last_a_year_and_a_day_not_longer(people: dict[str, Any],
                                                     clock: Clock) -> None:
    owner = people["member"]
    book = make_book(owner, mode=Mode.LEND)
    today = clock.now.date()
    req = make_request(book, people["intermediary"])
    with pytest.raises(DomainError) as error:
        services.accept(owner, req, today + timedelta(days=367))
    assert error.value.field == "due_date"
    assert services.accept(owner, req, today + timedelta(days=366)).due_date == \
        today + timedelta(days=366)


def test_a_loan_without_a_date_is_due_in_four_weeks(people: dict[str, Any],
                                                    clock: Clock) -> None:
    owner = people["member"]
    req = make_request(make_book(owner, mode=Mode.LEND), people["intermediary"])
    services.accept(owner, req)
    assert req.due_date == clock.now.date() + timedelta(days=28)
    assert (req.state, req.decided_at) == (RequestState.ACCEPTED, clock.now)


def test_a_gift_has_no_return_date_even_when_one_is_sent(people: dict[str, Any]) -> None:
    owner = people["member"]
    req = make_request(make_book(owner), people["intermediary"])
    services.accept(owner, req, utcnow().date() + timedelta(days=3))
    assert req.due_date is None and req.state == RequestState.ACCEPTED


def test_a_declined_or_withdrawn_request_cannot_be_accepted(people: dict[str, Any]) -> None:
    owner = people["member"]
    book = make_book(owner)
    declined = make_request(book, people["intermediary"])
    services.decline(owner, declined)
    withdrawn = make_request(book, people["other_org_member"])
    services.cancel(people["other_org_member"], withdrawn)
    for req in (declined, withdrawn):
        with pytest.raises(DomainError, match="no longer open"):
            services.accept(owner, req)


def test_a_shelved_book_is_not_lent_out(people: dict[str, Any]) -> None:
    owner = people["member"]
    book = make_book(owner)
    req = make_request(book, people["intermediary"])
    book.state = BookState.SHELVED
    with pytest.raises(DomainError, match="no longer offered"):
        services.accept(owner, req)


def test_an_admin_accepting_for_someone_is_audited_the_owner_not(
        people: dict[str, Any]) -> None:
    book = make_book(people["member"])
    req = make_request(book, people["intermediary"])
    services.accept(people["admin"], req)
    assert _audited("book.accept") == 1
    other = make_book(people["member"], "Tweede")
    services.accept(people["member"], make_request(other, people["intermediary"]))
    assert _audited("book.accept") == 1


# --- Declining and withdrawing ------------------------------------------------------------------


def test_declining_an_accepted_request_frees_the_book_for_the_next(
        people: dict[str, Any]) -> None:
    owner = people["member"]
    book = make_book(owner)
    first = accepted(book, people["intermediary"], owner)
    second = make_request(book, people["other_org_member"])
    services.decline(owner, first)
    assert (first.state, first.open_key, first.busy_book) == (RequestState.DECLINED, None, None)
    assert first.decided_at is not None
    assert services.accept(owner, second).state == RequestState.ACCEPTED
    with pytest.raises(DomainError, match="no longer open"):
        services.decline(owner, first)


def test_only_the_owner_declines_only_the_asker_withdraws(people: dict[str, Any]) -> None:
    owner, asker, other = people["member"], people["intermediary"], people["other_org_member"]
    req = make_request(make_book(owner), asker)
    with pytest.raises(PermissionDenied):
        services.decline(asker, req)
    with pytest.raises(PermissionDenied):
        services.decline(other, req)
    with pytest.raises(PermissionDenied):
        services.cancel(owner, req)
    with pytest.raises(PermissionDenied):
        services.cancel(other, req)
    assert req.state == RequestState.OPEN


def test_withdrawing_an_accepted_request_lets_the_owner_accept_another(
        people: dict[str, Any]) -> None:
    owner = people["member"]
    book = make_book(owner)
    first = accepted(book, people["intermediary"], owner)
    second = make_request(book, people["other_org_member"])
    services.cancel(people["intermediary"], first)
    assert (first.state, first.open_key, first.busy_book) == (
        RequestState.CANCELLED, None, None)
    with pytest.raises(DomainError, match="no longer open"):
        services.cancel(people["intermediary"], first)
    assert services.accept(owner, second).state == RequestState.ACCEPTED
    # The one who withdrew may ask again.
    assert make_request(book, people["intermediary"]).state == RequestState.OPEN


# --- Handing over -------------------------------------------------------------------------------


def test_a_free_book_is_handed_over_by_either_side_not_by_others(people: dict[str, Any],
                                                                 clock: Clock) -> None:
    owner, asker = people["member"], people["intermediary"]
    book = make_book(owner)
    req = accepted(book, asker, owner)
    with pytest.raises(PermissionDenied):
        services.hand_over(people["other_org_member"], req)
    services.hand_over(asker, req)
    assert (req.state, req.handed_over_at) == (RequestState.HANDED_OVER, clock.now)
    assert (req.open_key, req.busy_book, req.transfer_uid) == (None, None, None)
    assert book.state == BookState.CLOSED and book.updated_at == clock.now
    # Without to_shelf, no copy joins the receiver's shelf.
    assert db.session.scalar(select(func.count(Book.id)).where(
        Book.owner_member_id == asker.id)) == 0


def test_an_open_request_is_not_handed_over(people: dict[str, Any]) -> None:
    owner = people["member"]
    req = make_request(make_book(owner), people["intermediary"])
    with pytest.raises(DomainError, match="accepts a request before"):
        services.hand_over(owner, req)


def test_a_loan_keeps_its_request_and_the_queue(people: dict[str, Any]) -> None:
    owner = people["member"]
    book = make_book(owner, mode=Mode.LEND)
    req = accepted(book, people["intermediary"], owner)
    waiting = make_request(book, people["other_org_member"])
    services.hand_over(owner, req)
    assert book.state == BookState.ON_LOAN
    assert req.state == RequestState.HANDED_OVER and req.busy_book == book.id
    assert waiting.state == RequestState.OPEN


def test_a_swapped_book_joins_the_receivers_shelf_as_a_private_copy(
        people: dict[str, Any]) -> None:
    owner, receiver = people["member"], people["intermediary"]
    book = make_book(owner, "Ruilboek", mode=Mode.SWAP, authors="A. Auteur", note="Ezelsoren",
                     isbn="0-306-40615-2", language="fr", genre="novel", condition="worn")
    req = accepted(book, receiver, owner)
    services.hand_over(owner, req, to_shelf=True)
    copy = db.session.scalars(select(Book).where(Book.owner_member_id == receiver.id)).one()
    assert (copy.title, copy.authors, copy.mode, copy.state, copy.visibility, copy.note) == (
        "Ruilboek", "A. Auteur", Mode.SWAP, BookState.SHELVED, Visibility.MEMBERS, "")
    assert (copy.isbn, copy.language, copy.genre, copy.condition) == (
        "9780306406157", "fr", "novel", "worn")
    assert copy.owner_member is receiver and copy.price is None
    # Offered again by its new owner, the copy is found by its title, author and ISBN.
    services.offer(receiver, copy)
    for query in ("ruilboek", "auteur", "0306406152"):
        assert services.browse(receiver, services.Filters(q=query)).items == [copy]


def test_an_admin_handing_over_for_someone_is_audited(people: dict[str, Any]) -> None:
    book = make_book(people["member"])
    req = accepted(book, people["intermediary"], people["member"])
    services.hand_over(people["admin"], req)
    assert _audited("book.hand_over") == 1


# --- Returning ----------------------------------------------------------------------------------


def test_returning_a_book_that_is_not_lent_is_refused(people: dict[str, Any]) -> None:
    owner = people["member"]
    lend = make_book(owner, "Leenboek", mode=Mode.LEND)
    open_req = make_request(lend, people["intermediary"])
    with pytest.raises(DomainError, match="not on loan"):
        services.return_book(owner, open_req)  # asked, not lent
    services.accept(owner, open_req)
    with pytest.raises(DomainError, match="not on loan"):
        services.return_book(owner, open_req)  # accepted, not yet handed over
    gift = make_book(owner, "Cadeau")
    given = accepted(gift, people["other_org_member"], owner)
    services.hand_over(owner, given)
    with pytest.raises(DomainError, match="not on loan"):
        services.return_book(owner, given)  # given away, not lent
    assert gift.state == BookState.CLOSED


def test_a_book_is_returned_once_and_only_by_its_owner(people: dict[str, Any],
                                                       clock: Clock) -> None:
    book, req = _lent(people)
    with pytest.raises(PermissionDenied):
        services.return_book(people["intermediary"], req)  # the borrower
    services.return_book(people["member"], req)
    assert (req.state, req.returned_at, req.open_key, req.busy_book) == (
        RequestState.RETURNED, clock.now, None, None)
    assert book.state == BookState.AVAILABLE and book.updated_at == clock.now
    with pytest.raises(DomainError, match="not on loan"):
        services.return_book(people["member"], req)


def test_after_the_return_the_next_in_the_queue_can_be_accepted(people: dict[str, Any]) -> None:
    book, req = _lent(people)
    queued = make_request(book, people["other_org_member"])
    services.return_book(people["member"], req)
    assert services.accept(people["member"], queued).state == RequestState.ACCEPTED
    assert _audited("book.return") == 0


def test_an_admin_taking_a_book_back_for_someone_is_audited(people: dict[str, Any]) -> None:
    _book, req = _lent(people)
    services.return_book(people["admin"], req)
    assert _audited("book.return") == 1


# --- Who sees which requests; my books ----------------------------------------------------------


def test_owners_see_every_request_askers_their_own_visitors_none(
        people: dict[str, Any]) -> None:
    owner = people["member"]
    book = make_book(owner)
    first = make_request(book, people["intermediary"])
    second = make_request(book, people["other_org_member"])
    make_request(make_book(owner, "Ander boek"), people["intermediary"])
    assert services.requests_for(book, owner) == [first, second]
    assert services.requests_for(book, people["admin"]) == [first, second]
    assert services.requests_for(book, people["intermediary"]) == [first]
    assert services.requests_for(book, None) == []
    assert services.requests_for(book, AnonymousUserMixin()) == []  # type: ignore[arg-type]


def test_my_books_page_lists_lent_borrowed_incoming_and_overdue(people: dict[str, Any],
                                                                clock: Clock) -> None:
    owner, borrower = people["member"], people["intermediary"]
    today = clock.now.date()
    book, req = _lent(people, due_date=today + timedelta(days=1))
    asked = make_request(make_book(owner, "Gevraagd"), people["other_org_member"])
    org_book = make_book(people["org"], "Van de vereniging")
    org_req = make_request(org_book, owner)
    mine = services.mine(owner)
    assert mine.lent == [req] and mine.today == today
    assert mine.incoming == [asked]
    assert mine.requests == [org_req] and mine.borrowed == []
    assert [owner_ for owner_, _ in mine.shelves] == [owner]
    assert mine.overdue == []
    clock.now += timedelta(days=2)
    assert services.mine(owner).overdue == [req]
    theirs = services.mine(borrower)
    assert theirs.borrowed == [req] and theirs.incoming == [org_req]
    assert [o for o, _ in theirs.shelves] == [borrower, people["org"]]
    services.return_book(owner, req)
    assert services.mine(owner).lent == [] and services.mine(borrower).borrowed == []
    assert book.state == BookState.AVAILABLE


# --- The book's own questions -------------------------------------------------------------------


def test_a_members_only_book_is_not_seen_by_a_visitor(people: dict[str, Any]) -> None:
    members = make_book(people["member"], "Leden", visibility=Visibility.MEMBERS)
    public = make_book(people["member"], "Iedereen")
    for visitor in (None, AnonymousUserMixin()):
        assert not members.can_view(visitor)
        assert public.can_view(visitor)
        with pytest.raises(PermissionDenied):
            services.get_book(members.id, visitor)  # type: ignore[arg-type]
    assert members.can_view(people["other_org_member"])


def test_shelved_and_given_books_are_seen_by_their_editors_only(people: dict[str, Any]) -> None:
    owner = people["member"]
    kept = make_book(owner, "Bewaard")
    services.shelve(owner, kept)
    db.session.commit()
    assert kept.can_view(owner) and kept.can_view(people["admin"])
    assert not kept.can_view(people["intermediary"]) and not kept.can_view(None)
    kept.state = BookState.CLOSED
    assert kept.can_view(owner) and not kept.can_view(people["intermediary"])


def test_owners_are_the_member_or_the_organisations_intermediaries(
        people: dict[str, Any]) -> None:
    mine = make_book(people["member"])
    orgs = make_book(people["org"])
    assert mine.owned_by(people["member"]) and not mine.owned_by(people["intermediary"])
    assert orgs.owned_by(people["intermediary"])
    assert not orgs.owned_by(people["member"]) and not orgs.owned_by(people["other_org_member"])
    assert not orgs.owned_by(people["admin"])
    for nobody in (None, AnonymousUserMixin()):
        assert not mine.owned_by(nobody) and not mine.can_edit(nobody)
    assert orgs.can_edit(people["intermediary"]) and orgs.can_edit(people["admin"])
    assert not orgs.can_edit(people["member"])


def test_who_may_ask_for_a_book(people: dict[str, Any]) -> None:
    owner, other = people["member"], people["other_org_member"]
    book = make_book(owner)
    assert book.can_request(other) and book.can_request(people["admin"])
    assert not book.can_request(owner)
    assert not book.can_request(None) and not book.can_request(AnonymousUserMixin())
    orgs = make_book(people["org"])
    assert not orgs.can_request(people["intermediary"]) and orgs.can_request(owner)
    book.state = BookState.ON_LOAN
    assert book.can_request(other)
    for state in (BookState.SHELVED, BookState.CLOSED):
        book.state = state
        assert not book.can_request(other)


def test_a_loan_is_overdue_the_day_after_its_return_date(people: dict[str, Any]) -> None:
    today = utcnow().date()
    _book, req = _lent(people, due_date=today + timedelta(days=3))
    due = req.due_date
    assert not req.overdue(due) and req.overdue(due + timedelta(days=1))
    services.return_book(people["member"], req)
    assert not req.overdue(due + timedelta(days=1))  # back: no longer overdue


def test_requests_are_listed_oldest_first(people: dict[str, Any], clock: Clock) -> None:
    owner = people["member"]
    book = make_book(owner)
    first = make_request(book, people["intermediary"])
    second = make_request(book, people["other_org_member"])
    third = make_request(book, people["admin"])
    first.created_at = clock.now + timedelta(seconds=2)  # came in last (a slow connection)
    second.created_at = third.created_at = clock.now  # at the same moment: by number
    db.session.flush()
    assert services.requests_for(book, owner) == [second, third, first]
    assert services.mine(owner).incoming == [second, third, first]


def test_my_lent_books_are_my_books_handed_over_on_loan_soonest_due_first(
        people: dict[str, Any], clock: Clock) -> None:
    owner, borrower, other = people["member"], people["intermediary"], people["other_org_member"]
    today = clock.now.date()
    late = make_book(owner, "Later", mode=Mode.LEND)
    soon = make_book(owner, "Eerder", mode=Mode.LEND)
    for book, days in ((late, 20), (soon, 5)):
        services.hand_over(owner, accepted(book, borrower, owner,
                                           due_date=today + timedelta(days=days)))
    theirs = make_book(other, "Van een ander", mode=Mode.LEND)
    services.hand_over(other, accepted(theirs, borrower, other))  # someone else's loan
    make_request(make_book(owner, "Nog niet mee", mode=Mode.LEND), borrower)
    services.accept(owner, services.requests_for(
        db.session.scalars(select(Book).where(Book.title == "Nog niet mee")).one(), owner)[0])
    services.hand_over(owner, accepted(make_book(owner, "Gegeven"), other, owner))  # a gift
    db.session.commit()
    assert [r.book.title for r in services.mine(owner).lent] == ["Eerder", "Later"]


def test_my_shelves_show_my_kept_and_given_books_too(people: dict[str, Any]) -> None:
    owner = people["member"]
    kept = make_book(owner, "Bewaard")
    services.shelve(owner, kept)
    given = make_book(owner, "Gegeven")
    services.hand_over(owner, accepted(given, people["intermediary"], owner))
    offered = make_book(owner, "Aangeboden", visibility=Visibility.MEMBERS)
    db.session.commit()
    (shelf_owner, books), = services.mine(owner).shelves
    assert shelf_owner is owner
    assert [b.title for b in books] == ["Aangeboden", "Bewaard", "Gegeven"]
    assert offered in books


def test_my_requests_show_the_fifty_newest_newest_first(people: dict[str, Any],
                                                        clock: Clock) -> None:
    asker = people["intermediary"]
    start = clock.now
    made = []
    for n in range(51):
        clock.now = start + timedelta(seconds=n)
        made.append(services.request_book(asker, make_book(people["member"], f"Boek {n}"), ""))
    db.session.commit()
    shown = services.mine(asker).requests
    assert shown == list(reversed(made))[:50]


def test_giving_a_book_away_declines_its_own_open_requests_only(people: dict[str, Any]) -> None:
    owner, receiver, other = people["member"], people["intermediary"], people["other_org_member"]
    book = make_book(owner)
    withdrawn = make_request(book, people["admin"])
    services.cancel(people["admin"], withdrawn)
    req = accepted(book, receiver, owner)
    waiting = make_request(book, other)
    elsewhere = make_request(make_book(owner, "Ander boek"), other)
    services.hand_over(owner, req)
    assert waiting.state == RequestState.DECLINED
    assert elsewhere.state == RequestState.OPEN and elsewhere.open_key is not None
    assert withdrawn.state == RequestState.CANCELLED  # its history stays as it was
    assert req.state == RequestState.HANDED_OVER


def test_taking_a_book_off_the_list_declines_its_open_requests(people: dict[str, Any]) -> None:
    owner = people["member"]
    book = make_book(owner)
    first = make_request(book, people["intermediary"])
    second = make_request(book, people["other_org_member"])
    services.shelve(owner, book)
    assert (first.state, second.state) == (RequestState.DECLINED, RequestState.DECLINED)
    assert first.open_key is None and second.open_key is None


def test_handing_over_one_book_leaves_other_accepted_requests_alone(
        people: dict[str, Any]) -> None:
    owner = people["member"]
    first = accepted(make_book(owner, "Eerste"), people["intermediary"], owner)
    other = accepted(make_book(owner, "Tweede"), people["other_org_member"], owner)
    services.hand_over(owner, first)
    db.session.expire_all()
    assert db.session.get(BookRequest, other.id).state == RequestState.ACCEPTED
    assert db.session.get(BookRequest, other.id).handed_over_at is None
    services.hand_over(owner, db.session.get(BookRequest, other.id))


def test_a_request_keeps_the_moment_it_was_first_decided(people: dict[str, Any],
                                                          clock: Clock) -> None:
    owner = people["member"]
    withdrawn = make_request(make_book(owner, "Eerste"), people["intermediary"])
    services.cancel(people["intermediary"], withdrawn)
    assert withdrawn.decided_at == clock.now  # withdrawn while open: decided now
    accepted_at = clock.now
    req = accepted(make_book(owner, "Tweede"), people["intermediary"], owner)
    clock.now += timedelta(days=2)
    services.hand_over(owner, req)
    assert req.decided_at == accepted_at and req.handed_over_at == clock.now


def test_a_request_without_a_message_has_an_empty_one(people: dict[str, Any]) -> None:
    book = make_book(people["member"])
    req = services.request_book(people["intermediary"], book, None)  # type: ignore[arg-type]
    assert req.message == ""
