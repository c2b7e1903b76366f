"""Books on members' shelves and the requests for them.

A book is owned by a member or by a member organisation (whose intermediaries act for
it). Its state changes only through the named functions in
:mod:`lets_site.books.services`:

    available --request/accept--> (accepted request) --hand over--> on_loan --return--> available
                                                       (give, swap) --hand over--> closed
    available <--shelve/list--> shelved (kept, not offered)

"Only once" is kept by the database, not by luck: ``BookRequest.open_key`` is set to
"<book>-<requester>" while a request is open, accepted or on loan, and is UNIQUE, so a
member has one open request per book however many clients post at once;
``BookRequest.busy_book`` is the book's id while a request is accepted or the book is on
loan, and is UNIQUE, so one request at a time can be handed over. Both are NULL (and
NULLs never clash) once a request is finished.
"""

from __future__ import annotations

import enum
import unicodedata
import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db
from lets_site.members.models import Member
from lets_site.organisations.models import Organisation


class Mode(enum.StrEnum):
    GIVE = "give"
    LEND = "lend"
    SWAP = "swap"


class BookState(enum.StrEnum):
    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    SHELVED = "shelved"  # on the owner's shelf, not offered
    CLOSED = "closed"  # given or swapped away


class Visibility(enum.StrEnum):
    MEMBERS = "members"
    PUBLIC = "public"


class RequestState(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    HANDED_OVER = "handed_over"  # a loan: the borrower has it; give/swap: done
    RETURNED = "returned"


ACTIVE_REQUEST_STATES = (RequestState.OPEN, RequestState.ACCEPTED)


def fold(text: str) -> str:
    """Lower case without accents: "Élise" -> "elise"; the search column is kept so."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _new_uuid() -> str:
    return str(uuid.uuid4())


class Book(db.Model):
    __tablename__ = "book"
    __table_args__ = (
        CheckConstraint("(owner_member_id IS NULL) <> (owner_org_id IS NULL)",
                        name="book_one_owner"),
        CheckConstraint("price IS NULL OR price > 0", name="book_price_positive"),
        Index("ix_book_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=_new_uuid)
    title: Mapped[str] = mapped_column(String(200))
    authors: Mapped[str] = mapped_column(String(200), default="")
    isbn: Mapped[str | None] = mapped_column(String(13), index=True)  # ISBN-13, digits
    language: Mapped[str] = mapped_column(String(8), default="nl")
    genre: Mapped[str] = mapped_column(String(16), default="other")
    condition: Mapped[str] = mapped_column(String(12), default="good")
    note: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[str] = mapped_column(String(8), default=Mode.GIVE)
    # In the ledger's smallest unit (as transfers); None: free.
    price: Mapped[int | None] = mapped_column(Integer)
    visibility: Mapped[str] = mapped_column(String(8), default=Visibility.MEMBERS)
    state: Mapped[str] = mapped_column(String(12), default=BookState.AVAILABLE)
    owner_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True)
    owner_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    # The cover photo (lets_site/photos.py, folder "books"): its key, its size and the
    # size of its thumbnail.
    cover_key: Mapped[str | None] = mapped_column(String(64), index=True)
    cover_width: Mapped[int | None] = mapped_column(Integer)
    cover_height: Mapped[int | None] = mapped_column(Integer)
    cover_thumb_width: Mapped[int | None] = mapped_column(Integer)
    cover_thumb_height: Mapped[int | None] = mapped_column(Integer)
    # What the full-text search looks in (books/search.py), folded (see fold), best first:
    # the title and the ISBN-13, the authors, the note.
    search_text: Mapped[str] = mapped_column(Text, default="")
    search_authors: Mapped[str] = mapped_column(Text, default="")
    search_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner_member: Mapped[Member | None] = relationship(foreign_keys=[owner_member_id],
                                                       lazy="joined")
    owner_org: Mapped[Organisation | None] = relationship(lazy="joined")

    @property
    def urn(self) -> str:
        return f"urn:uuid:{self.uuid}"

    @property
    def owner_code(self) -> str | None:
        """The ledger account the price is paid to."""
        if self.owner_org is not None:
            return self.owner_org.account_code
        return self.owner_member.account_code if self.owner_member is not None else None

    @property
    def owner_name(self) -> str:
        if self.owner_org is not None:
            return self.owner_org.name
        return self.owner_member.display_name if self.owner_member is not None else ""

    def owned_by(self, member: Member | None) -> bool:
        """The member owns it, or is an intermediary of the organisation that does."""
        if member is None or not member.is_authenticated:
            return False
        if self.owner_org_id is not None:
            return self.owner_org is not None and self.owner_org.has_intermediary(member)
        return self.owner_member_id == member.id

    def can_edit(self, member: Member | None) -> bool:
        if member is None or not member.is_authenticated:
            return False
        return bool(member.is_admin) or self.owned_by(member)

    def can_view(self, viewer: Member | None) -> bool:
        if self.state in (BookState.SHELVED, BookState.CLOSED):
            return self.can_edit(viewer)
        if self.visibility == Visibility.PUBLIC:
            return True
        return viewer is not None and bool(viewer.is_authenticated)

    def can_request(self, viewer: Member | None) -> bool:
        """Members ask for books that are offered and not their own."""
        if viewer is None or not viewer.is_authenticated:
            return False
        return (self.state in (BookState.AVAILABLE, BookState.ON_LOAN)
                and not self.owned_by(viewer))

    def __repr__(self) -> str:
        return f"<Book {self.id} {self.title!r}>"


class BookRequest(db.Model):
    """A member asks for a book; its state records what became of it (the history of a
    book is its requests)."""

    __tablename__ = "book_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("book.id", ondelete="CASCADE"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"),
                                              index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(12), default=RequestState.OPEN)
    # "<book id>-<requester id>" while open, accepted or on loan; NULL after. UNIQUE.
    open_key: Mapped[str | None] = mapped_column(String(24), unique=True)
    # The book's id while accepted or on loan; NULL otherwise. UNIQUE: one at a time.
    busy_book: Mapped[int | None] = mapped_column(Integer, unique=True)
    due_date: Mapped[date | None] = mapped_column(Date)  # loans
    # The ledger transfer that paid the price (its uid), if there was a price.
    transfer_uid: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    book: Mapped[Book] = relationship(lazy="joined")
    requester: Mapped[Member] = relationship(lazy="joined")

    @property
    def is_loan(self) -> bool:
        return self.state == RequestState.HANDED_OVER and self.due_date is not None \
            and self.returned_at is None and self.book.mode == Mode.LEND

    def overdue(self, today: date) -> bool:
        return self.is_loan and self.due_date is not None and self.due_date < today


class Outcome(enum.StrEnum):
    """What became of a book brought to a swap event."""

    STAYED = "stayed"  # went home with its owner
    GIVEN = "given"
    SWAPPED = "swapped"
    LENT = "lent"


class BookAtEvent(db.Model):
    """A book its owner brings to a book-swap event, and, once the organiser recorded
    the event, what became of it. The event is named by its item id (``urn:uuid:...``,
    stable, from the feature contract), not by a key into the events feature's table.
    UNIQUE (book, event): a book is brought once per event."""

    __tablename__ = "book_at_event"
    __table_args__ = (
        UniqueConstraint("book_id", "event_urn", name="uq_book_at_event_book_event"),
        Index("ix_book_at_event_event", "event_urn"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("book.id", ondelete="CASCADE"))
    event_urn: Mapped[str] = mapped_column(String(45))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id",
                                                               ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set once, when the organiser records what changed hands (None before).
    outcome: Mapped[str | None] = mapped_column(String(8))
    receiver_id: Mapped[int | None] = mapped_column(ForeignKey("member.id",
                                                               ondelete="SET NULL"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("book_request.id",
                                                              ondelete="SET NULL"))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id",
                                                                  ondelete="SET NULL"))

    book: Mapped[Book] = relationship(lazy="joined")
    receiver: Mapped[Member | None] = relationship(foreign_keys=[receiver_id],
                                                   lazy="joined")
    request: Mapped[BookRequest | None] = relationship(lazy="select")
