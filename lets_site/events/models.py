"""Events and their registrations.

An event has an organiser (a member with the role organiser, or an admin) and may have
co-organising members (hosts) who edit it too. Its status (scheduled, postponed,
cancelled) changes only through :mod:`lets_site.events.services`; a cancelled event stays
visible, marked. Times are stored in UTC and entered and shown in the group's time zone.

A registration is a member's (``member_id``) or a non-member's (``name`` and ``email``,
confirmed by a mailed link). One row per member (or e-mail address) per event, kept when
they unregister (state ``cancelled``) and reused when they register again: the UNIQUE
constraints make "only once" a rule of the database. ``position`` orders the waiting
list; it comes from the event's counter, taken while the event's row is locked.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
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
from lets_site.members.models import Member, Role
from lets_site.partners.models import Partner


class Kind(enum.StrEnum):
    FILM = "film"
    WORKSHOP = "workshop"
    BOOK_SWAP = "book_swap"
    INTRO_EVENING = "intro_evening"
    MARKET = "market"
    FESTIVAL_STAND = "festival_stand"
    MEETING = "meeting"
    OTHER = "other"


class Status(enum.StrEnum):
    SCHEDULED = "scheduled"
    POSTPONED = "postponed"
    CANCELLED = "cancelled"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"


class PriceKind(enum.StrEnum):
    FREE = "free"
    EURO = "euro"  # only shown
    UNITS = "units"  # paid through the ledger when the organiser marks attendance


class RegState(enum.StrEnum):
    PENDING = "pending"  # a non-member who has not yet followed the mailed link
    REGISTERED = "registered"
    WAITING = "waiting"
    CANCELLED = "cancelled"


ACTIVE_STATES = (RegState.REGISTERED, RegState.WAITING)


def new_uuid() -> str:
    return str(uuid.uuid4())


def may_organise(member: Member | None) -> bool:
    """Members with the role organiser, and admins, create events."""
    if member is None or not member.is_authenticated:
        return False
    return bool(member.is_admin or member.has_role(Role.ORGANISER))


class EventHost(db.Model):
    """A co-organising member: edits the event like its organiser."""

    __tablename__ = "event_host"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"),
                                          primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"),
                                           primary_key=True, index=True)
    member: Mapped[Member] = relationship(lazy="joined")


class EventPartner(db.Model):
    """A co-organising partner (lets_site/partners), linked from the event's page; the
    partner's page lists its events (a panel for the PARTNER place)."""

    __tablename__ = "event_partner"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"),
                                          primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)
    partner: Mapped[Partner] = relationship(lazy="joined")


class Event(db.Model):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("price_amount IS NULL OR price_amount >= 0", name="price_not_negative"),
        Index("ix_event_starts", "starts_at"),
        Index("ix_event_visibility_starts", "visibility", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The iCalendar UID and the federation's id: made once, never changed.
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default=Kind.OTHER, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    venue_name: Mapped[str] = mapped_column(String(120), default="")
    venue_address: Mapped[str] = mapped_column(String(200), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    # Other co-organisers, by name (one per line): those not in the partners list.
    partner_names: Mapped[str] = mapped_column(Text, default="")
    # Neighbouring groups invited, by name (one per line).
    guests: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(8), default=Visibility.PUBLIC)
    open_to_non_members: Mapped[bool] = mapped_column(Boolean, default=False)
    price_kind: Mapped[str] = mapped_column(String(8), default=PriceKind.FREE)
    # Euro cents, or hundredths of the group's unit; None when free.
    price_amount: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=Status.SCHEDULED)
    # None: no registration. Otherwise the number of places.
    capacity: Mapped[int | None] = mapped_column(Integer)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Hands out waiting-list positions (taken while the event's row is locked).
    queue_counter: Mapped[int] = mapped_column(Integer, default=0)
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("member.id",
                                                                ondelete="SET NULL"),
                                                     index=True)
    # Occurrences of one recurring series share this id (the first occurrence's uuid).
    series: Mapped[str | None] = mapped_column(String(36), index=True)
    # Grows with every change of what a calendar shows (services.py), not with
    # registrations: the iCalendar SEQUENCE is revision - 1.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organiser: Mapped[Member | None] = relationship(lazy="joined")
    hosts: Mapped[list[EventHost]] = relationship(cascade="all, delete-orphan",
                                                  lazy="selectin")
    partner_links: Mapped[list[EventPartner]] = relationship(cascade="all, delete-orphan",
                                                             lazy="selectin")

    # Questions ---------------------------------------------------------------------------
    @property
    def urn(self) -> str:
        return f"urn:uuid:{self.uuid}"

    @property
    def sequence(self) -> int:
        return self.revision - 1

    @property
    def is_cancelled(self) -> bool:
        return self.status == Status.CANCELLED

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC

    def is_past(self, now: datetime | None = None) -> bool:
        return self.ends_at < (now or utcnow())

    @property
    def has_registration(self) -> bool:
        return self.capacity is not None

    def registration_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        if not self.has_registration or self.status != Status.SCHEDULED:
            return False
        if self.starts_at <= now:
            return False
        return self.registration_closes_at is None or now < self.registration_closes_at

    def non_members_may_register(self, now: datetime | None = None) -> bool:
        return self.is_public and self.open_to_non_members and self.registration_open(now)

    def partner_list(self) -> list[str]:
        """Every co-organiser's name: linked partners first, then the other names."""
        return [link.partner.title for link in self.partner_links] + self.other_partners()

    def other_partners(self) -> list[str]:
        return [n.strip() for n in self.partner_names.splitlines() if n.strip()]

    def linked_partners(self, viewer: Member | None) -> list[Partner]:
        """The linked partners whose page this viewer may see."""
        return [link.partner for link in self.partner_links
                if link.partner.can_view(viewer)]

    def guest_list(self) -> list[str]:
        return [n.strip() for n in self.guests.splitlines() if n.strip()]

    def is_host(self, member: Member | None) -> bool:
        if member is None or not member.is_authenticated:
            return False
        return self.organiser_id == member.id or any(h.member_id == member.id
                                                     for h in self.hosts)

    def can_edit(self, actor: Member | None) -> bool:
        """The organiser, the co-organisers and admins."""
        if actor is None or not actor.is_authenticated:
            return False
        return bool(actor.is_admin) or self.is_host(actor)

    def can_view(self, viewer: Member | None) -> bool:
        if self.is_public:
            return True
        return viewer is not None and bool(viewer.is_authenticated)

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r}>"


class Registration(db.Model):
    __tablename__ = "event_registration"
    __table_args__ = (
        # One registration per member per event, and per e-mail address for non-members
        # (their member_id is NULL; members' rows leave email NULL).
        UniqueConstraint("event_id", "member_id", name="uq_event_registration_member"),
        UniqueConstraint("event_id", "email", name="uq_event_registration_email"),
        CheckConstraint("(member_id IS NULL) <> (email IS NULL)", name="member_or_email"),
        Index("ix_event_registration_queue", "event_id", "state", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"),
                                                  index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    state: Mapped[str] = mapped_column(String(12), default=RegState.REGISTERED)
    # Order on the waiting list (and of registration): from the event's queue_counter.
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Non-members: SHA-256 of the token in their mailed link (confirm and unregister).
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Rate limiting of non-member sign-ups: a keyed hash of the client's address.
    client_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    # The ledger transfer that paid a price in units (set when attendance is marked).
    transfer_uid: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship(lazy="joined")
    member: Mapped[Member | None] = relationship(lazy="joined")

    @property
    def who(self) -> str:
        return self.member.display_name if self.member is not None else self.name

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


class EventFeedKey(db.Model):
    """A member's private calendar feed address (adds members-only events); reset makes a
    new one."""

    __tablename__ = "event_feed_key"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"),
                                           primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
