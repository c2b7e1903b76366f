"""Offers and wants (vraag en aanbod): listings, their categories and responses.

A listing is owned by a member or by a member organisation; for an organisation's listing
``contact`` is the intermediary who speaks for it. The workflow state changes only through
the named functions in :mod:`lets_site.offers.services`. A published listing whose
``valid_until`` has passed counts as expired everywhere, without a scheduled job.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db
from lets_site.members.models import Member
from lets_site.organisations.models import Organisation
from lets_site.search import normalise_text  # noqa: F401 - re-exported for offers

# A live listing offers "renew" this long before it ends (earlier it would only compete
# with "edit" on a brand-new listing).
RENEW_NOTICE = timedelta(days=30)


class Kind(enum.StrEnum):
    OFFER = "offer"
    WANT = "want"


class State(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class ListingVisibility(enum.StrEnum):
    MEMBERS = "members"
    PUBLIC = "public"


class PriceBasis(enum.StrEnum):
    HOUR = "hour"
    ITEM = "item"
    AGREE = "agree"


def new_uuid() -> str:
    return str(uuid.uuid4())


class Category(db.Model):
    """Admin-managed, two levels: a top category (parent None) and its subcategories."""

    __tablename__ = "offer_category"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("offer_category.id"), index=True
    )
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_nl: Mapped[str] = mapped_column(String(80))
    name_fr: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Other words that find this category's listings, in any language, comma separated
    # ("hond, chien, dog"): a group writes its listings in one language and is read in
    # three. Admins extend them on the category page.
    words: Mapped[str] = mapped_column(Text, default="", server_default="")

    parent: Mapped[Category | None] = relationship(remote_side=[id], lazy="joined",
                                                   join_depth=1)

    def name(self, locale: str = "nl") -> str:
        return getattr(self, f"name_{locale}", None) or self.name_nl

    def full_name(self, locale: str = "nl") -> str:
        if self.parent is not None:
            return f"{self.parent.name(locale)} / {self.name(locale)}"
        return self.name(locale)

    def word_list(self) -> list[str]:
        return [w for w in (part.strip() for part in (self.words or "").split(",")) if w]

    def all_names(self) -> str:
        """Its names in the three languages and its search words, and its main
        category's: what the search finds its listings by."""
        names = [self.name_nl, self.name_fr, self.name_en, *self.word_list()]
        if self.parent is not None:
            parent = self.parent
            names += [parent.name_nl, parent.name_fr, parent.name_en, *parent.word_list()]
        return " ".join(dict.fromkeys(names))

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


class Listing(db.Model):
    """An offer or a want."""

    __tablename__ = "listing"
    __table_args__ = (
        CheckConstraint(
            "(owner_member_id IS NULL) <> (owner_org_id IS NULL)", name="one_owner"
        ),
        CheckConstraint("price_amount IS NULL OR price_amount >= 0", name="price_not_negative"),
        Index("ix_listing_state_created", "state", "created_at"),
        Index("ix_listing_state_valid", "state", "valid_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # For the federation feed: urn:uuid:<uuid>, made once and never changed.
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    kind: Mapped[str] = mapped_column(String(8), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("offer_category.id", ondelete="SET NULL"), index=True
    )
    # In hundredths of the group's unit (150 = 1.50 hours); None for "to agree".
    price_amount: Mapped[int | None] = mapped_column(Integer)
    price_basis: Mapped[str] = mapped_column(String(8), default=PriceBasis.AGREE)
    photo_key: Mapped[str | None] = mapped_column(String(64), index=True)
    photo_width: Mapped[int | None] = mapped_column(Integer)
    photo_height: Mapped[int | None] = mapped_column(Integer)
    thumb_width: Mapped[int | None] = mapped_column(Integer)
    thumb_height: Mapped[int | None] = mapped_column(Integer)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    visibility: Mapped[str] = mapped_column(String(8), default=ListingVisibility.MEMBERS)
    state: Mapped[str] = mapped_column(String(12), default=State.DRAFT)
    owner_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True
    )
    owner_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    # The member to contact: the owner, or the organisation's intermediary.
    contact_member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True
    )
    # Normalised title, description and category names (see normalise_text); the
    # full-text indexes (SQLite FTS5, PostgreSQL GIN) are built over this column.
    search_text: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category | None] = relationship(lazy="joined")
    owner_member: Mapped[Member | None] = relationship(foreign_keys=[owner_member_id],
                                                       lazy="joined")
    owner_org: Mapped[Organisation | None] = relationship(lazy="joined", innerjoin=False)
    contact: Mapped[Member] = relationship(foreign_keys=[contact_member_id], lazy="joined")

    # Every UPDATE adds one to the revision, and two edits of the same revision cannot
    # both win (the second gets StaleDataError).
    __mapper_args__ = {"version_id_col": revision}

    # Questions -------------------------------------------------------------------------
    @property
    def is_expired(self) -> bool:
        return self.state == State.EXPIRED or (
            self.state == State.PUBLISHED and self.valid_until < utcnow()
        )

    @property
    def shown_state(self) -> str:
        return State.EXPIRED if self.is_expired else self.state

    @property
    def is_live(self) -> bool:
        return self.state == State.PUBLISHED and not self.is_expired

    @property
    def past_end(self) -> bool:
        return self.valid_until < utcnow()

    @property
    def ends_soon(self) -> bool:
        """Published and ending within RENEW_NOTICE: the time to offer a renewal."""
        return self.is_live and self.valid_until - utcnow() <= RENEW_NOTICE

    @property
    def urn(self) -> str:
        return f"urn:uuid:{self.uuid}"

    def can_edit(self, actor: Member | None) -> bool:
        if actor is None or not getattr(actor, "is_authenticated", False):
            return False
        if actor.is_admin:
            return True
        if self.owner_org_id is not None:
            return self.owner_org is not None and self.owner_org.has_intermediary(actor)
        return self.owner_member_id == actor.id

    def can_view(self, viewer: Member | None) -> bool:
        if self.state in (State.DRAFT, State.WITHDRAWN):
            return self.can_edit(viewer)
        if self.visibility == ListingVisibility.PUBLIC:
            return True
        return viewer is not None and bool(getattr(viewer, "is_authenticated", False))

    def can_respond(self, viewer: Member | None) -> bool:
        """Members answer live listings that are not their own (or their organisation's)."""
        if viewer is None or not getattr(viewer, "is_authenticated", False):
            return False
        return self.is_live and not self._owned_by(viewer)

    @property
    def owner_account_code(self) -> str | None:
        """The ledger account that pays or is paid for this listing."""
        if self.owner_org is not None:
            return self.owner_org.account_code
        return self.owner_member.account_code if self.owner_member is not None else None

    def _owned_by(self, member: Member) -> bool:
        if self.owner_org_id is not None:
            return self.owner_org is not None and self.owner_org.has_intermediary(member)
        return self.owner_member_id == member.id

    def owner_label(self, viewer: Member | None) -> str:
        """Who offers it, as this viewer may see it."""
        if self.owner_org is not None:
            return self.owner_org.name
        owner = self.owner_member
        if owner is None:
            return ""
        if owner.can_view_profile(viewer):
            return owner.display_name
        return ""

    def visible_postcode(self, viewer: Member | None) -> str:
        """The contact's postcode, if ``viewer`` may see it (it follows their address)."""
        return self.contact.visible_postcode(viewer) if self.contact is not None else ""

    def __repr__(self) -> str:
        return f"<Listing {self.id} {self.kind} {self.title!r}>"

    # Query pieces ------------------------------------------------------------------------
    @staticmethod
    def live_clause(now: datetime) -> ColumnElement[bool]:
        return and_(Listing.state == State.PUBLISHED, Listing.valid_until >= now)

    @staticmethod
    def expired_clause(now: datetime) -> ColumnElement[bool]:
        return or_(
            Listing.state == State.EXPIRED,
            and_(Listing.state == State.PUBLISHED, Listing.valid_until < now),
        )


class ListingResponse(db.Model):
    """That a member answered a listing, and when: for rate limiting. The message itself
    goes out by e-mail and is not kept."""

    __tablename__ = "listing_response"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"),
                                            index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"),
                                           index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
