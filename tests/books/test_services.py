"""The book rules at their edges: ISBN, one open request, the lifecycle, the price booked
once in the ledger, search."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from lets_site.books import services
from lets_site.books.models import Book, BookRequest, BookState, Mode, RequestState, Visibility
from lets_site.database import utcnow
from lets_site.domain import DomainError, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger.models import Account, Transfer
from tests.books.helpers import accepted, make_book, make_request


def _transfers() -> int:
    return db.session.scalar(select(func.count(Transfer.id))) or 0


def test_isbn_with_wrong_checksum_is_refused_and_nothing_stored(people: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as error:
        make_book(people["member"], isbn="978-0-306-40615-8")
    assert error.value.field == "isbn"
    db.session.rollback()
    assert db.session.scalar(select(func.count(Book.id))) == 0


def test_isbn10_with_hyphens_is_stored_as_isbn13(people: dict[str, Any]) -> None:
    book = make_book(people["member"], isbn="0-306-40615-2")
    assert book.isbn == "9780306406157"


def test_requesting_ones_own_book_is_refused(people: dict[str, Any]) -> None:
    book = make_book(people["member"])
    with pytest.raises(DomainError, match="your own book"):
        services.request_book(people["member"], book, "mine")


def test_intermediary_cannot_request_the_organisations_book(people: dict[str, Any]) -> None:
    book = make_book(people["org"])
    with pytest.raises(DomainError, match="your own book"):
        services.request_book(people["intermediary"], book, "")


def test_second_open_request_by_the_same_member_is_refused(people: dict[str, Any]) -> None:
    book = make_book(people["member"])
    make_request(book, people["intermediary"])
    with pytest.raises(DomainError, match="asked for this book already"):
        services.request_book(people["intermediary"], book, "again")


def test_the_unique_key_refuses_a_second_open_request_without_the_check(
        people: dict[str, Any]) -> None:
    """The database holds the rule even when two requests pass the check at once."""
    book = make_book(people["member"])
    make_request(book, people["intermediary"])
    db.session.add(BookRequest(book_id=book.id, requester_id=people["intermediary"].id,
                               open_key=f"{book.id}-{people['intermediary'].id}"))
    with pytest.raises(DomainError, match="asked for this book already"):
        services._flush_unique(services._l("You have asked for this book already; wait "
                                           "for the owner's answer."))


def test_several_members_queue_and_a_declined_member_may_ask_again(
        people: dict[str, Any]) -> None:
    book = make_book(people["member"])
    first = make_request(book, people["intermediary"])
    make_request(book, people["other_org_member"])
    services.decline(people["member"], first)
    db.session.commit()
    again = make_request(book, people["intermediary"])
    assert again.state == RequestState.OPEN


def test_only_one_request_of_a_book_is_accepted_at_a_time(people: dict[str, Any]) -> None:
    book = make_book(people["member"])
    accepted(book, people["intermediary"], people["member"])
    second = make_request(book, people["other_org_member"])
    with pytest.raises(DomainError, match="accepted another request"):
        services.accept(people["member"], second)


def test_only_the_owner_accepts(people: dict[str, Any]) -> None:
    book = make_book(people["member"])
    req = make_request(book, people["intermediary"])
    with pytest.raises(PermissionDenied):
        services.accept(people["other_org_member"], req)


def test_lend_hand_over_and_return(people: dict[str, Any]) -> None:
    owner, borrower = people["member"], people["intermediary"]
    book = make_book(owner, mode=Mode.LEND)
    due = (utcnow() + timedelta(days=10)).date()
    req = accepted(book, borrower, owner, due_date=due)
    services.hand_over(owner, req)
    db.session.commit()
    assert book.state == BookState.ON_LOAN and req.due_date == due
    assert services.mine(borrower).borrowed == [req]
    services.return_book(owner, req)
    db.session.commit()
    assert book.state == BookState.AVAILABLE and req.state == RequestState.RETURNED
    # The borrower may ask for it again.
    assert make_request(book, borrower).state == RequestState.OPEN


def test_a_loan_due_today_or_earlier_is_refused(people: dict[str, Any]) -> None:
    book = make_book(people["member"], mode=Mode.LEND)
    req = make_request(book, people["intermediary"])
    with pytest.raises(DomainError) as error:
        services.accept(people["member"], req, utcnow().date())
    assert error.value.field == "due_date"
    req2 = services.accept(people["member"], req, utcnow().date() + timedelta(days=1))
    assert req2.state == RequestState.ACCEPTED


def test_a_book_on_loan_is_not_handed_over_again(people: dict[str, Any]) -> None:
    owner = people["member"]
    book = make_book(owner, mode=Mode.LEND)
    req = accepted(book, people["intermediary"], owner)
    services.hand_over(owner, req)
    db.session.commit()
    queued = make_request(book, people["other_org_member"])
    with pytest.raises(DomainError, match="on loan"):
        services.accept(owner, queued)
    with pytest.raises(DomainError, match="handed over already"):
        services.hand_over(owner, req)


def test_overdue_loans_are_listed_for_the_owner(people: dict[str, Any]) -> None:
    owner = people["member"]
    book = make_book(owner, mode=Mode.LEND)
    req = accepted(book, people["intermediary"], owner)
    services.hand_over(owner, req)
    db.session.commit()
    assert services.mine(owner).overdue == []
    req.due_date = utcnow().date() - timedelta(days=1)
    db.session.commit()
    assert services.mine(owner).overdue == [req]


def test_give_closes_the_book_declines_the_queue_and_fills_the_receivers_shelf(
        people: dict[str, Any]) -> None:
    owner, receiver = people["member"], people["intermediary"]
    book = make_book(owner)
    req = accepted(book, receiver, owner)
    waiting = make_request(book, people["other_org_member"])
    services.hand_over(owner, req, to_shelf=True)
    db.session.commit()
    assert book.state == BookState.CLOSED
    assert waiting.state == RequestState.DECLINED and waiting.open_key is None
    copies = db.session.scalars(select(Book).where(Book.owner_member_id == receiver.id)).all()
    assert [(c.title, c.state) for c in copies] == [(book.title, BookState.SHELVED)]
    with pytest.raises(DomainError):
        services.request_book(people["admin"], book, "")


def test_price_is_paid_once_by_the_receiver_at_hand_over(people: dict[str, Any]) -> None:
    owner, receiver = people["member"], people["intermediary"]
    book = make_book(owner, price=Decimal(2))
    req = accepted(book, receiver, owner)
    with pytest.raises(DomainError, match="has a price"):
        services.hand_over(owner, req)
    db.session.rollback()
    before = _transfers()
    services.hand_over(receiver, req)
    db.session.commit()
    transfer = db.session.scalar(select(Transfer).where(
        Transfer.idempotency_key == services.payment_key(req)))
    assert transfer is not None and transfer.uid == req.transfer_uid
    payer = db.session.get(Account, transfer.payer_id)
    payee = db.session.get(Account, transfer.payee_id)
    assert (payer.code, payee.code) == (receiver.account_code, owner.account_code)
    assert transfer.amount == book.price
    assert _transfers() == before + 1
    with pytest.raises(DomainError):
        services.hand_over(receiver, req)
    db.session.rollback()
    assert _transfers() == before + 1


def test_price_past_the_payers_limit_refuses_the_whole_hand_over(
        people: dict[str, Any]) -> None:
    owner, receiver = people["member"], people["intermediary"]
    book = make_book(owner, price=Decimal(400))  # the default minimum is -300
    req = accepted(book, receiver, owner)
    with pytest.raises(DomainError, match="below its minimum"):
        services.hand_over(receiver, req)
    db.session.rollback()
    db.session.refresh(req)
    assert req.state == RequestState.ACCEPTED and book.state == BookState.AVAILABLE


def test_organisation_book_is_paid_to_the_organisation(people: dict[str, Any]) -> None:
    book = make_book(people["org"], price=Decimal(1))
    req = accepted(book, people["member"], people["intermediary"])
    services.hand_over(people["member"], req)
    db.session.commit()
    transfer = db.session.scalar(select(Transfer).where(
        Transfer.idempotency_key == services.payment_key(req)))
    assert db.session.get(Account, transfer.payee_id).code == people["org"].account_code


def test_admin_acting_on_someone_elses_book_is_audited(people: dict[str, Any]) -> None:
    from lets_site.audit.models import AuditEntry

    book = make_book(people["member"])
    req = make_request(book, people["intermediary"])
    services.decline(people["admin"], req)
    db.session.commit()
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "book.decline" in actions


@pytest.mark.parametrize("query", ["reve", "RÉVE", "avonden", "9780306406157",
                                   "978-0-306-40615-7", "0-306-40615-2", "0306406152",
                                   "306-40615"])
def test_search_finds_title_author_and_isbn_with_or_without_hyphens(
        people: dict[str, Any], query: str) -> None:
    make_book(people["member"], "De avonden", isbn="9780306406157")
    make_book(people["member"], "Kaas", authors="Willem Elsschot")
    found = services.browse(None, services.Filters(q=query)).items
    assert [b.title for b in found] == ["De avonden"]


def test_browse_filters_and_hides_members_books_from_visitors(people: dict[str, Any]) -> None:
    make_book(people["member"], "Le Petit Prince", language="fr", genre="children")
    make_book(people["member"], "Kaas", visibility=Visibility.MEMBERS)
    assert [b.title for b in services.browse(None, services.Filters()).items] == [
        "Le Petit Prince"]
    member = people["other_org_member"]
    assert len(services.browse(member, services.Filters()).items) == 2
    assert [b.title for b in services.browse(member, services.Filters(language="fr")).items] \
        == ["Le Petit Prince"]
    assert services.browse(member, services.Filters(genre="children", mode="lend")).items == []


def test_shelved_book_is_hidden_and_cannot_be_requested(people: dict[str, Any]) -> None:
    book = make_book(people["member"])
    services.shelve(people["member"], book)
    db.session.commit()
    assert services.browse(people["admin"], services.Filters()).items == []
    with pytest.raises(DomainError):
        services.request_book(people["intermediary"], book, "")


def test_export_holds_the_members_books_and_requests(people: dict[str, Any]) -> None:
    from lets_site.books.feature import FEATURE

    mine = make_book(people["member"], "Kaas", isbn="0-306-40615-2")
    make_book(people["org"], "Van Hedera")
    other = make_book(people["intermediary"], "Pallieter")
    make_request(other, people["member"], "Graag")
    assert FEATURE.export is not None
    section = FEATURE.export.build(people["member"])
    assert [(b["id"], b["title"], b["isbn"]) for b in section["books"]] == [
        (mine.urn, "Kaas", "9780306406157")]
    assert [(r["title"], r["message"], r["state"]) for r in section["requests"]] == [
        ("Pallieter", "Graag", "open")]
