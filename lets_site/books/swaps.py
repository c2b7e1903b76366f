"""Book-swap events: the books members bring, and what became of them.

Books meets events only through the feature contract: the event page offers the EVENT
place (books' panel gets the event as its subject), and ``features.find_subject`` /
``features.coming_subjects`` find an event by its item id (``urn:uuid:...``) or list the
coming book swaps. An event is only read here (``kind``, ``status``, ``starts_at``,
``is_past()``, ``partner_list()``, ``can_edit(actor)``, ``can_view(viewer)``).

- **Bring**: the owner (or the owning organisation's intermediary) marks an available
  book as brought to a book swap that is not over and not cancelled; UNIQUE (book, event).
- **Record**: after the event has begun, its organisers (or an admin) record in one form
  what became of each brought book: stayed with its owner, given, swapped or lent to a
  member. Each row goes through the books' lifecycle (a request, accepted, handed over:
  the same rules as between members), all in one transaction; a bad row is refused with
  its reason and nothing is written. A priced book's hand-over is left to its receiver,
  who confirms it and pays through the ledger (only the payer may authorise a payment).
- **Only once**: a brought row is recorded by a conditional ``UPDATE ... WHERE
  recorded_at IS NULL``, so two organisers posting the form at once record it once; the
  hand-over itself locks the book's row and changes the request only while it is
  accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from lets_site import codes, features
from lets_site.audit import services as audit
from lets_site.books import services
from lets_site.books.models import (
    Book,
    BookAtEvent,
    BookRequest,
    BookState,
    Mode,
    Outcome,
    RequestState,
)
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.members.models import Member

SWAP_KIND = "book_swap"
URN_MAX = 45
COMING_MAX = 20
# What may become of a book, by its mode: a book to lend is lent (or goes home again).
OUTCOMES = {Mode.GIVE.value: (Outcome.STAYED, Outcome.GIVEN, Outcome.SWAPPED),
            Mode.SWAP.value: (Outcome.STAYED, Outcome.SWAPPED, Outcome.GIVEN),
            Mode.LEND.value: (Outcome.STAYED, Outcome.LENT)}


def _member(viewer: Any) -> bool:
    return viewer is not None and bool(getattr(viewer, "is_authenticated", False))


def is_swap(event: Any) -> bool:
    return getattr(event, "kind", None) == SWAP_KIND


def get_swap(urn: str, viewer: Member | None) -> Any:
    """The book-swap event with this item id that the viewer may see."""
    event = features.find_subject(features.EVENT, urn[:URN_MAX]) if urn else None
    if event is None or not is_swap(event):
        raise NotFound(_l("There is no such book swap."))
    if not event.can_view(viewer):
        raise PermissionDenied(_l("This event is for members only."))
    return event


def coming_swaps(viewer: Member | None) -> list[Any]:
    """Book swaps not over yet and not cancelled that the viewer may see, soonest first."""
    return features.coming_subjects(features.EVENT, viewer, SWAP_KIND, COMING_MAX)


def open_for_books(event: Any) -> bool:
    """Books may be brought (or taken back) until the event is over, unless cancelled."""
    return is_swap(event) and event.status != "cancelled" and not event.is_past()


def _order(row: BookAtEvent) -> tuple[int, int, str, int]:
    book = row.book
    return (_index(services.LANGUAGES, book.language), _index(services.GENRES, book.genre),
            book.title.casefold(), row.id)


def _index(values: Sequence[str], value: str) -> int:
    return values.index(value) if value in values else len(values)


def brought(event: Any) -> list[BookAtEvent]:
    """The books brought to the event, by language (Dutch, French, English ...), genre (in
    the list's order) and title."""
    rows = db.session.scalars(select(BookAtEvent).where(BookAtEvent.event_urn == event.urn))
    return sorted(rows.unique(), key=_order)


@dataclass
class Group:
    language: str
    genres: list[tuple[str, list[BookAtEvent]]]


def grouped(rows: Sequence[BookAtEvent]) -> list[Group]:
    """Rows (sorted by :func:`brought`) grouped by language, then genre."""
    groups = []
    for language, by_language in groupby(rows, key=lambda r: r.book.language):
        genres = [(genre, list(rs)) for genre, rs in groupby(by_language,
                                                             key=lambda r: r.book.genre)]
        groups.append(Group(language=language, genres=genres))
    return groups


def _owned_clause(member: Member) -> Any:
    org_ids = [o.id for o in services.owner_choices(member)]
    return or_(Book.owner_member_id == member.id, Book.owner_org_id.in_(org_ids))


def bringable(member: Member | None, event: Any) -> list[Book]:
    """The member's (and their organisations') available books not yet brought here."""
    if not _member(member) or not open_for_books(event):
        return []
    already = select(BookAtEvent.book_id).where(BookAtEvent.event_urn == event.urn)
    return list(db.session.scalars(
        select(Book).options(*services.LIST_LOAD_OPTIONS)
        .where(_owned_clause(member), Book.state == BookState.AVAILABLE,  # type: ignore[arg-type]
               Book.id.not_in(already))
        .order_by(Book.title, Book.id)).unique())


def events_of(book: Book) -> list[str]:
    """The item ids of the events the book is brought to (and not yet recorded)."""
    return list(db.session.scalars(select(BookAtEvent.event_urn).where(
        BookAtEvent.book_id == book.id, BookAtEvent.recorded_at.is_(None))))


def _check_bring(actor: Member, book: Book, event: Any) -> None:
    if not book.owned_by(actor):
        raise PermissionDenied(_l("Only the owner of this book can bring it to a swap."))
    if not is_swap(event):
        raise DomainError(_l("This event is not a book swap."), field="event")
    if event.status == "cancelled":
        raise DomainError(_l("This book swap is cancelled."), field="event")
    if event.is_past():
        raise DomainError(_l("This book swap is over."), field="event")


def bring(actor: Member, book: Book, event: Any) -> BookAtEvent:
    """Mark the book as brought to the event."""
    _check_bring(actor, book, event)
    services._lock_book(book)
    if book.state != BookState.AVAILABLE:
        raise DomainError(_l("Only a book that is offered and not on loan can go to a swap."),
                          field="book")
    refusal = _l("This book is on the list of this swap already.")
    if db.session.scalar(select(BookAtEvent.id).where(
            BookAtEvent.book_id == book.id, BookAtEvent.event_urn == event.urn)) is not None:
        raise DomainError(refusal, field="book")
    row = BookAtEvent(book_id=book.id, event_urn=event.urn, added_by_id=actor.id,
                      added_at=utcnow())
    row.book = book
    db.session.add(row)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # a concurrent post got there first
        raise DomainError(refusal, field="book") from None
    return row


def unbring(actor: Member, book: Book, event: Any) -> None:
    """Take the book off the event's list (before the event is over)."""
    _check_bring(actor, book, event)
    row = db.session.scalar(select(BookAtEvent).where(
        BookAtEvent.book_id == book.id, BookAtEvent.event_urn == event.urn))
    if row is None or row.recorded_at is not None:
        raise DomainError(_l("This book is not on the list of this swap."), field="book")
    db.session.delete(row)
    db.session.flush()


# --- After the event ------------------------------------------------------------------------


def may_record(actor: Member | None, event: Any) -> bool:
    return _member(actor) and is_swap(event) and bool(event.can_edit(actor))


def record_open(event: Any) -> bool:
    return event.starts_at <= utcnow() and event.status != "cancelled"


@dataclass
class RowChoice:
    """One line of the record form."""

    row_id: int
    outcome: str = Outcome.STAYED
    member_code: str = ""
    due_date: date | None = None


class RowErrors(DomainError):
    """Some lines are refused: ``rows`` maps each brought row's id to its reason."""

    def __init__(self, rows: dict[int, Any]) -> None:
        super().__init__(_l("Some lines need a correction; nothing is recorded yet."))
        self.rows = rows


def _receiver(code: str, book: Book) -> Member:
    code = codes.normalise(code or "")
    if not code:
        raise DomainError(_l("Give the account code of the member who got the book."))
    member = db.session.scalar(select(Member).where(Member.account_code == code))
    if member is None or not member.is_active:
        raise DomainError(_l("No active member has the account code %(code)s.", code=code))
    if book.owned_by(member):
        raise DomainError(_l("%(name)s owns this book: choose \u201cstayed with its owner\u201d.",
                             name=member.display_name))
    return member


def _record_row(actor: Member, event: Any, row: BookAtEvent, choice: RowChoice) -> None:
    book = row.book
    if choice.outcome not in OUTCOMES.get(book.mode, ()):
        raise DomainError(_l("A book to lend is lent or goes home again.")
                          if book.mode == Mode.LEND else
                          _l("A book to give away or swap is not lent."))
    receiver = None if choice.outcome == Outcome.STAYED else _receiver(choice.member_code,
                                                                       book)
    claimed = db.session.execute(
        update(BookAtEvent).where(BookAtEvent.id == row.id, BookAtEvent.recorded_at.is_(None))
        .values(recorded_at=utcnow(), recorded_by_id=actor.id, outcome=choice.outcome,
                receiver_id=receiver.id if receiver else None)
        .execution_options(synchronize_session=False))
    if not claimed.rowcount:  # type: ignore[attr-defined]
        raise DomainError(_l("This book has been recorded already."))
    if receiver is None:
        return
    req = db.session.scalar(select(BookRequest).where(
        BookRequest.book_id == book.id, BookRequest.requester_id == receiver.id,
        BookRequest.open_key.is_not(None)))
    if req is None:
        note = _l("At the book swap \u201c%(title)s\u201d.", title=event.title)
        req = services.open_request(book, receiver, str(note))
    if req.state == RequestState.OPEN:
        services.accept_request(req, choice.due_date)
    if not book.price:  # a priced book waits for its receiver to confirm and pay
        services.hand_over_request(req, to_shelf=True)
    db.session.execute(update(BookAtEvent).where(BookAtEvent.id == row.id)
                       .values(request_id=req.id).execution_options(synchronize_session=False))


def record(actor: Member, event: Any, choices: Sequence[RowChoice]) -> int:
    """Record what became of the brought books, all lines or none. Returns the number of
    books that changed hands (or wait for their receiver's confirmation)."""
    if not may_record(actor, event):
        raise PermissionDenied(_l("Only the organisers of this event record the swap."))
    if not record_open(event):
        raise DomainError(_l("What changed hands is recorded once the swap has begun."))
    if not choices:
        raise DomainError(_l("There is no book to record."))
    rows = {r.id: r for r in brought(event)}
    errors: dict[int, Any] = {}
    moved = 0
    for choice in choices:
        row = rows.get(choice.row_id)
        if row is None:
            continue
        if row.recorded_at is not None:
            errors[row.id] = _l("This book has been recorded already.")
            continue
        try:
            with db.session.begin_nested():
                _record_row(actor, event, row, choice)
        except DomainError as error:
            errors[row.id] = error.message
            continue
        moved += choice.outcome != Outcome.STAYED
    if errors:
        raise RowErrors(errors)
    audit.record(actor, "book.swap_record", target_type="event", target_id=event.urn,
                 target_label=event.title, details={"books": len(choices), "moved": moved})
    db.session.expire_all()
    return moved
