"""Business rules of the partners feature: the directory, collaborations, the prospects
pipeline, contact scripts and the partner coordinator role.

Services flush, never commit; views commit once. Every change a coordinator or an admin
makes is written to the audit log. Member organisations are read through the
organisations feature's services, never changed here.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import extract, func, select

from lets_site import features, signals
from lets_site.audit import services as audit
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.mail import Mail, external_url, send_after_commit
from lets_site.members import services as members
from lets_site.members.models import Member, MemberRole, Role
from lets_site.members.models import Status as MemberStatus
from lets_site.organisations import services as organisations
from lets_site.organisations.models import Organisation
from lets_site.partners import labels
from lets_site.partners.models import (
    OPEN_STATUSES,
    SCRIPT_LANGUAGES,
    TRANSITIONS,
    Collaboration,
    ContactScript,
    ContactVisibility,
    Coordinator,
    Kind,
    LogKind,
    Medium,
    Partner,
    PartnerContact,
    Prospect,
    ProspectLog,
    ScriptValues,
    Status,
    Support,
    Visibility,
)
from lets_site.photos import MEMBERS, PUBLIC, PhotoStore
from lets_site.settings import cached, forget, get_settings, shared, zone
from lets_site.slugs import slugify

NAME_MAX = 160
TEXT_MAX = 8000
SHORT_MAX = 300
NEXT_STEP_MAX = 200
SUBJECT_MAX = 200
BODY_MAX = 20_000
MAX_AMOUNT = Decimal("1000000")
MAX_VISITORS = 1_000_000
MAX_ID = 2**31 - 1
IMPORT_MAX_BYTES = 512 * 1024
IMPORT_MAX_SCRIPTS = 200
SCRIPTS_FORMAT = "lets-site-contact-scripts"
SCRIPTS_VERSION = 1
HOME_PARTNERS = 8

# The placeholders a contact script may use.
PLACEHOLDERS = ("organisation", "contact_name", "group_name", "our_offer",
                "next_intro_evening", "sender_name")
# "{{" and "}}" are a literal brace; "{name}" a placeholder.
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}\s]{1,60})\}")
_WEBSITE = re.compile(r"^https?://[^\s/$.?#].[^\s]*$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COORDINATOR_KEY = "partners_coordinator_ids"
# Partner logos: the shared image pipeline, folder instance/uploads/partners.
LOGOS = PhotoStore("partners", field="logo")


# --- Roles ----------------------------------------------------------------------------------


def _authenticated(member: Member | None) -> bool:
    return member is not None and bool(getattr(member, "is_authenticated", False))


def _coordinator_ids() -> frozenset[int]:
    return shared(_COORDINATOR_KEY, lambda: frozenset(
        db.session.scalars(select(Coordinator.member_id))))


def is_coordinator(member: Member | None) -> bool:
    """Admins and partner coordinators run the pipeline and keep the partner records."""
    if not _authenticated(member):
        return False
    assert member is not None
    if member.is_admin:
        return True
    return (member.status in (MemberStatus.ACTIVE, MemberStatus.LEAVING)
            and member.id in _coordinator_ids())


def _require_coordinator(actor: Member | None) -> Member:
    if not is_coordinator(actor):
        raise PermissionDenied(_l("Only partner coordinators and admins can do this."))
    assert actor is not None
    return actor


def coordinators() -> list[Coordinator]:
    return list(db.session.scalars(select(Coordinator).order_by(Coordinator.id)))


def grant_coordinator(actor: Member, account_code: str) -> Member:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins give the partner coordinator role."))
    try:
        member = members.get_by_code(account_code.strip())
    except NotFound as exc:
        raise DomainError(_l("No member with that account code."), field="account_code") from exc
    if member.status not in (MemberStatus.ACTIVE, MemberStatus.LEAVING):
        raise DomainError(_l("Only active members can be partner coordinators."),
                          field="account_code")
    if member.id in _coordinator_ids():
        raise DomainError(_l("%(name)s is already a partner coordinator.",
                             name=member.display_name), field="account_code")
    db.session.add(Coordinator(member_id=member.id))
    db.session.flush()
    forget(_COORDINATOR_KEY)
    audit.record_for_member(actor, "partners.coordinator_add", member)
    return member


def revoke_coordinator(actor: Member, member_id: int) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins take the partner coordinator role away."))
    row = db.session.scalar(select(Coordinator).where(Coordinator.member_id == member_id))
    if row is None:
        raise DomainError(_l("That member is not a partner coordinator."))
    member = row.member
    db.session.delete(row)
    db.session.flush()
    forget(_COORDINATOR_KEY)
    audit.record_for_member(actor, "partners.coordinator_remove", member)


# --- Small checks ---------------------------------------------------------------------------


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())[:NAME_MAX]


def _text(value: str, limit: int, field_name: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise DomainError(_l("This text is too long: at most %(n)d characters.", n=limit),
                          field=field_name)
    return value


def _website(url: str) -> str:
    url = _text(url, SHORT_MAX, "website")
    if url and not _WEBSITE.match(url):
        raise DomainError(_l("A website address starts with http:// or https://."),
                          field="website")
    return url


def _email(value: str, field_name: str) -> str:
    value = _text(value, 254, field_name)
    if value and not _EMAIL.match(value):
        raise DomainError(_l("This is not an e-mail address."), field=field_name)
    return value


def _choice(value: str, allowed: Any, field_name: str, message: Any) -> str:
    if value not in {str(v) for v in allowed}:
        raise DomainError(message, field=field_name)
    return value


def today() -> date:
    """Today in the group's time zone."""
    return datetime.now(zone()).date()


def _load(model: Any, object_id: int) -> Any:
    return db.session.get(model, object_id) if 0 < object_id <= MAX_ID else None


# --- The directory --------------------------------------------------------------------------


@dataclass
class PartnerData:
    name: str = ""
    sector: str = "other"
    description: str = ""
    website: str = ""
    address: str = ""
    gives: str = ""
    needs: str = ""
    visibility: str = Visibility.PUBLIC
    logo: IO[bytes] | None = None  # a new logo (an upload), checked by the pipeline
    remove_logo: bool = False


@dataclass
class Entry:
    """One line of the directory: a partner record, or a member organisation that has
    none yet (it is listed all the same, from the organisations feature)."""

    slug: str
    title: str
    kind: str
    sector: str = ""
    gives: str = ""
    needs: str = ""
    partner: Partner | None = None


def visible_partners(viewer: Member | None) -> list[Partner]:
    query = select(Partner)
    if not _authenticated(viewer):
        query = query.where(Partner.visibility == Visibility.PUBLIC)
    partners = list(db.session.scalars(query))
    # A member organisation that stopped is no partner any more.
    return [p for p in partners if p.organisation is None or p.organisation.status == "active"]


def directory(viewer: Member | None, sector: str = "", kind: str = "") -> list[Entry]:
    """Every organisation the group works with that this viewer may see, by name."""
    entries = [Entry(slug=p.slug, title=p.title, kind=p.kind, sector=p.sector, gives=p.gives,
                     needs=p.needs, partner=p) for p in visible_partners(viewer)]
    linked = set(db.session.scalars(select(Partner.organisation_id)
                                    .where(Partner.organisation_id.is_not(None))))
    entries += [Entry(slug=org.slug, title=org.name, kind=Kind.MEMBER)
                for org in organisations.list_organisations() if org.id not in linked]
    if sector:
        entries = [e for e in entries if e.sector == sector]
    if kind:
        entries = [e for e in entries if e.kind == kind]
    return sorted(entries, key=lambda e: (e.title.casefold(), e.slug))


def find_page(slug: str, viewer: Member | None) -> tuple[Partner | None, Organisation | None]:
    """What ``/partners/<slug>`` shows: a partner record, or a member organisation without
    one. A members-only partner raises PermissionDenied for a visitor."""
    partner = db.session.scalar(select(Partner).where(Partner.slug == slug))
    if partner is not None:
        if partner.organisation is not None and partner.organisation.status != "active":
            raise NotFound(_l("There is no such partner."))
        if not partner.can_view(viewer):
            raise PermissionDenied(_l("Only members of the group can see this partner."))
        return partner, partner.organisation
    try:
        org = organisations.get_by_slug(slug)
    except NotFound as exc:
        raise NotFound(_l("There is no such partner.")) from exc
    if org.status != "active":
        raise NotFound(_l("There is no such partner."))
    return None, org


def get_partner(slug: str) -> Partner:
    partner = db.session.scalar(select(Partner).where(Partner.slug == slug))
    if partner is None:
        raise NotFound(_l("There is no such partner."))
    return partner


# Paths of the feature's own pages: never a partner's slug.
RESERVED_SLUGS = frozenset({"new", "prospects", "scripts", "collaborations",
                            "collaborations.csv"})


def _slug_taken(slug: str) -> bool:
    if slug in RESERVED_SLUGS:
        return True
    if db.session.scalar(select(Partner.id).where(Partner.slug == slug)) is not None:
        return True
    try:
        organisations.get_by_slug(slug)
    except NotFound:
        return False
    return True


def _unique_slug(name: str) -> str:
    base = slugify(name, fallback="partner")
    slug, n = base, 2
    while _slug_taken(slug):
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_name_free(name: str, except_id: int | None = None) -> str:
    key = _name_key(name)
    found = db.session.scalar(select(Partner.id).where(Partner.name_key == key))
    if found is not None and found != except_id:
        raise DomainError(_l("There is already a partner called %(name)s.", name=name),
                          field="name")
    return key


def _apply(partner: Partner, data: PartnerData) -> None:
    partner.sector = _choice(data.sector, labels.SECTORS, "sector", _l("Choose a sector."))
    partner.description = _text(data.description, TEXT_MAX, "description")
    partner.website = _website(data.website)
    partner.address = _text(data.address, SHORT_MAX, "address")
    partner.gives = _text(data.gives, TEXT_MAX, "gives")
    partner.needs = _text(data.needs, TEXT_MAX, "needs")
    partner.visibility = _choice(data.visibility, Visibility, "visibility",
                                 _l("Choose who can see it."))
    if data.remove_logo:
        partner.logo_key = partner.logo_width = partner.logo_height = None
    if data.logo is not None:
        stored = LOGOS.store(data.logo)
        partner.logo_key = stored.key
        partner.logo_width, partner.logo_height = stored.thumb_width, stored.thumb_height
    partner.updated_at = utcnow()


def logo_audience(key: str, viewer: Member | None) -> str | None:
    """Who may fetch the logo with this key: ``PUBLIC`` when a partner anyone may see
    shows it, ``MEMBERS`` when only partners this viewer may see do, None otherwise."""
    partners = [p for p in db.session.scalars(select(Partner).where(Partner.logo_key == key))
                if p.organisation is None or p.organisation.status == "active"]
    if any(p.can_view(None) for p in partners):
        return PUBLIC
    return MEMBERS if any(p.can_view(viewer) for p in partners) else None


def create_partner(actor: Member, data: PartnerData) -> Partner:
    """A collaboration partner (not a member of the group)."""
    _require_coordinator(actor)
    name = _text(data.name, NAME_MAX, "name")
    if not name:
        raise DomainError(_l("Fill in the name."), field="name")
    partner = Partner(kind=Kind.COLLABORATION, name=name, name_key=_check_name_free(name),
                      slug=_unique_slug(name))
    _apply(partner, data)
    db.session.add(partner)
    db.session.flush()
    audit.record(actor, "partners.create", target_type="partner", target_id=partner.slug,
                 target_label=partner.title)
    signals.partner_added.send(partner, actor=actor)
    return partner


def adopt_organisation(actor: Member, org_slug: str) -> Partner:
    """A partner record for a member organisation (to keep collaborations and contacts):
    its name, description and website stay the organisation's own."""
    _require_coordinator(actor)
    try:
        org = organisations.get_by_slug(org_slug)
    except NotFound as exc:
        raise NotFound(_l("There is no such partner.")) from exc
    if db.session.scalar(select(Partner.id).where(Partner.organisation_id == org.id)):
        raise DomainError(_l("This organisation has a partner page already."))
    key = _name_key(org.name)
    if db.session.scalar(select(Partner.id).where(Partner.name_key == key)) is not None:
        raise DomainError(_l("There is already a partner called %(name)s.", name=org.name))
    slug = org.slug if org.slug not in RESERVED_SLUGS and db.session.scalar(
        select(Partner.id).where(Partner.slug == org.slug)) is None else _unique_slug(org.name)
    partner = Partner(kind=Kind.MEMBER, organisation_id=org.id, name=org.name, name_key=key,
                      slug=slug, sector="other", visibility=Visibility.PUBLIC)
    db.session.add(partner)
    db.session.flush()
    audit.record(actor, "partners.adopt", target_type="partner", target_id=partner.slug,
                 target_label=org.name, details={"organisation": org.slug})
    signals.partner_added.send(partner, actor=actor)
    return partner


def update_partner(actor: Member, partner: Partner, data: PartnerData) -> Partner:
    _require_coordinator(actor)
    if partner.organisation is None:
        name = _text(data.name, NAME_MAX, "name")
        if not name:
            raise DomainError(_l("Fill in the name."), field="name")
        partner.name_key = _check_name_free(name, partner.id)
        partner.name = name
    _apply(partner, data)
    db.session.flush()
    audit.record(actor, "partners.edit", target_type="partner", target_id=partner.slug,
                 target_label=partner.title)
    return partner


def delete_partner(actor: Member, partner: Partner) -> None:
    """Remove a partner record with its collaborations and contacts (a member
    organisation itself stays)."""
    _require_coordinator(actor)
    slug, title = partner.slug, partner.title
    for prospect in db.session.scalars(select(Prospect).where(Prospect.partner_id == partner.id)):
        prospect.partner_id = None
    db.session.delete(partner)
    db.session.flush()
    audit.record(actor, "partners.delete", target_type="partner", target_id=slug,
                 target_label=title)


# --- Contact persons ------------------------------------------------------------------------


@dataclass
class ContactData:
    name: str
    role: str = ""
    email: str = ""
    phone: str = ""
    visibility: str = ContactVisibility.MEMBERS


def add_contact(actor: Member, partner: Partner, data: ContactData) -> PartnerContact:
    _require_coordinator(actor)
    name = _text(data.name, 120, "name")
    if not name:
        raise DomainError(_l("Fill in the name."), field="name")
    contact = PartnerContact(
        name=name, role=_text(data.role, 120, "role"), email=_email(data.email, "email"),
        phone=_text(data.phone, 40, "phone"),
        visibility=_choice(data.visibility, ContactVisibility, "visibility",
                           _l("Choose who can see it.")),
    )
    partner.contacts.append(contact)
    db.session.flush()
    audit.record(actor, "partners.contact_add", target_type="partner", target_id=partner.slug,
                 target_label=partner.title, details={"contact": name})
    return contact


def remove_contact(actor: Member, partner: Partner, contact_id: int) -> None:
    _require_coordinator(actor)
    contact = next((c for c in partner.contacts if c.id == contact_id), None)
    if contact is None:
        raise DomainError(_l("That contact person is not listed for this partner."))
    partner.contacts.remove(contact)
    db.session.flush()
    audit.record(actor, "partners.contact_remove", target_type="partner",
                 target_id=partner.slug, target_label=partner.title,
                 details={"contact": contact.name})


# --- Collaborations -------------------------------------------------------------------------


@dataclass
class CollaborationData:
    happened_on: date | None
    title: str
    description: str = ""
    support: list[str] = field(default_factory=list)
    amount: Decimal | None = None
    open_to_non_members: bool = False
    visitors: int | None = None
    visibility: str = Visibility.PUBLIC
    event_id: int | None = None  # the event it came from (features.linked("event", ...))


EVENT = "event"  # the kind of Linkable a collaboration names (the events feature has them)


def _check_event(event_id: int | None, actor: Member | None, current: int | None) -> int | None:
    """The event a collaboration names: one the actor may see (the one it names already
    stays, even if the actor could not pick it), or none."""
    if event_id is None or event_id == current:
        return event_id
    if event_id not in features.linked(EVENT, [event_id], actor):
        raise DomainError(_l("Choose an event from the list."), field="event_id")
    return event_id


def _apply_collaboration(item: Collaboration, data: CollaborationData,
                         actor: Member | None = None) -> None:
    if data.happened_on is None:
        raise DomainError(_l("Fill in the date."), field="happened_on")
    if data.happened_on.year < 1900 or data.happened_on > today().replace(
            year=today().year + 2):
        raise DomainError(_l("That date is too far away."), field="happened_on")
    title = _text(data.title, NAME_MAX, "title")
    if not title:
        raise DomainError(_l("Say what you did together."), field="title")
    support = []
    for value in data.support:
        support.append(_choice(value, Support, "support", _l("Choose the kind of support.")))
    amount_cents = None
    if data.amount is not None:
        if Support.MONEY not in support:
            raise DomainError(_l("An amount goes with money support: tick 'money' or leave "
                                 "the amount empty."), field="amount")
        if not data.amount.is_finite() or data.amount < 0:
            raise DomainError(_l("The amount cannot be negative."), field="amount")
        if data.amount > MAX_AMOUNT:
            raise DomainError(_l("That amount is too large."), field="amount")
        amount_cents = int((data.amount * 100).quantize(Decimal(1)))
    if data.visitors is not None and not 0 <= data.visitors <= MAX_VISITORS:
        raise DomainError(_l("Give the number of visitors, or leave it empty."),
                          field="visitors")
    item.happened_on = data.happened_on
    item.title = title
    item.description = _text(data.description, TEXT_MAX, "description")
    item.support = ",".join(s.value for s in Support if s.value in support)
    item.amount_cents = amount_cents
    item.open_to_non_members = bool(data.open_to_non_members)
    item.visitors = data.visitors
    item.visibility = _choice(data.visibility, Visibility, "visibility",
                              _l("Choose who can see it."))
    item.event_id = _check_event(data.event_id, actor, item.event_id)
    item.updated_at = utcnow()


def add_collaboration(actor: Member, partner: Partner, data: CollaborationData) -> Collaboration:
    _require_coordinator(actor)
    item = Collaboration(partner_id=partner.id)
    _apply_collaboration(item, data, actor)
    db.session.add(item)
    db.session.flush()
    audit.record(actor, "partners.collaboration_add", target_type="partner",
                 target_id=partner.slug, target_label=partner.title,
                 details={"title": item.title, "date": item.happened_on.isoformat()})
    signals.collaboration_recorded.send(item, actor=actor)
    return item


def get_collaboration(partner: Partner, collaboration_id: int) -> Collaboration:
    item = _load(Collaboration, collaboration_id)
    if item is None or item.partner_id != partner.id:
        raise NotFound(_l("There is no such collaboration."))
    return item


def update_collaboration(actor: Member, item: Collaboration,
                         data: CollaborationData) -> Collaboration:
    _require_coordinator(actor)
    _apply_collaboration(item, data, actor)
    db.session.flush()
    audit.record(actor, "partners.collaboration_edit", target_type="partner",
                 target_id=item.partner.slug, target_label=item.partner.title,
                 details={"title": item.title, "date": item.happened_on.isoformat()})
    return item


def delete_collaboration(actor: Member, item: Collaboration) -> None:
    _require_coordinator(actor)
    partner = item.partner
    details = {"title": item.title, "date": item.happened_on.isoformat()}
    db.session.delete(item)
    db.session.flush()
    audit.record(actor, "partners.collaboration_delete", target_type="partner",
                 target_id=partner.slug, target_label=partner.title, details=details)


def collaborations_of(partner: Partner, viewer: Member | None) -> list[Collaboration]:
    return [c for c in partner.collaborations if c.can_view(viewer)]


def events_of(items: list[Collaboration], viewer: Member | None) -> dict[int, features.Item]:
    """The events these collaborations came from that the viewer may see, by id."""
    return features.linked(EVENT, [c.event_id for c in items], viewer)


def event_choices(viewer: Member | None, current: int | None = None
                  ) -> list[tuple[int, features.Item]]:
    """Events a collaboration may name, latest first; the one it names already stays."""
    found = features.link_choices(EVENT, viewer)
    if current is not None and all(i != current for i, _item in found):
        found = list(features.linked(EVENT, [current], viewer).items()) + found
    return found


def from_event(event_id: int, viewer: Member | None) -> list[Collaboration]:
    """The collaborations that name this event, as the viewer may see them."""
    query = (select(Collaboration).where(Collaboration.event_id == event_id)
             .order_by(Collaboration.happened_on, Collaboration.id))
    return [c for c in db.session.scalars(query) if c.can_view(viewer)]


def collaboration_years(viewer: Member | None) -> list[int]:
    """The years with collaborations this viewer may see, newest first."""
    found = {c.happened_on.year for c in _visible_collaborations(viewer)}
    return sorted(found, reverse=True)


def _visible_collaborations(viewer: Member | None, year: int | None = None
                            ) -> list[Collaboration]:
    query = select(Collaboration).join(Partner)
    if not _authenticated(viewer):
        query = query.where(Collaboration.visibility == Visibility.PUBLIC,
                            Partner.visibility == Visibility.PUBLIC)
    if year is not None:
        query = query.where(extract("year", Collaboration.happened_on) == year)
    query = query.order_by(Collaboration.happened_on, Collaboration.id)
    return [c for c in db.session.scalars(query) if c.can_view(viewer)]


@dataclass
class YearReport:
    year: int
    items: list[Collaboration]
    partners: int
    money_cents: int
    visitors: int
    # The events the items came from, as the viewer may see them, by id.
    events: dict[int, features.Item] = field(default_factory=dict)


def year_report(viewer: Member | None, year: int) -> YearReport:
    items = _visible_collaborations(viewer, year)
    return YearReport(
        year=year, items=items, partners=len({c.partner_id for c in items}),
        money_cents=sum(c.amount_cents or 0 for c in items),
        visitors=sum(c.visitors or 0 for c in items),
        events=events_of(items, viewer),
    )


def euros(cents: int | None) -> str:
    """Plain euro text for CSV: ``1234.50`` (the spreadsheet writes its own decimal mark)."""
    if cents is None:
        return ""
    return f"{cents // 100}.{cents % 100:02d}"


# --- The prospects pipeline -----------------------------------------------------------------


@dataclass
class ProspectData:
    name: str
    sector: str = "other"
    owner_id: int | None = None
    next_step: str = ""
    next_step_on: date | None = None
    contact_name: str = ""
    contact_email: str = ""
    website: str = ""
    notes: str = ""


@dataclass
class LogData:
    happened_on: date | None
    medium: str
    summary: str


def _check_owner(owner_id: int | None) -> int | None:
    if owner_id is None:
        return None
    owner = _load(Member, owner_id)
    if owner is None or not is_coordinator(owner):
        raise DomainError(_l("The owner must be a partner coordinator or an admin."),
                          field="owner_id")
    return owner.id


def _check_prospect_name(name: str, except_id: int | None = None) -> str:
    key = _name_key(name)
    found = db.session.scalar(select(Prospect.id).where(Prospect.name_key == key))
    if found is not None and found != except_id:
        raise DomainError(_l("%(name)s is on the list already.", name=name), field="name")
    if except_id is None and db.session.scalar(select(Partner.id).where(Partner.name_key == key)):
        raise DomainError(_l("%(name)s is a partner already.", name=name), field="name")
    return key


def _apply_prospect(prospect: Prospect, data: ProspectData) -> None:
    name = _text(data.name, NAME_MAX, "name")
    if not name:
        raise DomainError(_l("Fill in the name."), field="name")
    prospect.name_key = _check_prospect_name(name, prospect.id)
    prospect.name = name
    prospect.sector = _choice(data.sector, labels.SECTORS, "sector", _l("Choose a sector."))
    prospect.owner_id = _check_owner(data.owner_id)
    prospect.next_step = _text(data.next_step, NEXT_STEP_MAX, "next_step")
    if data.next_step_on != prospect.next_step_on:
        # A date typed now must lie ahead; one saved earlier may have passed (overdue).
        if data.next_step_on is not None and data.next_step_on < today():
            raise DomainError(_l("The date of the next step has passed: choose today or a "
                                 "later day."), field="next_step_on")
        prospect.next_step_on = data.next_step_on
    prospect.contact_name = _text(data.contact_name, 120, "contact_name")
    prospect.contact_email = _email(data.contact_email, "contact_email")
    prospect.website = _website(data.website)
    prospect.notes = _text(data.notes, TEXT_MAX, "notes")
    prospect.updated_at = utcnow()


def create_prospect(actor: Member, data: ProspectData) -> Prospect:
    _require_coordinator(actor)
    prospect = Prospect(status=Status.IDEA)
    _apply_prospect(prospect, data)
    db.session.add(prospect)
    db.session.flush()
    audit.record(actor, "partners.prospect_create", target_type="prospect",
                 target_id=prospect.id, target_label=prospect.name)
    return prospect


def update_prospect(actor: Member, prospect: Prospect, data: ProspectData) -> Prospect:
    _require_coordinator(actor)
    _apply_prospect(prospect, data)
    db.session.flush()
    audit.record(actor, "partners.prospect_edit", target_type="prospect",
                 target_id=prospect.id, target_label=prospect.name)
    return prospect


def get_prospect(actor: Member, prospect_id: int) -> Prospect:
    _require_coordinator(actor)
    prospect = _load(Prospect, prospect_id)
    if prospect is None:
        raise NotFound(_l("There is no such prospect."))
    return prospect


def board(actor: Member) -> dict[str, list[Prospect]]:
    """The prospects per stage, in board order; each stage's cards by next-step date."""
    _require_coordinator(actor)
    columns: dict[str, list[Prospect]] = {s.value: [] for s in Status}
    rows = db.session.scalars(select(Prospect).order_by(Prospect.name_key))
    for prospect in rows:
        columns.setdefault(prospect.status, []).append(prospect)
    for cards in columns.values():
        cards.sort(key=lambda p: (p.next_step_on is None, p.next_step_on or date.max,
                                  p.name_key))
    return columns


def move_prospect(actor: Member, prospect: Prospect, status: str) -> Prospect:
    """Move a card on the board. Reaching "partner" makes the prospect a partner record
    (or links it to the partner of that name), keeping its history."""
    _require_coordinator(actor)
    if status not in {s.value for s in Status}:
        raise DomainError(_l("That is not a stage of the pipeline."), field="status")
    if status == prospect.status:
        raise DomainError(_l("The prospect is in that stage already."), field="status")
    if status not in TRANSITIONS.get(prospect.status, frozenset()):
        raise DomainError(
            _l("A prospect cannot go from \u201c%(old)s\u201d to \u201c%(new)s\u201d.",
               old=labels.label(labels.STATUSES, prospect.status),
               new=labels.label(labels.STATUSES, status)), field="status")
    old = prospect.status
    prospect.status = status
    prospect.updated_at = utcnow()
    if status == Status.PARTNER:
        prospect.partner = _partner_from(actor, prospect)
        prospect.next_step_on = None
    db.session.add(ProspectLog(prospect_id=prospect.id, kind=LogKind.STATUS,
                               happened_on=today(), old_status=old, new_status=status,
                               actor_id=actor.id))
    db.session.flush()
    audit.record(actor, "partners.prospect_move", target_type="prospect",
                 target_id=prospect.id, target_label=prospect.name,
                 details={"from": old, "to": status})
    return prospect


def _partner_from(actor: Member, prospect: Prospect) -> Partner:
    existing = db.session.scalar(select(Partner).where(Partner.name_key == prospect.name_key))
    if existing is not None:
        return existing
    partner = Partner(kind=Kind.COLLABORATION, name=prospect.name, name_key=prospect.name_key,
                      slug=_unique_slug(prospect.name), sector=prospect.sector,
                      website=prospect.website,
                      # Members only until a coordinator has written its public text.
                      visibility=Visibility.MEMBERS)
    if prospect.contact_name:
        partner.contacts.append(PartnerContact(
            name=prospect.contact_name, email=prospect.contact_email,
            visibility=ContactVisibility.COORDINATORS))
    db.session.add(partner)
    db.session.flush()
    audit.record(actor, "partners.create", target_type="partner", target_id=partner.slug,
                 target_label=partner.title, details={"prospect": prospect.id})
    signals.partner_added.send(partner, actor=actor)
    return partner


def log_contact(actor: Member, prospect: Prospect, data: LogData) -> ProspectLog:
    _require_coordinator(actor)
    if data.happened_on is None:
        raise DomainError(_l("Fill in the date."), field="happened_on")
    if data.happened_on > today():
        raise DomainError(_l("A contact is logged once it happened: the date cannot be in "
                             "the future."), field="happened_on")
    if data.happened_on.year < 1900:
        raise DomainError(_l("That date is too far away."), field="happened_on")
    medium = _choice(data.medium, Medium, "medium", _l("Choose how you were in contact."))
    summary = _text(data.summary, TEXT_MAX, "summary")
    if not summary:
        raise DomainError(_l("Write what was said or agreed."), field="summary")
    entry = ProspectLog(prospect_id=prospect.id, kind=LogKind.CONTACT,
                        happened_on=data.happened_on, medium=medium, summary=summary,
                        actor_id=actor.id)
    db.session.add(entry)
    prospect.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "partners.prospect_contact", target_type="prospect",
                 target_id=prospect.id, target_label=prospect.name,
                 details={"date": data.happened_on.isoformat(), "medium": medium})
    return entry


def next_steps_of(member: Member | None, limit: int = 5) -> list[Prospect]:
    """The open prospects a coordinator owns that have a next step, soonest first (for
    their home page); nothing for anyone else."""
    if not is_coordinator(member):
        return []
    assert member is not None
    rows = db.session.scalars(
        select(Prospect).where(Prospect.owner_id == member.id,
                               Prospect.status.in_([s.value for s in OPEN_STATUSES]),
                               Prospect.next_step_on.is_not(None))
        .order_by(Prospect.next_step_on, Prospect.id).limit(limit))
    return list(rows)


# The notification kind this feature sends (coordinators may switch it off; feature.py).
STEP_DUE = "partners.step_due"


def step_due_notices(now: datetime) -> list[features.Notice]:
    """Open prospects whose next step is due today or overdue: a reminder to the
    coordinator who owns it, once per prospect and step date."""
    day = now.astimezone(zone()).date()
    rows = db.session.scalars(
        select(Prospect).where(Prospect.owner_id.is_not(None),
                               Prospect.status.in_([s.value for s in OPEN_STATUSES]),
                               Prospect.next_step_on.is_not(None),
                               Prospect.next_step_on <= day)
        .order_by(Prospect.next_step_on, Prospect.id))
    return [features.Notice(
        recipient=p.owner, subject=_l("Next step for %(name)s", name=p.name),
        template="partners/mail/step_due.txt",
        once=f"{p.id}:{p.next_step_on.isoformat()}:{p.owner_id}",
        context={"prospect": p, "url": external_url("partners.prospect", prospect_id=p.id)})
        for p in rows if p.owner is not None and is_coordinator(p.owner)]


def history_of(partner: Partner) -> list[ProspectLog]:
    """The pipeline history of the prospect that became this partner (newest first)."""
    rows = db.session.scalars(
        select(ProspectLog).join(Prospect).where(Prospect.partner_id == partner.id)
        .order_by(ProspectLog.happened_on.desc(), ProspectLog.id.desc()))
    return list(rows)


def owner_choices() -> list[Member]:
    """Who may own a prospect: admins and partner coordinators, by name."""
    found = {c.member.id: c.member for c in coordinators()
             if c.member.status in (MemberStatus.ACTIVE, MemberStatus.LEAVING)}
    admins = db.session.scalars(
        select(Member).join(MemberRole).where(MemberRole.role == Role.ADMIN,
                                              Member.status == MemberStatus.ACTIVE))
    for admin in admins:
        found[admin.id] = admin
    return sorted(found.values(), key=lambda m: m.display_name.casefold())


# --- Contact scripts ------------------------------------------------------------------------


@dataclass
class ScriptData:
    title: str
    language: str
    subject: str
    body: str
    shared: bool = False  # published for other LETS groups (shared.json)


@dataclass
class Rendered:
    subject: str
    body: str  # plain text: the e-mail, and what the page shows to copy (escaped there)
    letter: str  # Markdown for the printed letter: the values escaped, the script's own
    unknown: list[str]  # Markdown kept


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!>])")


def _markdown_text(value: str) -> str:
    """A value shown as typed inside Markdown: HTML escaped, Markdown's marks escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(value, quote=False))


def unknown_placeholders(*texts: str) -> list[str]:
    found: list[str] = []
    for text in texts:
        for match in _PLACEHOLDER.finditer(text):
            name = match.group(1)
            if name is not None and name not in PLACEHOLDERS and name not in found:
                found.append(name)
    return found


def fill(text: str, values: dict[str, str]) -> str:
    """The text with each known placeholder replaced; an unknown one stays as written."""

    def replace(match: re.Match[str]) -> str:
        whole, name = match.group(0), match.group(1)
        if name is None:
            return whole[0]  # "{{" -> "{", "}}" -> "}"
        return values.get(name, whole) if name in PLACEHOLDERS else whole

    return _PLACEHOLDER.sub(replace, text)


def _check_script(data: ScriptData) -> ScriptData:
    title = _text(data.title, 120, "title")
    if not title:
        raise DomainError(_l("Fill in a title."), field="title")
    language = _choice(data.language, SCRIPT_LANGUAGES, "language", _l("Choose a language."))
    subject = _text(data.subject, SUBJECT_MAX, "subject")
    if not subject:
        raise DomainError(_l("Fill in the subject."), field="subject")
    body = _text(data.body, BODY_MAX, "body")
    if not body:
        raise DomainError(_l("Write the text."), field="body")
    for name, value in (("subject", subject), ("body", body)):
        unknown = unknown_placeholders(value)
        if unknown:
            raise DomainError(
                _l("Unknown placeholder: %(names)s. You can use %(known)s.",
                   names=", ".join("{%s}" % n for n in unknown),  # noqa: UP031
                   known=", ".join("{%s}" % n for n in PLACEHOLDERS)),  # noqa: UP031
                field=name)
    return ScriptData(title=title, language=language, subject=subject, body=body,
                      shared=bool(data.shared))


def _script_title_free(title: str, language: str, except_id: int | None = None) -> None:
    found = db.session.scalar(select(ContactScript.id).where(
        func.lower(ContactScript.title) == title.lower(), ContactScript.language == language))
    if found is not None and found != except_id:
        raise DomainError(_l("There is a script with this title in this language already."),
                          field="title")


def scripts(actor: Member) -> list[ContactScript]:
    _require_coordinator(actor)
    return list(db.session.scalars(select(ContactScript).order_by(ContactScript.language,
                                                                  ContactScript.title)))


def get_script(actor: Member, script_id: int) -> ContactScript:
    _require_coordinator(actor)
    script = _load(ContactScript, script_id)
    if script is None:
        raise NotFound(_l("There is no such script."))
    return script


def create_script(actor: Member, data: ScriptData) -> ContactScript:
    _require_coordinator(actor)
    data = _check_script(data)
    _script_title_free(data.title, data.language)
    script = ContactScript(title=data.title, language=data.language, subject=data.subject,
                           body=data.body, shared=data.shared)
    db.session.add(script)
    if script.shared:
        _shared_changed()
    db.session.flush()
    audit.record(actor, "partners.script_create", target_type="script", target_id=script.id,
                 target_label=script.title)
    return script


def update_script(actor: Member, script: ContactScript, data: ScriptData) -> ContactScript:
    _require_coordinator(actor)
    data = _check_script(data)
    _script_title_free(data.title, data.language, script.id)
    if script.shared or data.shared:
        _shared_changed()
    script.title, script.language = data.title, data.language
    script.subject, script.body = data.subject, data.body
    script.shared = data.shared
    script.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "partners.script_edit", target_type="script", target_id=script.id,
                 target_label=script.title)
    return script


def delete_script(actor: Member, script: ContactScript) -> None:
    _require_coordinator(actor)
    script_id, title = script.id, script.title
    if script.shared:
        _shared_changed()
    db.session.delete(script)
    db.session.flush()
    audit.record(actor, "partners.script_delete", target_type="script", target_id=script_id,
                 target_label=title)


def script_values() -> ScriptValues:
    row = db.session.get(ScriptValues, 1)
    return row if row is not None else ScriptValues(id=1, our_offer="", next_intro_evening="")


def _values_row() -> ScriptValues:
    row = db.session.get(ScriptValues, 1)
    if row is None:
        row = ScriptValues(id=1, our_offer="", next_intro_evening="")
        db.session.add(row)
    return row


def _shared_changed() -> None:
    """The shared scripts change (shared.json's Last-Modified and the feed's link)."""
    _values_row().shared_changed_at = utcnow()


def set_script_values(actor: Member, our_offer: str, next_intro_evening: str) -> ScriptValues:
    _require_coordinator(actor)
    row = _values_row()
    row.our_offer = _text(our_offer, 2000, "our_offer")
    row.next_intro_evening = _text(next_intro_evening, 200, "next_intro_evening")
    row.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "partners.script_values", target_type="script", target_id="values")
    return row


def render_script(actor: Member, script: ContactScript, prospect: Prospect) -> Rendered:
    """The script filled in for a prospect: plain text (the page escapes it). Unknown
    placeholders (a script imported from elsewhere) are reported by name and left as
    written."""
    _require_coordinator(actor)
    values = {
        "organisation": prospect.name,
        "contact_name": prospect.contact_name,
        "group_name": get_settings().group_name,
        "sender_name": actor.full_name or actor.display_name,
        **script_values().as_dict(),
    }
    return Rendered(subject=" ".join(fill(script.subject, values).split()),
                    body=fill(script.body, values),
                    letter=fill(script.body, {k: _markdown_text(v) for k, v in values.items()}),
                    unknown=unknown_placeholders(script.subject, script.body))


def send_script(actor: Member, prospect: Prospect, script: ContactScript) -> ProspectLog:
    """Send the script, filled in, to the prospect's contact; the contact is logged."""
    rendered = render_script(actor, script, prospect)
    if rendered.unknown:
        raise DomainError(_l("The script has unknown placeholders (%(names)s): correct the "
                             "script first.",
                             names=", ".join("{%s}" % n for n in rendered.unknown)))  # noqa: UP031
    if not prospect.contact_email:
        raise DomainError(_l("This prospect has no e-mail address: add one, or print the "
                             "letter."))
    send_after_commit(Mail(to=prospect.contact_email, subject=rendered.subject,
                           body=rendered.body, reply_to=actor.email or None))
    entry = ProspectLog(prospect_id=prospect.id, kind=LogKind.SCRIPT, happened_on=today(),
                        medium=Medium.EMAIL,
                        summary=f"{script.title} ({script.language}): {rendered.subject}",
                        actor_id=actor.id)
    db.session.add(entry)
    prospect.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "partners.script_send", target_type="prospect", target_id=prospect.id,
                 target_label=prospect.name, details={"script": script.id,
                                                      "to": prospect.contact_email})
    return entry


def export_scripts(actor: Member) -> dict[str, Any]:
    """The scripts as JSON, to share with other groups (or the federation)."""
    return {
        "format": SCRIPTS_FORMAT,
        "version": SCRIPTS_VERSION,
        "group": get_settings().group_name,
        "placeholders": list(PLACEHOLDERS),
        "scripts": [{"title": s.title, "language": s.language, "subject": s.subject,
                     "body": s.body} for s in scripts(actor)],
    }


@dataclass
class ImportReport:
    added: list[str]
    skipped: list[str]


def import_scripts(actor: Member, raw: bytes) -> ImportReport:
    """Scripts from a JSON export. All or nothing: a script with a problem refuses the
    file, named; a script whose title exists in its language already is skipped."""
    _require_coordinator(actor)
    if len(raw) > IMPORT_MAX_BYTES:
        raise DomainError(_l("The file is too large: at most %(n)d KB.",
                             n=IMPORT_MAX_BYTES // 1024), field="file")
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DomainError(_l("This is not a file of contact scripts (JSON)."),
                          field="file") from exc
    if (not isinstance(document, dict) or document.get("format") != SCRIPTS_FORMAT
            or not isinstance(document.get("scripts"), list)):
        raise DomainError(_l("This is not a file of contact scripts (JSON)."), field="file")
    if document.get("version") != SCRIPTS_VERSION:
        raise DomainError(_l("This file has a version of the format this site does not "
                             "read."), field="file")
    entries = document["scripts"]
    if len(entries) > IMPORT_MAX_SCRIPTS:
        raise DomainError(_l("At most %(n)d scripts per file.", n=IMPORT_MAX_SCRIPTS),
                          field="file")
    report = ImportReport(added=[], skipped=[])
    checked: list[ScriptData] = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not all(
                isinstance(entry.get(k), str) for k in ("title", "language", "subject", "body")):
            raise DomainError(_l("Script %(n)d in the file is incomplete.", n=number),
                              field="file")
        try:
            data = _check_script(ScriptData(title=entry["title"], language=entry["language"],
                                            subject=entry["subject"], body=entry["body"]))
        except DomainError as error:
            raise DomainError(_l("Script %(n)d (%(title)s): %(problem)s", n=number,
                                 title=str(entry["title"])[:80], problem=str(error)),
                              field="file") from error
        checked.append(data)
    for data in checked:
        (report.skipped if _add_imported(data) is None else report.added).append(data.title)
    audit.record(actor, "partners.script_import", target_type="script", target_id="import",
                 details={"added": report.added, "skipped": report.skipped})
    return report


def _add_imported(data: ScriptData) -> ContactScript | None:
    """Add a checked script that came from elsewhere (not shared on: the group decides);
    None when a script with its title exists in its language (it is not overwritten)."""
    try:
        _script_title_free(data.title, data.language)
    except DomainError:
        return None
    script = ContactScript(title=data.title, language=data.language, subject=data.subject,
                           body=data.body, shared=False)
    db.session.add(script)
    db.session.flush()
    return script


# --- Sharing with other groups --------------------------------------------------------------


def shared_scripts() -> list[ContactScript]:
    """The scripts the coordinators share with other LETS groups (public)."""
    return list(db.session.scalars(
        select(ContactScript).where(ContactScript.shared.is_(True))
        .order_by(ContactScript.language, ContactScript.title, ContactScript.id)))


def _sharing() -> tuple[bool, datetime | None]:
    """(any script shared, when the shared set last changed): one query, once per request
    and transaction (the feed asks twice)."""

    def load() -> tuple[bool, datetime | None]:
        one = select(ContactScript.id).where(ContactScript.shared.is_(True)).limit(1)
        changed = select(ScriptValues.shared_changed_at).where(ScriptValues.id == 1)
        row = db.session.execute(select(one.scalar_subquery(),
                                        changed.scalar_subquery())).one()
        return row[0] is not None, row[1]

    return cached("partners.sharing", load)


def shared_changed_at() -> datetime | None:
    """When the shared scripts last changed (None: never)."""
    return _sharing()[1]


def any_shared() -> bool:
    return _sharing()[0]


def shared_document(group_url: str, url: str) -> dict[str, Any]:
    """The shared scripts in the export's format, as written: the placeholders stay, the
    values the group fills in ({our_offer} ...) are never part of it. ``group_url`` and
    ``url`` (the group's home page and this document) are absolute."""
    return {
        "format": SCRIPTS_FORMAT,
        "version": SCRIPTS_VERSION,
        "group": get_settings().group_name,
        "group_url": group_url,
        "url": url,
        "placeholders": list(PLACEHOLDERS),
        "scripts": [{"title": s.title, "language": s.language, "subject": s.subject,
                     "body": s.body} for s in shared_scripts()],
    }


def can_import(script: Any) -> list[str]:
    """The unknown placeholders of another group's script (empty: it can be imported)."""
    return unknown_placeholders(str(script.subject), str(script.body))


def import_shared(actor: Member, ref: str) -> ContactScript:
    """Copy a script another group shares (``features.SHARED_SCRIPTS``) into this group's
    scripts, by the import's rules: checked like a typed script, never overwriting one
    with the same title in the same language (refused, with a message), audited as an
    import."""
    _require_coordinator(actor)
    found = features.find_subject(features.SHARED_SCRIPTS, ref)
    if found is None:
        raise NotFound(_l("That shared script is no longer there."))
    try:
        data = _check_script(ScriptData(title=str(found.title), language=str(found.language),
                                        subject=str(found.subject), body=str(found.body)))
    except DomainError as error:
        raise DomainError(_l("%(title)s cannot be imported: %(problem)s",
                             title=str(found.title)[:120], problem=str(error))) from error
    script = _add_imported(data)
    if script is None:
        raise DomainError(_l("Not imported: you have a script titled %(title)s in this "
                             "language already. Rename yours first to import this one.",
                             title=data.title))
    audit.record(actor, "partners.script_import", target_type="script", target_id=script.id,
                 target_label=script.title,
                 details={"added": [script.title], "skipped": [],
                          "from": str(found.group_name), "source": str(found.source_url)})
    return script


# --- What other pages read ------------------------------------------------------------------


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone()).astimezone(UTC)


def item_rows(viewer: Member | None, limit: int) -> list[tuple[str, Any]]:
    """The newest partners and collaborations this viewer may see: ("partner", p) and
    ("collaboration", c), newest first."""
    found: list[tuple[datetime, str, Any]] = []
    for partner in visible_partners(viewer):
        found.append((partner.created_at, "partner", partner))
    query = select(Collaboration).join(Partner).order_by(Collaboration.created_at.desc())
    if not _authenticated(viewer):
        query = query.where(Collaboration.visibility == Visibility.PUBLIC,
                            Partner.visibility == Visibility.PUBLIC)
    for item in db.session.scalars(query.limit(max(limit, 0) * 2)):
        if item.can_view(viewer):
            found.append((item.created_at, "collaboration", item))
    found.sort(key=lambda row: row[0], reverse=True)
    return [(kind, obj) for _at, kind, obj in found[:limit]]


def collaboration_start(item: Collaboration) -> datetime:
    return _start(item.happened_on)


def home_partners() -> list[Partner]:
    """A few public partners for the home page."""
    partners = [p for p in visible_partners(None)]
    partners.sort(key=lambda p: p.created_at, reverse=True)
    return partners[:HOME_PARTNERS]


def export_section(member: Member) -> dict[str, Any]:
    """The member's part of the partners feature: the role, the prospects they own and the
    contacts they logged."""
    owned = db.session.scalars(select(Prospect).where(Prospect.owner_id == member.id)
                               .order_by(Prospect.id))
    logged = db.session.scalars(select(ProspectLog).where(ProspectLog.actor_id == member.id)
                                .order_by(ProspectLog.id))
    return {
        "partner_coordinator": member.id in _coordinator_ids(),
        "prospects_owned": [{"name": p.name, "status": p.status, "next_step": p.next_step,
                             "next_step_on": p.next_step_on.isoformat() if p.next_step_on
                             else None} for p in owned],
        "contacts_logged": [{"prospect": e.prospect.name, "date": e.happened_on.isoformat(),
                             "kind": e.kind, "medium": e.medium, "summary": e.summary}
                            for e in logged],
    }
