"""Partners: the organisations a group works with, what was done together, the prospects
the group wants to approach and the contact scripts it approaches them with.

A partner is either a member organisation (``organisation_id`` set: its name, description,
website, account, listings and intermediaries are the organisation's own, read through the
organisations feature, never copied) or a collaboration partner that is not a member.
Partner coordinators (a role admins give, kept here as a local role like intermediaries)
and admins run the pipeline and keep the records.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db
from lets_site.members.models import Member
from lets_site.organisations.models import Organisation


class Kind(enum.StrEnum):
    MEMBER = "member"  # a member organisation
    COLLABORATION = "collaboration"  # works with the group, is not a member


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"


class ContactVisibility(enum.StrEnum):
    MEMBERS = "members"
    COORDINATORS = "coordinators"


class Support(enum.StrEnum):
    ROOM = "room"
    MONEY = "money"
    MATERIAL = "material"
    PUBLICITY = "publicity"
    PEOPLE = "people"


class Status(enum.StrEnum):
    """The stages of the prospects pipeline, in board order."""

    IDEA = "idea"
    TO_CONTACT = "to_contact"
    CONTACTED = "contacted"
    MEETING = "meeting"
    PARTNER = "partner"
    NOT_NOW = "not_now"


# Where a prospect may move from each stage. "partner" is the end: the prospect became a
# partner record and its history stays with it.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.IDEA: frozenset({Status.TO_CONTACT, Status.CONTACTED, Status.NOT_NOW}),
    Status.TO_CONTACT: frozenset({Status.IDEA, Status.CONTACTED, Status.NOT_NOW}),
    Status.CONTACTED: frozenset({Status.TO_CONTACT, Status.MEETING, Status.PARTNER,
                                 Status.NOT_NOW}),
    Status.MEETING: frozenset({Status.CONTACTED, Status.PARTNER, Status.NOT_NOW}),
    Status.NOT_NOW: frozenset({Status.IDEA, Status.TO_CONTACT}),
    Status.PARTNER: frozenset(),
}
# A stage the pipeline is still working on: its next step can be overdue.
OPEN_STATUSES = frozenset({Status.IDEA, Status.TO_CONTACT, Status.CONTACTED, Status.MEETING})


class Medium(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    VISIT = "visit"
    LETTER = "letter"
    MEETING = "meeting"


class LogKind(enum.StrEnum):
    CONTACT = "contact"  # a contact somebody logged
    SCRIPT = "script"  # a contact script sent from the site
    STATUS = "status"  # a move on the board (written by the service)


SCRIPT_LANGUAGES = ("nl", "fr", "en")


class Coordinator(db.Model):
    """The partner coordinator role, given by admins to a member."""

    __tablename__ = "partner_coordinator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"),
                                           unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(lazy="joined")


class Partner(db.Model):
    __tablename__ = "partner"
    __table_args__ = (
        CheckConstraint("kind <> 'member' OR organisation_id IS NOT NULL",
                        name="member_has_organisation"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default=Kind.COLLABORATION)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), unique=True
    )
    # For a member organisation: the name it had when it became a partner record (the
    # page shows the organisation's current name). Compared case-insensitively for
    # duplicates through ``name_key``.
    name: Mapped[str] = mapped_column(String(160))
    name_key: Mapped[str] = mapped_column(String(160), unique=True)
    sector: Mapped[str] = mapped_column(String(24), default="other")
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    gives: Mapped[str] = mapped_column(Text, default="")
    needs: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(8), default=Visibility.PUBLIC)
    # The logo (lets_site/photos.py, folder "partners"): its key and the size of the small
    # version the pages show.
    logo_key: Mapped[str | None] = mapped_column(String(64), index=True)
    logo_width: Mapped[int | None] = mapped_column(Integer)
    logo_height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
    # Read when asked for (a partner's page, its contacts page): lists of partners, events
    # and listings load partners for their names only.
    contacts: Mapped[list[PartnerContact]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", lazy="select",
        order_by="PartnerContact.id",
    )
    collaborations: Mapped[list[Collaboration]] = relationship(
        back_populates="partner", cascade="all, delete-orphan",
        order_by="Collaboration.happened_on.desc(), Collaboration.id.desc()",
    )

    @property
    def title(self) -> str:
        return self.organisation.name if self.organisation is not None else self.name

    @property
    def about(self) -> str:
        if self.organisation is not None and not self.description:
            return self.organisation.description
        return self.description

    @property
    def site(self) -> str:
        if self.organisation is not None and not self.website:
            return self.organisation.website
        return self.website

    @property
    def is_member_organisation(self) -> bool:
        return self.kind == Kind.MEMBER

    def can_view(self, viewer: Member | None) -> bool:
        if self.visibility == Visibility.PUBLIC:
            return True
        return viewer is not None and bool(viewer.is_authenticated)

    def visible_contacts(self, viewer: Member | None, coordinator: bool) -> list[PartnerContact]:
        """Contact persons: members see those for members, coordinators (and admins) all;
        visitors none."""
        if viewer is None or not viewer.is_authenticated:
            return []
        return [c for c in self.contacts
                if coordinator or c.visibility == ContactVisibility.MEMBERS]

    def __repr__(self) -> str:
        return f"<Partner {self.slug}>"


class PartnerContact(db.Model):
    __tablename__ = "partner_contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    visibility: Mapped[str] = mapped_column(String(16), default=ContactVisibility.MEMBERS)

    partner: Mapped[Partner] = relationship(back_populates="contacts")


class Collaboration(db.Model):
    """Something done together with a partner, on a date."""

    __tablename__ = "partner_collaboration"
    __table_args__ = (
        CheckConstraint("amount_cents IS NULL OR amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint("visitors IS NULL OR visitors >= 0", name="visitors_not_negative"),
        Index("ix_partner_collaboration_happened_on", "happened_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"),
                                            index=True)
    happened_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    # The kinds of support received, comma-separated values of Support.
    support: Mapped[str] = mapped_column(String(80), default="")
    # Money received, in euro cents (only with "money" support).
    amount_cents: Mapped[int | None] = mapped_column(Integer)
    open_to_non_members: Mapped[bool] = mapped_column(Boolean, default=False)
    visitors: Mapped[int | None] = mapped_column(Integer)
    visibility: Mapped[str] = mapped_column(String(8), default=Visibility.PUBLIC)
    # The event it came from, if any (the events feature's table, read through the feature
    # contract, never imported). Deleting the event keeps the entry: its own date and title.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"),
                                                 index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="collaborations", lazy="joined")

    @property
    def supports(self) -> list[str]:
        return [s for s in self.support.split(",") if s]

    def can_view(self, viewer: Member | None) -> bool:
        if not self.partner.can_view(viewer):
            return False
        if self.visibility == Visibility.PUBLIC:
            return True
        return viewer is not None and bool(viewer.is_authenticated)


class Prospect(db.Model):
    """An organisation the group wants to approach, on the board."""

    __tablename__ = "partner_prospect"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    name_key: Mapped[str] = mapped_column(String(160), unique=True)
    sector: Mapped[str] = mapped_column(String(24), default="other")
    status: Mapped[str] = mapped_column(String(16), default=Status.IDEA, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"),
                                                 index=True)
    next_step: Mapped[str] = mapped_column(String(200), default="")
    next_step_on: Mapped[date | None] = mapped_column(Date)
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id", ondelete="SET NULL"),
                                                   index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[Member | None] = relationship(lazy="joined")
    partner: Mapped[Partner | None] = relationship(lazy="joined")
    log: Mapped[list[ProspectLog]] = relationship(
        back_populates="prospect", cascade="all, delete-orphan",
        order_by="ProspectLog.happened_on.desc(), ProspectLog.id.desc()",
    )

    def is_overdue(self, today: date) -> bool:
        return (self.status in OPEN_STATUSES and self.next_step_on is not None
                and self.next_step_on < today)

    def moves(self) -> list[str]:
        """The stages this prospect may move to, in board order."""
        allowed = TRANSITIONS[self.status]  # every status has its line
        return [s.value for s in Status if s in allowed]


class ProspectLog(db.Model):
    """A dated line of a prospect's history: a contact, a script sent, a move."""

    __tablename__ = "partner_prospect_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prospect_id: Mapped[int] = mapped_column(
        ForeignKey("partner_prospect.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8), default=LogKind.CONTACT)
    happened_on: Mapped[date] = mapped_column(Date)
    medium: Mapped[str] = mapped_column(String(8), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    old_status: Mapped[str] = mapped_column(String(16), default="")
    new_status: Mapped[str] = mapped_column(String(16), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"),
                                                 index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    prospect: Mapped[Prospect] = relationship(back_populates="log")
    actor: Mapped[Member | None] = relationship(lazy="joined")


class ContactScript(db.Model):
    """A template for a first e-mail or letter to a prospect, in one language."""

    __tablename__ = "partner_script"
    __table_args__ = (UniqueConstraint("title", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(2), default="nl")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Published for other LETS groups (/partners/scripts/shared.json), as written: the
    # values the group fills in are never part of it.
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScriptValues(db.Model):
    """One row: what the group fills into ``{our_offer}`` and ``{next_intro_evening}``."""

    __tablename__ = "partner_script_values"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    our_offer: Mapped[str] = mapped_column(Text, default="")
    next_intro_evening: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the shared scripts last changed (one shared, unshared, edited while shared or
    # removed while shared): the Last-Modified of shared.json and of the feed's link to it.
    shared_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def as_dict(self) -> dict[str, Any]:
        return {"our_offer": self.our_offer, "next_intro_evening": self.next_intro_evening}
