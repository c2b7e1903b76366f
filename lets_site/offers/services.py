"""Business rules for offers and wants: who may do what, the workflow, browsing, search,
responses, categories. Services flush, never commit; views commit once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, exists, func, or_, select, update
from sqlalchemy.orm import aliased, defaultload, defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from lets_site import features, signals
from lets_site.audit import services as audit
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.mail import external_url
from lets_site.members.mailing import mail_to
from lets_site.members.models import Member
from lets_site.offers import photos, search
from lets_site.offers.models import (
    Category,
    Kind,
    Listing,
    ListingResponse,
    ListingVisibility,
    PriceBasis,
    State,
    normalise_text,
)
from lets_site.organisations import services as organisations
from lets_site.organisations.models import Organisation
from lets_site.settings import detached_copy, shared
from lets_site.slugs import slugify

PAGE_SIZE = 20
# The notification kinds this feature sends (members may switch them off; feature.py).
ANSWERED = "offers.answered"
EXPIRING = "offers.expiring"
COUNT_CAP = 100  # "More than 100 found": five pages; counting further costs time (at 100,000
# listings a count to 1,000 took 12-14 ms on SQLite, more than the search) and tells little
DEFAULT_VALIDITY = timedelta(days=365)
MAX_VALIDITY = timedelta(days=3 * 365)
MAX_PRICE = Decimal(1000)
TITLE_MAX = 120
DESCRIPTION_MAX = 8000
RESPONSES_PER_HOUR = 10
MESSAGE_MAX = 4000


@dataclass
class ListingData:
    kind: str
    title: str
    description: str = ""
    category_id: int | None = None
    price: Decimal | None = None
    price_basis: str = PriceBasis.AGREE
    valid_until: datetime | None = None
    visibility: str = ListingVisibility.MEMBERS
    photo: IO[bytes] | None = None
    remove_photo: bool = False


@dataclass
class Filters:
    kind: str = ""
    category: str = ""
    owner: str = ""  # "", "members" or "organisations"
    postcode: str = ""
    q: str = ""
    sort: str = ""  # "" = best match when searching, else newest; "newest"; "ending"
    page: int = 1


@dataclass
class ListingPage:
    items: list[Listing]
    page: int
    has_next: bool
    filters: Filters = field(default_factory=Filters)
    # How many listings match, counted up to COUNT_CAP (more: ``total`` is COUNT_CAP + 1).
    total: int = 0

    @property
    def total_capped(self) -> bool:
        return self.total > COUNT_CAP


# --- Look-ups -------------------------------------------------------------------------------


MAX_ID = 2**31 - 1  # an id in a URL beyond the column's range is simply not found


def _load(listing_id: int) -> Listing | None:
    return db.session.get(Listing, listing_id) if 0 < listing_id <= MAX_ID else None


def photo_audience(key: str, viewer: Member | None) -> str | None:
    """Who may fetch the photo with this key: "public" when a listing anyone may see uses
    it, "members" when only listings this viewer may see as a member do, None otherwise."""
    listings = db.session.scalars(select(Listing).where(Listing.photo_key == key)).all()
    visible = [listing for listing in listings if listing.can_view(viewer)]
    if any(listing.can_view(None) for listing in visible):
        return "public"
    return "members" if visible else None


def get_listing(listing_id: int, viewer: Member | None) -> Listing:
    """A listing this viewer may see; drafts and withdrawn listings only for their editors.
    Members-only listings raise PermissionDenied for visitors (the view sends them to log
    in)."""
    listing = _load(listing_id)
    if listing is None:
        raise NotFound(_l("There is no such offer or want."))
    if listing.state in (State.DRAFT, State.WITHDRAWN) and not listing.can_edit(viewer):
        raise NotFound(_l("There is no such offer or want."))
    if not listing.can_view(viewer):
        raise PermissionDenied(_l("Only members of the group can see this listing."))
    return listing


def get_for_edit(listing_id: int, actor: Member) -> Listing:
    listing = _load(listing_id)
    if listing is None:
        raise NotFound(_l("There is no such offer or want."))
    _check_can_edit(actor, listing)
    return listing


def categories() -> list[Category]:
    """All categories, each top category followed by its subcategories."""
    rows = list(db.session.scalars(select(Category).order_by(Category.position,
                                                             Category.name_nl)))
    tops = [c for c in rows if c.parent_id is None]
    ordered: list[Category] = []
    for top in tops:
        ordered.append(top)
        ordered.extend(c for c in rows if c.parent_id == top.id)
    return ordered


def category_tree() -> list[Category]:
    """:func:`categories` kept per process until someone writes (``lets_site.settings.shared``):
    every list page and listing form shows them. Copies attached to no session (with their
    main category): to show, not to change."""
    return shared("offers.categories", _copy_categories)


def _copy_categories() -> list[Category]:
    copies = [detached_copy(c) for c in categories()]
    by_id = {c.id: c for c in copies}
    for copy in copies:
        set_committed_value(copy, "parent", by_id.get(copy.parent_id))
    return copies


def acting_choices(member: Member) -> list[Organisation]:
    """The organisations this member may act for (their intermediary roles)."""
    return organisations.organisations_for(member)


def resolve_acting_for(member: Member, org_id: int | None) -> Organisation | None:
    """The organisation stored in the session, if the member may (still) act for it."""
    if org_id is None:
        return None
    org = db.session.get(Organisation, org_id)
    if org is None or not org.can_act_for(member):
        return None
    return org


def set_acting_for(member: Member, org_id: int | None) -> Organisation | None:
    """Check the choice made by the 'acting for' switch; None means: for myself."""
    if org_id is None:
        return None
    org = db.session.get(Organisation, org_id)
    if org is None or not org.can_act_for(member):
        raise PermissionDenied(_l("You are not an intermediary of this organisation."))
    return org


# --- Checks ---------------------------------------------------------------------------------


def _check_can_edit(actor: Member, listing: Listing) -> None:
    if not listing.can_edit(actor):
        raise PermissionDenied(_l("Only the owner of this listing can change it."))


def _audit_if_admin(actor: Member, listing: Listing, action: str) -> None:
    """Admins may act on anyone's listing; that is written in the audit log."""
    if actor.is_admin and not listing._owned_by(actor):
        audit.record(actor, f"listing.{action}", target_type="listing",
                     target_id=str(listing.id), target_label=listing.title)


def _price_to_amount(price: Decimal | None, basis: str) -> int | None:
    if basis not in {b.value for b in PriceBasis}:
        raise DomainError(_l("Choose how the price is counted."), field="price_basis")
    if basis == PriceBasis.AGREE:
        return None
    if price is None:
        raise DomainError(_l("Fill in a price, or choose 'to agree'."), field="price")
    try:
        price = Decimal(price)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise DomainError(_l("The price must be a number."), field="price") from exc
    if not price.is_finite():
        raise DomainError(_l("The price must be a number."), field="price")
    if price < 0:
        raise DomainError(_l("The price cannot be negative."), field="price")
    if price > MAX_PRICE:
        raise DomainError(
            _l("The price can be at most %(max)s. Choose 'to agree' for something unusual.",
               max=MAX_PRICE),
            field="price",
        )
    return int((price * 100).quantize(Decimal(1)))


def _check_valid_until(value: datetime | None) -> datetime:
    now = utcnow()
    if value is None:
        return now + DEFAULT_VALIDITY
    if value < now:
        raise DomainError(_l("Choose a date in the future."), field="valid_until")
    if value > now + MAX_VALIDITY:
        raise DomainError(_l("A listing can be valid for at most three years."),
                          field="valid_until")
    return value


def _apply(listing: Listing, data: ListingData) -> None:
    if data.kind not in {k.value for k in Kind}:
        raise DomainError(_l("Choose offer or want."), field="kind")
    title = " ".join((data.title or "").split())
    if not title:
        raise DomainError(_l("Fill in a title."), field="title")
    if len(title) > TITLE_MAX:
        raise DomainError(_l("Make the title shorter (at most %(n)d characters).",
                             n=TITLE_MAX), field="title")
    description = (data.description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise DomainError(_l("Make the description shorter."), field="description")
    category = None
    if data.category_id is not None:
        category = db.session.get(Category, data.category_id)
        if category is None:
            raise DomainError(_l("Choose a category from the list."), field="category_id")
    if data.visibility not in {v.value for v in ListingVisibility}:
        raise DomainError(_l("Choose who can see this listing."), field="visibility")
    amount = _price_to_amount(data.price, data.price_basis)
    if listing.valid_until is not None and (
        data.valid_until is None or abs(data.valid_until - listing.valid_until) < timedelta(days=1)
    ):
        # The date was left as it was (an expired listing is renewed, not re-dated here).
        valid_until = listing.valid_until
    else:
        valid_until = _check_valid_until(data.valid_until)

    listing.kind = data.kind
    listing.title = title
    listing.description = description
    listing.category_id = category.id if category else None
    listing.category = category
    listing.price_amount = amount
    listing.price_basis = data.price_basis
    listing.visibility = data.visibility
    listing.valid_until = valid_until
    if data.remove_photo:
        listing.photo_key = None
        listing.photo_width = listing.photo_height = None
        listing.thumb_width = listing.thumb_height = None
    if data.photo is not None:
        stored = photos.store(data.photo)
        listing.photo_key = stored.key
        listing.photo_width, listing.photo_height = stored.width, stored.height
        listing.thumb_width, listing.thumb_height = stored.thumb_width, stored.thumb_height
    listing.search_text = search_text_for(title, description, category)
    listing.updated_at = utcnow()


def search_text_for(title: str, description: str, category: Category | None) -> str:
    parts = [title, description]
    if category is not None:
        parts.append(category.all_names())
    return normalise_text("\n".join(parts))


# --- Writing --------------------------------------------------------------------------------


def create_listing(actor: Member, data: ListingData, *, organisation: Organisation | None = None,
                   publish: bool = True) -> Listing:
    """A new listing by ``actor``, or by ``organisation`` when the actor acts for it."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(_l("Log in to add an offer or a want."))
    if organisation is not None and not organisation.can_act_for(actor):
        raise PermissionDenied(_l("You are not an intermediary of this organisation."))
    listing = Listing(
        owner_member_id=None if organisation else actor.id,
        owner_org_id=organisation.id if organisation else None,
        contact_member_id=actor.id,
        state=State.PUBLISHED if publish else State.DRAFT,
    )
    listing.owner_org = organisation
    listing.owner_member = None if organisation else actor
    listing.contact = actor
    now = utcnow()
    listing.created_at = now
    _apply(listing, data)
    db.session.add(listing)
    db.session.flush()
    if organisation is not None and not organisation.has_intermediary(actor):
        _audit_if_admin(actor, listing, "create")
    if listing.state == State.PUBLISHED:
        signals.listing_published.send(listing, actor=actor)
    return listing


class EditConflict(DomainError):
    """Someone else saved the listing between this form's load and its save."""


def _conflict() -> EditConflict:
    return EditConflict(_l("This listing was changed by someone else meanwhile. Check it and "
                           "save again."))


def _flush_listing() -> None:
    """Flush a listing's UPDATE. Its revision column makes an UPDATE of a revision that a
    concurrent request changed meanwhile match no row (PostgreSQL: the second of two edits
    waits for the first, then finds the revision changed): that is a conflict to tell the
    user about, not an error."""
    try:
        db.session.flush()
    except StaleDataError:
        raise _conflict() from None


def update_listing(actor: Member, listing: Listing, data: ListingData,
                   revision: int | None = None) -> Listing:
    """Save an edit. ``revision`` is the one the form was loaded with: when the listing has
    another by now, nothing is saved (SQLite serialises the two saves; PostgreSQL may run
    them side by side, then :func:`_flush_listing` sees it), so two people editing at
    once both learn which edit won."""
    _check_can_edit(actor, listing)
    if revision is not None and listing.revision != revision:
        raise _conflict()
    _apply(listing, data)
    _flush_listing()
    _audit_if_admin(actor, listing, "edit")
    return listing


def _transition(actor: Member, listing: Listing, allowed: set[str], to: str,
                refusal: Any) -> None:
    _check_can_edit(actor, listing)
    if listing.shown_state not in allowed:
        raise DomainError(refusal)
    _move(actor, listing, to)


def _move(actor: Member, listing: Listing, to: str) -> None:
    listing.state = to
    listing.updated_at = utcnow()
    _flush_listing()
    _audit_if_admin(actor, listing, to)
    if to == State.PUBLISHED:
        signals.listing_published.send(listing, actor=actor)


def publish(actor: Member, listing: Listing) -> Listing:
    if listing.valid_until < utcnow():
        raise DomainError(_l("This listing has expired: renew it to publish it again."))
    _transition(actor, listing, {State.DRAFT, State.WITHDRAWN}, State.PUBLISHED,
                _l("Only a draft or a withdrawn listing can be published."))
    return listing


def withdraw(actor: Member, listing: Listing) -> Listing:
    _transition(actor, listing, {State.PUBLISHED, State.DRAFT, State.EXPIRED},
                State.WITHDRAWN, _l("This listing is withdrawn already."))
    return listing


def renew(actor: Member, listing: Listing) -> Listing:
    """Another year from today, published again (a draft is published, not renewed)."""
    _check_can_edit(actor, listing)
    if listing.shown_state == State.DRAFT:
        raise DomainError(_l("A draft is published, not renewed."))
    listing.valid_until = utcnow() + DEFAULT_VALIDITY
    _move(actor, listing, State.PUBLISHED)  # from any state but a draft
    return listing


# --- Expiry reminders with a one-click renewal ---------------------------------------------

EXPIRY_NOTICE = timedelta(days=14)
_RENEW_SALT = "offers.renew-link"


class AlreadyRenewed(DomainError):
    """The renewal link was used (or the listing renewed another way) already."""


def _renew_signer() -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.config["SECRET_KEY"]), salt=_RENEW_SALT)


def renewal_token(listing: Listing, member: Member) -> str:
    """A link's token bound to the listing, the member it is sent to and the listing's
    current end: it renews once (the end moves), and only for that member."""
    return str(_renew_signer().dumps(
        [listing.id, member.id, int(listing.valid_until.timestamp())]))


def listing_for_renewal(actor: Member, listing_id: int, token: str) -> Listing:
    """The listing a renewal link is for, if ``actor`` may renew it with this link now."""
    try:
        data = _renew_signer().loads(token)
        token_listing, token_member, token_end = (int(v) for v in data)
    except (BadSignature, TypeError, ValueError):
        raise NotFound(_l("This renewal link is not valid.")) from None
    listing = _load(listing_id)
    if listing is None or token_listing != listing_id:
        raise NotFound(_l("This renewal link is not valid."))
    if token_member != actor.id or not listing.can_edit(actor):
        raise PermissionDenied(_l("This renewal link was sent to someone else."))
    if int(listing.valid_until.timestamp()) != token_end or listing.state not in (
            State.PUBLISHED, State.EXPIRED):
        raise AlreadyRenewed(_l("This listing was renewed already (or changed since the "
                                "mail was sent): nothing to do."))
    return listing


def renew_with_link(actor: Member, listing_id: int, token: str) -> Listing:
    return renew(actor, listing_for_renewal(actor, listing_id, token))


def expiring_notices(now: datetime) -> list[features.Notice]:
    """Published listings that end within two weeks: a reminder to each owner (or each
    intermediary of an organisation), once per listing and end date."""
    listings = db.session.scalars(
        select(Listing).where(Listing.state == State.PUBLISHED, Listing.valid_until >= now,
                              Listing.valid_until <= now + EXPIRY_NOTICE)
        .order_by(Listing.valid_until, Listing.id))
    notices = []
    for listing in listings:
        if listing.owner_org is not None:
            people = [i.member for i in listing.owner_org.intermediaries]
        else:
            people = [listing.owner_member]
        end = int(listing.valid_until.timestamp())
        for person in people:
            if person is None:
                continue
            notices.append(features.Notice(
                recipient=person,
                subject=_l("\"%(title)s\" ends in two weeks", title=listing.title),
                template="offers/mail/expiring.txt",
                once=f"{listing.id}:{end}:{person.id}",
                context={"listing": listing, "url": external_url(
                    "offers.renew_link", listing_id=listing.id,
                    token=renewal_token(listing, person))}))
    return notices


def expire(listing: Listing) -> Listing:
    """Mark one listing expired (queries already treat it so once valid_until passes)."""
    if listing.state == State.PUBLISHED:
        listing.state = State.EXPIRED
        listing.updated_at = utcnow()
        db.session.flush()
        signals.listing_expiring.send(listing)
    return listing


def expire_overdue(now: datetime | None = None) -> int:
    """Store the state of every published listing past its date as expired."""
    now = now or utcnow()
    overdue = (Listing.state == State.PUBLISHED, Listing.valid_until < now)
    ids = list(db.session.scalars(select(Listing.id).where(*overdue)))
    result = db.session.execute(
        update(Listing)
        .where(*overdue)
        .values(state=State.EXPIRED, updated_at=now, revision=Listing.revision + 1)
        .execution_options(synchronize_session=False)
    )
    if signals.listing_expiring.receivers:
        for listing in db.session.scalars(select(Listing).where(Listing.id.in_(ids))):
            db.session.refresh(listing)
            signals.listing_expiring.send(listing)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- Browsing and search --------------------------------------------------------------------


def _visible_to(viewer: Member | None) -> Any:
    if viewer is not None and viewer.is_authenticated:
        return True
    return Listing.visibility == ListingVisibility.PUBLIC


# A list shows title, category, price, owner and postcode: one query with the many-to-one
# joins, without the long text columns or the owners' roles and intermediaries (they load
# lazily if something does ask for them).
_DEFER_TEXT = defer(Listing.description)
LIST_LOAD_OPTIONS = (
    _DEFER_TEXT,
    defer(Listing.search_text),
    defaultload(Listing.owner_member).lazyload(Member.role_rows),
    defaultload(Listing.contact).lazyload(Member.role_rows),
    defaultload(Listing.owner_org).lazyload(Organisation.intermediaries),
)


def browse(viewer: Member | None, filters: Filters) -> ListingPage:
    """Live listings the viewer may see, filtered, searched and sorted, one page."""
    now = utcnow()
    stmt = select(Listing).where(Listing.live_clause(now), _visible_to(viewer))
    if filters.kind in {k.value for k in Kind}:
        stmt = stmt.where(Listing.kind == filters.kind)
    if filters.category:
        category = db.session.scalar(select(Category).where(Category.slug == filters.category))
        if category is not None:
            children = select(Category.id).where(Category.parent_id == category.id)
            stmt = stmt.where(or_(Listing.category_id == category.id,
                                  Listing.category_id.in_(children)))
    if filters.owner == "members":
        stmt = stmt.where(Listing.owner_member_id.is_not(None))
    elif filters.owner == "organisations":
        stmt = stmt.where(Listing.owner_org_id.is_not(None))
    postcode = "".join(ch for ch in filters.postcode if ch.isalnum())[:8]
    if postcode:
        contact = aliased(Member)
        stmt = stmt.where(
            exists().where(contact.id == Listing.contact_member_id,
                           contact.postcode.like(f"{postcode}%"),
                           Member.address_visible_clause(contact, viewer))
        )
    searching = bool(filters.q and search.terms(filters.q))
    if searching:
        # Best match first unless another order is asked for explicitly.
        stmt = search.apply(stmt, filters.q, db.engine.dialect.name,
                            ranked=filters.sort not in ("newest", "ending"))
    if filters.sort == "ending":
        stmt = stmt.order_by(Listing.valid_until.asc(), Listing.id.asc())
    elif filters.sort == "newest" or not searching:
        stmt = stmt.order_by(Listing.created_at.desc(), Listing.id.desc())
    page = max(1, min(filters.page, 10_000))
    offset = (page - 1) * PAGE_SIZE
    rows = list(db.session.scalars(
        stmt.options(*LIST_LOAD_OPTIONS).limit(PAGE_SIZE + 1).offset(offset)).unique())
    has_next = len(rows) > PAGE_SIZE
    if rows and not has_next:
        total = offset + len(rows)  # the last page: no need to count
    else:
        # Counted up to a cap: the query without its order, stopped after COUNT_CAP + 1.
        capped = stmt.order_by(None).with_only_columns(Listing.id).limit(COUNT_CAP + 1)
        total = db.session.scalar(select(func.count()).select_from(capped.subquery())) or 0
    return ListingPage(items=rows[:PAGE_SIZE], page=page, has_next=has_next,
                       filters=filters, total=total)


def next_lapse() -> datetime | None:
    """When the next published listing passes its end date (it then leaves every list
    without a write): what lists kept per process expire by (lets_site/fragments.py)."""
    return db.session.scalar(
        select(func.min(Listing.valid_until)).where(Listing.state == State.PUBLISHED,
                                                    Listing.valid_until >= utcnow()))


def listings_for_owner(owner: Member | Organisation, viewer: Member | None, *,
                       all_states: bool = False) -> list[Listing]:
    """One member's or organisation's live listings this viewer may see; with
    ``all_states``, drafts, withdrawn and expired ones too, but only for its editors
    ('my listings'). The organisation page shows the live ones."""
    if isinstance(owner, Organisation):
        stmt = select(Listing).where(Listing.owner_org_id == owner.id)
        editor = owner.can_act_for(viewer)
    else:
        stmt = select(Listing).where(Listing.owner_member_id == owner.id)
        editor = viewer is not None and getattr(viewer, "is_authenticated", False) and (
            viewer.id == owner.id or viewer.is_admin
        )
    if not (all_states and editor):
        stmt = stmt.where(Listing.live_clause(utcnow()), _visible_to(viewer))
    stmt = stmt.options(*LIST_LOAD_OPTIONS).order_by(Listing.created_at.desc(),
                                                     Listing.id.desc())
    return list(db.session.scalars(stmt))


def newest(viewer: Member | None, limit: int, *, with_text: bool = False) -> list[Listing]:
    """The newest live listings this viewer may see (the public ones for None);
    ``with_text`` reads their descriptions in the same query (the feed carries them)."""
    options = [o for o in LIST_LOAD_OPTIONS if not with_text or o is not _DEFER_TEXT]
    stmt = (select(Listing).where(Listing.live_clause(utcnow()), _visible_to(viewer))
            .options(*options)
            .order_by(Listing.created_at.desc(), Listing.id.desc()).limit(max(0, limit)))
    return list(db.session.scalars(stmt).unique())


def my_listings(member: Member) -> list[tuple[Member | Organisation, list[Listing]]]:
    """The member's own listings, then those of each organisation they act for."""
    groups: list[tuple[Member | Organisation, list[Listing]]] = [
        (member, listings_for_owner(member, member, all_states=True))
    ]
    for org in acting_choices(member):
        groups.append((org, listings_for_owner(org, member, all_states=True)))
    return groups


def base_query() -> Select[Any]:
    """For the benchmark: the live listings query without filters."""
    return select(Listing).where(Listing.live_clause(utcnow()))


# --- Responding -----------------------------------------------------------------------------


def respond(responder: Member, listing: Listing, message: str) -> ListingResponse:
    """Send the responder's message and contact details to the owner (or the organisation's
    intermediaries). At most RESPONSES_PER_HOUR per member per hour."""
    if not responder.is_active:  # a visitor's too (Flask-Login's anonymous user)
        raise PermissionDenied(_l("Log in to answer."))
    if not listing.can_view(responder):
        raise NotFound(_l("There is no such offer or want."))
    if listing._owned_by(responder):
        raise DomainError(_l("This is your own listing."))
    if not listing.is_live:
        raise DomainError(_l("This listing is no longer open for answers."))
    message = (message or "").strip()
    if not message:
        raise DomainError(_l("Write a message."), field="message")
    if len(message) > MESSAGE_MAX:
        raise DomainError(_l("Make your message shorter."), field="message")
    since = utcnow() - timedelta(hours=1)
    recent = db.session.scalar(
        select(func.count()).where(
            ListingResponse.member_id == responder.id, ListingResponse.created_at >= since
        )
    )
    if recent >= RESPONSES_PER_HOUR:
        raise DomainError(
            _l("You have sent %(n)d answers in the last hour. Please wait a while before "
               "sending more.", n=RESPONSES_PER_HOUR),
            field="message",
        )
    row = ListingResponse(listing_id=listing.id, member_id=responder.id)
    db.session.add(row)
    db.session.flush()
    if listing.owner_org is not None:
        recipients = [i.member for i in listing.owner_org.intermediaries]
    else:
        # A listing has one owner (a database check): without an organisation, a member.
        recipients = [listing.owner_member]
    url = external_url("offers.detail", listing_id=listing.id)
    for person in recipients:
        mail_to(person, _l("Answer to \"%(title)s\"", title=listing.title),
                "offers/mail/response.txt", reply_to=responder.email or None,
                listing=listing, responder=responder, message=message, url=url,
                recipient=person, kind=ANSWERED)
    return row


# --- Categories (admins) --------------------------------------------------------------------


@dataclass
class CategoryData:
    name_nl: str
    name_fr: str = ""
    name_en: str = ""
    parent_id: int | None = None
    position: int | None = None  # None: after the others
    words: str = ""


WORDS_MAX = 1000


def clean_words(text: str) -> str:
    """Search words as one comma-separated line: commas, semicolons or new lines between
    them, spaces tidied, each word once (whatever its case)."""
    words: dict[str, str] = {}
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        word = " ".join(part.split())
        if word:
            words.setdefault(word.casefold(), word)
    return ", ".join(words.values())


def _check_admin(actor: Member) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins manage categories."))


def _apply_category(category: Category, data: CategoryData) -> None:
    names = {k: " ".join((getattr(data, k) or "").split()) for k in ("name_nl", "name_fr",
                                                                      "name_en")}
    if not names["name_nl"]:
        raise DomainError(_l("Fill in the Dutch name."), field="name_nl")
    parent = None
    if data.parent_id is not None:
        parent = db.session.get(Category, data.parent_id)
        if parent is None:
            raise DomainError(_l("Choose a main category from the list."), field="parent_id")
        if parent.parent_id is not None:
            raise DomainError(_l("Categories have two levels: choose a main category."),
                              field="parent_id")
        if category.id is not None and parent.id == category.id:
            raise DomainError(_l("A category cannot be its own main category."),
                              field="parent_id")
        if category.id is not None and db.session.scalar(
            select(Category.id).where(Category.parent_id == category.id).limit(1)
        ):
            raise DomainError(_l("This category has subcategories, so it stays a main "
                                 "category."), field="parent_id")
    category.name_nl = names["name_nl"]
    category.name_fr = names["name_fr"] or names["name_nl"]
    category.name_en = names["name_en"] or names["name_nl"]
    words = clean_words(data.words or "")
    if len(words) > WORDS_MAX:
        raise DomainError(_l("Keep the search words under %(n)d characters.", n=WORDS_MAX),
                          field="words")
    if data.position is None and (category.id is None
                                  or category.parent_id != (parent.id if parent else None)):
        # A new category (or one moved under another main category) goes to the end.
        siblings = select(func.max(Category.position)).where(
            Category.parent_id == parent.id if parent else Category.parent_id.is_(None))
        if category.id is not None:
            siblings = siblings.where(Category.id != category.id)
        last = db.session.scalar(siblings)
        category.position = 0 if last is None else last + 1
    elif data.position is not None:
        category.position = data.position
    category.parent_id = parent.id if parent else None
    category.parent = parent
    category.words = words


def _category_slug(name: str) -> str:
    base = slugify(name, fallback="category")
    slug, n = base, 2
    while db.session.scalar(select(Category.id).where(Category.slug == slug)):
        slug, n = f"{base}-{n}", n + 1
    return slug


def create_category(actor: Member, data: CategoryData) -> Category:
    _check_admin(actor)
    category = Category(slug="")
    _apply_category(category, data)
    category.slug = _category_slug(category.name_nl)
    db.session.add(category)
    db.session.flush()
    audit.record(actor, "listing.category_create", target_type="category",
                 target_id=category.slug, target_label=category.name_nl)
    return category


def update_category(actor: Member, category: Category, data: CategoryData) -> Category:
    _check_admin(actor)
    _apply_category(category, data)
    db.session.flush()
    _refresh_search_text(category)
    audit.record(actor, "listing.category_edit", target_type="category",
                 target_id=category.slug, target_label=category.name_nl)
    return category


def _refresh_search_text(category: Category) -> None:
    """Names changed: the listings in this category (and its subcategories) must be
    found by the new names."""
    ids = [category.id, *db.session.scalars(select(Category.id).where(
        Category.parent_id == category.id))]
    for listing in db.session.scalars(select(Listing).where(Listing.category_id.in_(ids))):
        listing.search_text = search_text_for(listing.title, listing.description,
                                              listing.category)
    db.session.flush()


def get_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id) if 0 < category_id <= MAX_ID else None
    if category is None:
        raise NotFound(_l("No such category."))
    return category


# --- A member's data download ---------------------------------------------------------------


def export_section(member: Member) -> list[dict[str, Any]]:
    """The member's own listings (organisations' listings belong to the organisation)."""
    listings = db.session.scalars(
        select(Listing).where(Listing.owner_member_id == member.id).order_by(Listing.id)
    )
    return [
        {
            "id": listing.urn,
            "kind": listing.kind,
            "title": listing.title,
            "description": listing.description,
            "category": listing.category.name_en if listing.category else None,
            "price": None if listing.price_amount is None else listing.price_amount / 100,
            "price_basis": listing.price_basis,
            "state": listing.shown_state,
            "visibility": listing.visibility,
            "valid_until": listing.valid_until.isoformat(),
            "created_at": listing.created_at.isoformat(),
            "updated_at": listing.updated_at.isoformat(),
            "has_photo": bool(listing.photo_key),
        }
        for listing in listings
    ]



@dataclass(frozen=True)
class ListingTitle:
    """A listing as a line in a list of people: enough for a link."""

    id: int
    kind: str
    title: str


def titles_by_member(member_ids: list[int], viewer: Member | None,
                     per_member: int = 3) -> dict[int, list[ListingTitle]]:
    """For each member, the titles of their newest live listings this viewer may see (at
    most ``per_member``): the member directory shows what people offer. One query."""
    if not member_ids:
        return {}
    rows = db.session.execute(
        select(Listing.id, Listing.kind, Listing.title, Listing.owner_member_id)
        .where(Listing.owner_member_id.in_(member_ids), Listing.live_clause(utcnow()),
               _visible_to(viewer))
        .order_by(Listing.created_at.desc(), Listing.id.desc())
    )
    found: dict[int, list[ListingTitle]] = {}
    for listing_id, kind, title, owner_id in rows:
        titles = found.setdefault(owner_id, [])
        if len(titles) < per_member:
            titles.append(ListingTitle(listing_id, str(kind), title))
    return found
