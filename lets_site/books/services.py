"""Business rules for book swaps: listing books, requests, hand-overs, loans and their
return, browsing and ranked search (books/search.py). Services flush, never commit; views
commit once. Swap events are in books/swaps.py.

Money: a book's price is paid by the receiver to the owner through the ledger's
``pay`` service (its one booking function underneath), in the same transaction as the
hand-over, with the idempotency key ``book-request-<id>`` (:func:`payment_key`): a
hand-over posted twice books the price once, and a refused payment (a limit) refuses the
hand-over with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, lazyload

from lets_site import features, signals
from lets_site.audit import services as audit
from lets_site.books import covers, search
from lets_site.books import isbn as isbns
from lets_site.books.models import (
    ACTIVE_REQUEST_STATES,
    Book,
    BookAtEvent,
    BookRequest,
    BookState,
    Mode,
    RequestState,
    Visibility,
)
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger import services as ledger
from lets_site.mail import external_url
from lets_site.members.mailing import mail_to
from lets_site.members.models import Member
from lets_site.organisations import services as organisations
from lets_site.organisations.models import Organisation
from lets_site.search import terms

PAGE_SIZE = 20
TITLE_MAX = 200
AUTHORS_MAX = 200
NOTE_MAX = 2000
MESSAGE_MAX = 2000
QUERY_MAX = 200
ISBN_IDS = 500  # books found by part of an ISBN, looked up by their id
MAX_ID = 2**31 - 1
DEFAULT_LOAN = timedelta(days=28)
MAX_LOAN = timedelta(days=366)

LANGUAGES = ("nl", "fr", "en", "de", "other")
GENRES = ("novel", "crime", "children", "youth", "comics", "poetry", "nonfiction",
          "history", "cooking", "garden", "travel", "other")
CONDITIONS = ("new", "good", "worn")


@dataclass
class BookData:
    title: str
    authors: str = ""
    isbn: str = ""
    language: str = "nl"
    genre: str = "other"
    condition: str = "good"
    note: str = ""
    mode: str = Mode.GIVE
    price: Decimal | None = None  # in units as typed; None or 0: free
    visibility: str = Visibility.MEMBERS
    cover: IO[bytes] | None = None  # a new cover photo (an upload); books/covers.py
    remove_cover: bool = False


@dataclass
class Filters:
    q: str = ""
    language: str = ""
    genre: str = ""
    mode: str = ""
    page: int = 1


@dataclass
class BookPage:
    items: list[Book]
    page: int
    has_next: bool
    filters: Filters = field(default_factory=Filters)


# --- Look-ups -------------------------------------------------------------------------------


# The notification kinds this feature sends (members may switch them off; feature.py).
REQUESTED = "books.requested"
DUE_BACK = "books.due_back"
DUE_NOTICE = timedelta(days=2)  # the borrower is reminded this long before the due date


def due_back_notices(now: datetime) -> list[features.Notice]:
    """Loans due back within two days (or overdue): a reminder to the borrower, once per
    loan."""
    today = now.date()
    loans = db.session.scalars(select(BookRequest).where(
        BookRequest.state == RequestState.HANDED_OVER, BookRequest.due_date.is_not(None),
        BookRequest.due_date <= today + DUE_NOTICE).order_by(BookRequest.due_date))
    return [features.Notice(
        recipient=loan.requester,
        subject=_l("Please bring \"%(title)s\" back", title=loan.book.title),
        template="books/mail/due_back.txt", once=f"loan:{loan.id}",
        reply_to=(loan.book.owner_member.email or None) if loan.book.owner_member else None,
        context={"loan": loan, "book": loan.book,
                 "url": external_url("books.detail", book_id=loan.book.id)})
        for loan in loans if loan.is_loan]


def _load(book_id: int) -> Book | None:
    return db.session.get(Book, book_id) if 0 < book_id <= MAX_ID else None


def get_book(book_id: int, viewer: Member | None) -> Book:
    """A book this viewer may see. Shelved and given-away books only for their editors;
    members-only books raise PermissionDenied for visitors (the view sends them to log
    in)."""
    book = _load(book_id)
    if book is None or (book.state in (BookState.SHELVED, BookState.CLOSED)
                        and not book.can_edit(viewer)):
        raise NotFound(_l("There is no such book."))
    if not book.can_view(viewer):
        raise PermissionDenied(_l("Only members of the group can see this book."))
    return book


def get_for_edit(book_id: int, actor: Member) -> Book:
    book = _load(book_id)
    if book is None:
        raise NotFound(_l("There is no such book."))
    _check_can_edit(actor, book)
    return book


def get_request(request_id: int) -> BookRequest:
    req = db.session.get(BookRequest, request_id) if 0 < request_id <= MAX_ID else None
    if req is None:
        raise NotFound(_l("There is no such request."))
    return req


def owner_choices(member: Member) -> list[Organisation]:
    """The organisations this member may list books for (their intermediary roles)."""
    return organisations.organisations_for(member)


def requests_for(book: Book, viewer: Member | None) -> list[BookRequest]:
    """The book's requests: all of them for its editors, the viewer's own for others."""
    stmt = select(BookRequest).where(BookRequest.book_id == book.id)
    if not book.can_edit(viewer):
        if viewer is None or not getattr(viewer, "is_authenticated", False):
            return []
        stmt = stmt.where(BookRequest.requester_id == viewer.id)
    return list(db.session.scalars(stmt.order_by(BookRequest.created_at, BookRequest.id)))


# --- Checks ---------------------------------------------------------------------------------


def _check_can_edit(actor: Member, book: Book) -> None:
    if not book.can_edit(actor):
        raise PermissionDenied(_l("Only the owner of this book can change it."))


def _audit_if_admin(actor: Member, book: Book, action: str) -> None:
    """Admins may act on anyone's book; that is written in the audit log."""
    if actor.is_admin and not book.owned_by(actor):
        audit.record(actor, f"book.{action}", target_type="book", target_id=str(book.id),
                     target_label=book.title)


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def _price(value: Decimal | None) -> int | None:
    if value is None or value == 0:
        return None
    if value < 0:
        raise DomainError(_l("The price cannot be negative."), field="price")
    return ledger.parse_amount(format(value, "f"), fieldname="price")


def _apply(book: Book, data: BookData) -> None:
    title = _one_line(data.title)
    if not title:
        raise DomainError(_l("Fill in the title."), field="title")
    if len(title) > TITLE_MAX:
        raise DomainError(_l("Make the title shorter (at most %(n)d characters).",
                             n=TITLE_MAX), field="title")
    authors = _one_line(data.authors)
    if len(authors) > AUTHORS_MAX:
        raise DomainError(_l("Make this shorter (at most %(n)d characters).", n=AUTHORS_MAX),
                          field="authors")
    number = None
    if (data.isbn or "").strip():
        number = isbns.to_isbn13(data.isbn)
        if number is None:
            raise DomainError(_l("This is not a valid ISBN: check the digits (ISBN-10 or "
                                 "ISBN-13, hyphens and spaces are fine)."), field="isbn")
    for name, value, allowed, message in (
        ("language", data.language, LANGUAGES, _l("Choose a language from the list.")),
        ("genre", data.genre, GENRES, _l("Choose a genre from the list.")),
        ("condition", data.condition, CONDITIONS, _l("Choose a condition from the list.")),
        ("mode", data.mode, tuple(Mode), _l("Choose give away, lend or swap.")),
        ("visibility", data.visibility, tuple(Visibility),
         _l("Choose who can see this book.")),
    ):
        if value not in allowed:
            raise DomainError(message, field=name)
    note = (data.note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError(_l("Make the note shorter."), field="note")
    if data.mode != book.mode and book.state == BookState.ON_LOAN:
        raise DomainError(_l("This book is on loan: change how you offer it after it is "
                             "returned."), field="mode")
    book.title, book.authors, book.isbn = title, authors, number
    book.language, book.genre, book.condition = data.language, data.genre, data.condition
    book.note, book.mode, book.visibility = note, data.mode, data.visibility
    book.price = _price(data.price)
    covers.apply(book, data.cover, data.remove_cover)
    search.fill(book)
    book.updated_at = utcnow()


# --- Books ----------------------------------------------------------------------------------


def create_book(actor: Member, data: BookData, *,
                organisation: Organisation | None = None) -> Book:
    """A new book on ``actor``'s shelf, or on the organisation's when they act for it."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(_l("Log in to add a book."))
    if organisation is not None and not organisation.can_act_for(actor):
        raise PermissionDenied(_l("You are not an intermediary of this organisation."))
    book = Book(owner_member_id=None if organisation else actor.id,
                owner_org_id=organisation.id if organisation else None,
                state=BookState.AVAILABLE, created_at=utcnow())
    book.owner_member = None if organisation else actor
    book.owner_org = organisation
    _apply(book, data)
    db.session.add(book)
    db.session.flush()
    if organisation is not None and not organisation.has_intermediary(actor):
        _audit_if_admin(actor, book, "create")
    signals.book_listed.send(book, actor=actor)
    return book


def add_many(actor: Member, books: list[BookData], *,
             organisation: Organisation | None = None) -> list[Book]:
    """The good rows of a bulk add, all in this one transaction (a row refused here after
    all refuses the whole add: nothing half-written)."""
    if not books:
        raise DomainError(_l("There is no book to add: correct the rows and preview again."))
    return [create_book(actor, data, organisation=organisation) for data in books]


def update_book(actor: Member, book: Book, data: BookData) -> Book:
    _check_can_edit(actor, book)
    _apply(book, data)
    db.session.flush()
    _audit_if_admin(actor, book, "edit")
    return book


def shelve(actor: Member, book: Book) -> Book:
    """Keep the book on the shelf without offering it (open requests are declined)."""
    _check_can_edit(actor, book)
    _lock_book(book)
    if book.state != BookState.AVAILABLE:
        raise DomainError(_l("Only a book that is offered and not on loan can be taken "
                             "off the list."))
    _finish_others(book, None)
    book.state = BookState.SHELVED
    book.updated_at = utcnow()
    db.session.flush()
    _audit_if_admin(actor, book, "shelve")
    return book


def offer(actor: Member, book: Book) -> Book:
    """Offer a shelved book again."""
    _check_can_edit(actor, book)
    if book.state != BookState.SHELVED:
        raise DomainError(_l("This book is offered already, or it was given away."))
    book.state = BookState.AVAILABLE
    book.updated_at = utcnow()
    db.session.flush()
    _audit_if_admin(actor, book, "offer")
    signals.book_listed.send(book, actor=actor)
    return book


# --- Requests and hand-overs ----------------------------------------------------------------


def _lock_book(book: Book) -> None:
    """Requests of one book take turns: a row lock on PostgreSQL (SQLite's write
    transactions already do); the book's state is read fresh."""
    stmt = (select(Book).options(lazyload(Book.owner_member), lazyload(Book.owner_org))
            .where(Book.id == book.id))
    if db.session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(of=Book)
    db.session.scalars(stmt.execution_options(populate_existing=True)).all()


def _fresh(req: BookRequest) -> None:
    db.session.refresh(req)


def _flush_unique(message: Any, fieldname: str | None = None) -> None:
    """Flush in a savepoint: a UNIQUE clash (a concurrent request got there first) is a
    refusal with ``message``, and the transaction goes on."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise DomainError(message, field=fieldname) from None


def request_book(actor: Member, book: Book, message: str) -> BookRequest:
    """Ask for a book, with a message to its owner. One open request per member per book;
    several members may queue."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(_l("Log in to ask for a book."))
    if not book.can_view(actor):
        raise NotFound(_l("There is no such book."))
    if book.owned_by(actor):
        raise DomainError(_l("This is your own book."))
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX:
        raise DomainError(_l("Make your message shorter."), field="message")
    req = open_request(book, actor, message)
    signals.book_requested.send(req, actor=actor)
    recipients = ([i.member for i in book.owner_org.intermediaries] if book.owner_org
                  else [book.owner_member])
    url = external_url("books.detail", book_id=book.id)
    for person in recipients:
        if person is not None:
            mail_to(person, _l("Request for \"%(title)s\"", title=book.title),
                    "books/mail/request.txt", reply_to=actor.email or None, book=book,
                    requester=actor, message=message, url=url, recipient=person,
                    kind=REQUESTED)
    return req


def open_request(book: Book, requester: Member, message: str) -> BookRequest:
    """The request itself, without the owner's mail (a swap event's record opens one for
    the receiver): the book is offered, one open request per member per book."""
    _lock_book(book)
    if book.state not in (BookState.AVAILABLE, BookState.ON_LOAN):
        raise DomainError(_l("This book is no longer offered."))
    already = db.session.scalar(select(BookRequest.id).where(
        BookRequest.book_id == book.id, BookRequest.requester_id == requester.id,
        BookRequest.open_key.is_not(None)))
    refusal = _l("You have asked for this book already; wait for the owner's answer.")
    if already is not None:
        raise DomainError(refusal)
    req = BookRequest(book_id=book.id, requester_id=requester.id, message=message,
                      state=RequestState.OPEN, open_key=f"{book.id}-{requester.id}",
                      created_at=utcnow())
    req.book, req.requester = book, requester
    db.session.add(req)
    _flush_unique(refusal)
    return req


def _check_owner_side(actor: Member, book: Book) -> None:
    if not book.can_edit(actor):
        raise PermissionDenied(_l("Only the owner of this book can do this."))


def accept(actor: Member, req: BookRequest, due_date: date | None = None) -> BookRequest:
    """The owner says yes. A loan gets a due date (four weeks when none is given). One
    request of a book is accepted at a time."""
    _check_owner_side(actor, req.book)
    accept_request(req, due_date)
    _audit_if_admin(actor, req.book, "accept")
    signals.book_accepted.send(req, actor=actor)
    return req


def accept_request(req: BookRequest, due_date: date | None = None) -> BookRequest:
    """:func:`accept` once the actor's right to answer is checked (the owner's, or a swap
    event's organiser recording it)."""
    book = req.book
    _lock_book(book)
    _fresh(req)
    if req.state != RequestState.OPEN:
        raise DomainError(_l("This request is no longer open."))
    if book.state == BookState.ON_LOAN:
        raise DomainError(_l("This book is on loan: accept a request when it is back."))
    if book.state != BookState.AVAILABLE:
        raise DomainError(_l("This book is no longer offered."))
    if book.mode == Mode.LEND:
        today = utcnow().date()
        due_date = due_date or today + DEFAULT_LOAN
        if due_date <= today:
            raise DomainError(_l("Choose a return date after today."), field="due_date")
        if due_date > today + MAX_LOAN:
            raise DomainError(_l("A loan lasts at most a year."), field="due_date")
        req.due_date = due_date
    else:
        req.due_date = None
    req.state = RequestState.ACCEPTED
    req.busy_book = book.id
    req.decided_at = utcnow()
    _flush_unique(_l("You have accepted another request for this book already."))
    return req


def decline(actor: Member, req: BookRequest) -> BookRequest:
    _check_owner_side(actor, req.book)
    _lock_book(req.book)
    _fresh(req)
    if req.state not in ACTIVE_REQUEST_STATES:
        raise DomainError(_l("This request is no longer open."))
    _finish(req, RequestState.DECLINED)
    db.session.flush()
    _audit_if_admin(actor, req.book, "decline")
    return req


def cancel(actor: Member, req: BookRequest) -> BookRequest:
    """The requester changes their mind."""
    if req.requester_id != actor.id:
        raise PermissionDenied(_l("Only who asked can withdraw this request."))
    _lock_book(req.book)
    _fresh(req)
    if req.state not in ACTIVE_REQUEST_STATES:
        raise DomainError(_l("This request is no longer open."))
    _finish(req, RequestState.CANCELLED)
    db.session.flush()
    return req


def _finish(req: BookRequest, state: str) -> None:
    req.state = state
    req.open_key = None
    req.busy_book = None
    req.decided_at = req.decided_at or utcnow()


def _finish_others(book: Book, keep: BookRequest | None) -> None:
    """The book is gone (or off the list): the other open requests are declined."""
    others = db.session.scalars(select(BookRequest).where(
        BookRequest.book_id == book.id, BookRequest.state.in_(ACTIVE_REQUEST_STATES)))
    for other in others:
        if keep is None or other.id != keep.id:
            _finish(other, RequestState.DECLINED)


def hand_over(actor: Member, req: BookRequest, *, to_shelf: bool = False) -> BookRequest:
    """The book changes hands. A loan starts (due date set on accepting); a book given or
    swapped closes for the owner and, with ``to_shelf``, joins the receiver's shelf. A
    price is paid by the receiver to the owner in this same transaction, so only the
    receiver records the hand-over of a priced book (a free one: either side)."""
    book = req.book
    receiver = req.requester
    if not (book.can_edit(actor) or actor.id == receiver.id):
        raise PermissionDenied(_l("Only the owner and who asked record a hand-over."))
    if book.price and actor.id != receiver.id:
        raise DomainError(_l("This book has a price: who receives it confirms the "
                             "hand-over, and pays with it."))
    hand_over_request(req, to_shelf=to_shelf, receiver_confirms=actor.id == receiver.id)
    _audit_if_admin(actor, book, "hand_over")
    return req


def hand_over_request(req: BookRequest, *, to_shelf: bool = False,
                      receiver_confirms: bool = False) -> BookRequest:
    """:func:`hand_over` once the actor's right to record it is checked; a price is paid by
    the receiver, so only a hand-over the receiver confirms may carry one."""
    book = req.book
    receiver = req.requester
    if book.price and not receiver_confirms:
        raise DomainError(_l("This book has a price: who receives it confirms the "
                             "hand-over, and pays with it."))
    _lock_book(book)
    _fresh(req)
    if req.state == RequestState.HANDED_OVER:
        raise DomainError(_l("This book has been handed over already."))
    if book.state == BookState.ON_LOAN:
        raise DomainError(_l("This book is on loan: it can be handed over again after it "
                             "is returned."))
    if req.state != RequestState.ACCEPTED:
        raise DomainError(_l("The owner accepts a request before the book is handed over."))
    if book.state != BookState.AVAILABLE:
        raise DomainError(_l("This book is no longer offered."))
    # Only one of two simultaneous hand-overs changes the row (PostgreSQL: the second waits
    # for the first's row lock and then finds the state changed).
    now = utcnow()
    changed = db.session.execute(
        update(BookRequest)
        .where(BookRequest.id == req.id, BookRequest.state == RequestState.ACCEPTED)
        .values(state=RequestState.HANDED_OVER, handed_over_at=now)
        .execution_options(synchronize_session=False))
    if not changed.rowcount:  # type: ignore[attr-defined]
        raise DomainError(_l("This book has been handed over already."))
    _fresh(req)
    if book.price:
        booked = _pay(receiver, book, req)
        req.transfer_uid = booked.transfer.uid
    if book.mode == Mode.LEND:
        book.state = BookState.ON_LOAN
    else:
        _finish(req, RequestState.HANDED_OVER)
        _finish_others(book, req)
        book.state = BookState.CLOSED
        if to_shelf:
            _copy_to_shelf(book, receiver)
    book.updated_at = now
    db.session.flush()
    return req


def payment_key(req: BookRequest) -> str:
    """The ledger idempotency key of a request's price: the same hand-over posted twice
    books it once."""
    return f"book-request-{req.id:012d}"


def _pay(receiver: Member, book: Book, req: BookRequest) -> Any:
    return ledger.pay(receiver, receiver.account_code or "", book.owner_code or "",
                      book.price or 0, str(_l("Book: %(title)s", title=book.title)),
                      payment_key(req))


def _copy_to_shelf(book: Book, member: Member) -> Book:
    copy = Book(owner_member_id=member.id, title=book.title, authors=book.authors,
                isbn=book.isbn, language=book.language, genre=book.genre,
                condition=book.condition, note="", mode=book.mode, price=None,
                visibility=Visibility.MEMBERS, state=BookState.SHELVED,
                created_at=utcnow(), updated_at=utcnow())
    search.fill(copy)
    copy.owner_member = member
    db.session.add(copy)
    return copy


def return_book(actor: Member, req: BookRequest) -> BookRequest:
    """The owner has the lent book back: it is offered again, to the next in the queue."""
    book = req.book
    _check_owner_side(actor, book)
    _lock_book(book)
    _fresh(req)
    if req.state != RequestState.HANDED_OVER or book.mode != Mode.LEND \
            or req.returned_at is not None:
        raise DomainError(_l("This book is not on loan."))
    _finish(req, RequestState.RETURNED)
    req.returned_at = utcnow()
    book.state = BookState.AVAILABLE
    book.updated_at = utcnow()
    db.session.flush()
    _audit_if_admin(actor, book, "return")
    return req


# --- Browsing and search --------------------------------------------------------------------


def _visible_to(viewer: Member | None) -> Any:
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        return True
    return Book.visibility == Visibility.PUBLIC


def _search(stmt: Select[Any], q: str) -> Select[Any]:
    """A whole valid ISBN (any form) finds the stored ISBN-13 by its index, and digits
    alone (with hyphens or not) part of one; anything else goes to the ranked full-text
    search (books/search.py), with digit groups joined first ("90-234" is "90234")."""
    q = q[:QUERY_MAX]
    number = isbns.to_isbn13(q) if isbns.looks_like_isbn(q) else None
    if number is not None:
        return stmt.where(Book.isbn == number).order_by(Book.created_at.desc(), Book.id.desc())
    digits = isbns.compact(q)
    # Part of an ISBN: digits with a hyphen, or five or more ("1984" is a title).
    if re.fullmatch(r"[\d\s-]+", q) and ("-" in q.strip() or len(digits) >= 5):
        if digits.startswith(("978", "979")) and len(digits) < 13:
            # The start of an ISBN-13: a range of the ISBN's index.
            found = (Book.isbn >= digits) & (Book.isbn < digits + ":")
        else:  # part of one, anywhere in it (the index finds words by their start only)
            found = Book.isbn.contains(digits, autoescape=True)
        # The ISBN's index finds the books first (SQLite would otherwise walk every offered
        # book by date and test each); a fragment found in many ISBNs is tested per book.
        ids = list(db.session.scalars(select(Book.id).where(found).limit(ISBN_IDS + 1)))
        if len(ids) <= ISBN_IDS:
            found = Book.id.in_(ids)
        return stmt.where(found).order_by(Book.created_at.desc(), Book.id.desc())
    dialect = db.session.get_bind().dialect.name
    return search.apply(stmt, isbns.hyphenless_digits(q), dialect)


# A list shows the book's own columns: no owners (their names load per book only where a
# page asks), no note or search text.
LIST_LOAD_OPTIONS = (lazyload(Book.owner_member), lazyload(Book.owner_org),
                     defer(Book.note), defer(Book.search_text), defer(Book.search_authors),
                     defer(Book.search_note))


def browse(viewer: Member | None, filters: Filters) -> BookPage:
    """Offered books the viewer may see, filtered and searched, newest first, one page."""
    stmt: Select[Any] = select(Book).where(
        Book.state.in_((BookState.AVAILABLE, BookState.ON_LOAN)), _visible_to(viewer))
    if filters.language in LANGUAGES:
        stmt = stmt.where(Book.language == filters.language)
    if filters.genre in GENRES:
        stmt = stmt.where(Book.genre == filters.genre)
    if filters.mode in tuple(Mode):
        stmt = stmt.where(Book.mode == filters.mode)
    if terms(filters.q):
        stmt = _search(stmt, filters.q)  # best match first
    else:
        stmt = stmt.order_by(Book.created_at.desc(), Book.id.desc())
    page = max(1, min(filters.page, 10_000))
    rows = list(db.session.scalars(
        stmt.options(*LIST_LOAD_OPTIONS)
        .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).unique())
    return BookPage(items=rows[:PAGE_SIZE], page=page, has_next=len(rows) > PAGE_SIZE,
                    filters=filters)


def newest(viewer: Member | None, limit: int) -> list[Book]:
    stmt = (select(Book).where(Book.state == BookState.AVAILABLE, _visible_to(viewer))
            .order_by(Book.created_at.desc(), Book.id.desc()).limit(max(0, limit)))
    return list(db.session.scalars(stmt).unique())


def shelf(owner: Member | Organisation, viewer: Member | None, *,
          all_states: bool = False) -> list[Book]:
    """The owner's offered books this viewer may see; with ``all_states`` (for its
    editors) the shelved and given-away ones too."""
    if isinstance(owner, Organisation):
        stmt = select(Book).where(Book.owner_org_id == owner.id)
        editor = owner.can_act_for(viewer)
    else:
        stmt = select(Book).where(Book.owner_member_id == owner.id)
        editor = viewer is not None and getattr(viewer, "is_authenticated", False) and (
            viewer.id == owner.id or viewer.is_admin)
    if not (all_states and editor):
        stmt = stmt.where(Book.state.in_((BookState.AVAILABLE, BookState.ON_LOAN)),
                          _visible_to(viewer))
    return list(db.session.scalars(stmt.order_by(Book.title, Book.id)).unique())


@dataclass
class Mine:
    shelves: list[tuple[Member | Organisation, list[Book]]]
    requests: list[BookRequest]  # what I asked for
    incoming: list[BookRequest]  # open and accepted requests for my books
    lent: list[BookRequest]  # my books on loan
    borrowed: list[BookRequest]
    today: date

    @property
    def overdue(self) -> list[BookRequest]:
        return [r for r in self.lent if r.overdue(self.today)]


def mine(member: Member) -> Mine:
    owners: list[Member | Organisation] = [member, *owner_choices(member)]
    shelves = [(owner, shelf(owner, member, all_states=True)) for owner in owners]
    org_ids = [o.id for o in owners if isinstance(o, Organisation)]
    owned = or_(Book.owner_member_id == member.id, Book.owner_org_id.in_(org_ids))
    base = select(BookRequest).join(Book, BookRequest.book_id == Book.id)
    incoming = list(db.session.scalars(
        base.where(owned, BookRequest.state.in_(ACTIVE_REQUEST_STATES))
        .order_by(BookRequest.created_at, BookRequest.id)).unique())
    lent = list(db.session.scalars(
        base.where(owned, BookRequest.state == RequestState.HANDED_OVER,
                   Book.mode == Mode.LEND, BookRequest.returned_at.is_(None))
        .order_by(BookRequest.due_date)).unique())
    requests = list(db.session.scalars(
        select(BookRequest).where(BookRequest.requester_id == member.id)
        .order_by(BookRequest.created_at.desc()).limit(50)).unique())
    borrowed = [r for r in requests if r.is_loan]
    return Mine(shelves=shelves, requests=requests, incoming=incoming, lent=lent,
                borrowed=borrowed, today=utcnow().date())


def count_books() -> int:
    return db.session.scalar(select(func.count(Book.id))) or 0


# --- A member's data download ---------------------------------------------------------------


def export_section(member: Member) -> dict[str, Any]:
    books = db.session.scalars(select(Book).where(Book.owner_member_id == member.id)
                               .order_by(Book.id))
    requests = db.session.scalars(select(BookRequest).where(
        BookRequest.requester_id == member.id).order_by(BookRequest.id))
    return {
        "books": [{"id": b.urn, "title": b.title, "authors": b.authors, "isbn": b.isbn,
                   "language": b.language, "genre": b.genre, "condition": b.condition,
                   "note": b.note, "mode": b.mode, "price": b.price, "state": b.state,
                   "visibility": b.visibility, "created_at": b.created_at.isoformat()}
                  for b in books],
        "requests": [{"book": r.book.urn, "title": r.book.title, "state": r.state,
                      "message": r.message, "due_date": r.due_date.isoformat()
                      if r.due_date else None, "created_at": r.created_at.isoformat()}
                     for r in requests],
        # Their books brought to book swaps (the event by its item id), and what became
        # of them.
        "swaps": [{"book": row.book.urn, "title": row.book.title, "event": row.event_urn,
                   "brought_at": row.added_at.isoformat(), "outcome": row.outcome}
                  for row in db.session.scalars(
                      select(BookAtEvent).join(Book, BookAtEvent.book_id == Book.id)
                      .where(Book.owner_member_id == member.id).order_by(BookAtEvent.id))],
    }
