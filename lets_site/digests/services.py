"""The digest's rules: who gets one and how often, what goes in it, the signed links, and
the paper lists.

Everything a digest or a paper list shows comes from the feature contract's items
(``features.items``): a feature that publishes items appears here without code in this
package. Each kind is headed by the label its feature declares (``Feature.item_kinds``).
Services flush; the command (``commands.py``) and the views commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from lets_site import features
from lets_site.audit import services as audit
from lets_site.database import utcnow
from lets_site.digests.models import (
    SETTINGS_ID,
    DigestPreference,
    DigestSent,
    DigestSettings,
    Frequency,
)
from lets_site.domain import DomainError, PermissionDenied
from lets_site.extensions import db
from lets_site.mail import external_url
from lets_site.members.mailing import mail_to
from lets_site.members.models import Member, Status, Visibility
from lets_site.settings import cached, get_settings, zone

FREQUENCIES = (Frequency.WEEKLY, Frequency.MONTHLY, Frequency.NEVER)
# How far back a member's first digest reaches.
FIRST_REACH = {Frequency.WEEKLY: timedelta(days=7), Frequency.MONTHLY: timedelta(days=31)}
# Items are read newest first in growing batches until the batch reaches past "since".
FIRST_BATCH = 50
MAX_ITEMS = 5000
# The paper "vraag en aanbod": these kinds, by category.
PAPER_KINDS = ("offer", "want")
NEXT_EVENTS = 10
_SETTINGS_KEY = "digest_settings"
_LINK_NAMESPACE = "lets-site.digest"
_PURPOSE = "digest"
LIVE_STATUSES = (Status.ACTIVE, Status.LEAVING)


class InvalidLink(DomainError):
    """A digest link that was changed, revoked or belongs to nobody."""


# --- Settings and preferences -----------------------------------------------------------------


def _load_settings() -> DigestSettings:
    settings = db.session.get(DigestSettings, SETTINGS_ID)
    if settings is None:
        settings = DigestSettings(id=SETTINGS_ID, default_frequency=Frequency.WEEKLY)
    return settings


def digest_settings() -> DigestSettings:
    return cached(_SETTINGS_KEY, _load_settings)


def set_default_frequency(actor: Member, frequency: str) -> DigestSettings:
    """Admins choose how often members who chose nothing get the digest."""
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_l("Only admins set the group's digest."))
    _check_frequency(frequency)
    settings = db.session.get(DigestSettings, SETTINGS_ID)
    if settings is None:
        settings = DigestSettings(id=SETTINGS_ID)
        db.session.add(settings)
    previous = settings.default_frequency
    settings.default_frequency = frequency
    db.session.flush()
    audit.record(actor, "digest.default", target_type="digest", target_id="default",
                 details={"from": previous, "to": frequency})
    return settings


def _check_frequency(frequency: str) -> None:
    if frequency not in FREQUENCIES:
        raise DomainError(_l("Choose weekly, monthly or never."), field="frequency")


def preference(member: Member) -> DigestPreference:
    """The member's preference row (made, not yet flushed, when there is none)."""
    pref = db.session.get(DigestPreference, member.id)
    if pref is None:
        pref = DigestPreference(member_id=member.id, frequency=None, link_version=0)
        db.session.add(pref)
    return pref


def frequency_of(member: Member, pref: DigestPreference | None = None) -> str:
    """The member's own choice, else the group's default."""
    if pref is None:
        pref = db.session.get(DigestPreference, member.id)
    if pref is not None and pref.frequency:
        return pref.frequency
    return digest_settings().default_frequency


def set_frequency(member: Member, frequency: str, actor: Member | None = None) -> str:
    """Change a member's frequency: by the member's signed link (``actor`` None), by the
    member logged in, or by an admin."""
    if actor is not None and not member.can_edit(actor):
        raise PermissionDenied(_l("You may not change this member's digest."))
    _check_frequency(frequency)
    pref = preference(member)
    previous = pref.frequency
    pref.frequency = frequency
    db.session.flush()
    if actor is not None and actor.id != member.id:
        audit.record_for_member(actor, "digest.member", member, frm=previous, to=frequency)
    return frequency


def revoke_links(member: Member) -> None:
    """Make every digest link sent to the member so far useless."""
    pref = preference(member)
    pref.link_version = (pref.link_version or 0) + 1
    db.session.flush()


# --- Signed links -------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_LINK_NAMESPACE)


def make_token(member: Member) -> str:
    """A link token bound to the member and to the digest; no expiry, revoked by
    :func:`revoke_links`."""
    pref = db.session.get(DigestPreference, member.id)
    version = pref.link_version if pref is not None else 0
    return str(_serializer().dumps({"m": member.id, "p": _PURPOSE, "v": version}))


def member_for_token(token: str) -> Member:
    """The member a link token belongs to, or :class:`InvalidLink`."""
    refused = InvalidLink(_l("This link is not valid (any more). Use the link in your "
                             "latest digest, or log in to change your digest."))
    try:
        data = _serializer().loads(token)
    except BadSignature:
        raise refused from None
    if not isinstance(data, dict) or data.get("p") != _PURPOSE:
        raise refused
    member_id, version = data.get("m"), data.get("v")
    if not isinstance(member_id, int) or not isinstance(version, int):
        raise refused
    member = db.session.get(Member, member_id)
    if member is None:
        raise refused
    pref = db.session.get(DigestPreference, member.id)
    if version != (pref.link_version if pref is not None else 0):
        raise refused
    return member


def manage_url(member: Member) -> str:
    """The page where the member changes the frequency or unsubscribes, without logging in."""
    return external_url("digests.manage", token=make_token(member))


# --- What is new -----------------------------------------------------------------------------


class Reader:
    """A member as the digest reads items for them: an active member sees what members see,
    also one who never logged in (members without e-mail have no password, and
    Flask-Login counts them as not authenticated)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, member: Member) -> None:
        self._member = member

    def __getattr__(self, name: str) -> Any:
        return getattr(self._member, name)


def reader(member: Member | None) -> Any:
    """The viewer whose items a digest or list shows: None is the public."""
    if member is None or member.status not in LIVE_STATUSES:
        return None
    return Reader(member)


def new_items(viewer: Any, since: datetime | None,
              start: int = FIRST_BATCH) -> list[features.Item]:
    """Every item this viewer may see created after ``since`` (all with None), newest
    first, read in growing batches from the contract (the first of ``start`` items)."""
    limit = max(1, min(start, MAX_ITEMS))
    while True:
        found = features.items(viewer, limit)
        fresh = [item for item in found if since is None or item.created > since]
        if len(fresh) < len(found) or len(found) < limit or limit >= MAX_ITEMS:
            return fresh
        limit = min(limit * 4, MAX_ITEMS)


class ItemsCache:
    """One run's items, read once per (roles, since) and not once per member, when the
    features say their items depend on a member's roles only
    (``features.items_depend_on_roles_only``); otherwise once per member. The batch size
    follows the last answer, so a large digest takes one read, not several."""

    def __init__(self) -> None:
        self.shared = features.items_depend_on_roles_only()
        self.found: dict[tuple[Any, ...], list[features.Item]] = {}
        self.start = FIRST_BATCH
        self.dates: dict[tuple[str, str, datetime], str] = {}

    def new_items(self, member: Member, since: datetime) -> list[features.Item]:
        key = (member.is_admin, frozenset(member.roles), since)
        if self.shared and key in self.found:
            return self.found[key]
        found = new_items(reader(member), since, self.start)
        self.start = max(FIRST_BATCH, 2 * len(found) + 1)
        if self.shared:
            self.found[key] = found
        return found


def start_dates(items: Iterable[features.Item],
                memo: dict[tuple[str, str, datetime], str] | None = None) -> dict[str, str]:
    """The start of each dated item in the current language and the group's zone, by item
    id (formatted once per language in a run of many digests)."""
    memo = {} if memo is None else memo
    lang = str(get_locale() or "")
    dates = {}
    for item in items:
        if item.start is not None:
            key = (lang, item.id, item.start)
            if key not in memo:
                memo[key] = format_datetime(item.start, "medium")
            dates[item.id] = memo[key]
    return dates


@dataclass
class Section:
    kind: str
    label: str
    items: list[features.Item] = field(default_factory=list)


def sections(items: Iterable[features.Item]) -> list[Section]:
    """Items grouped by kind, in the order the features declare their kinds (then any
    undeclared kind by name), each headed by its label in the current language."""
    labels = features.item_kind_labels()
    order = {kind: i for i, kind in enumerate(labels)}
    grouped: dict[str, Section] = {}
    for item in items:
        if item.kind not in grouped:
            label = labels.get(item.kind)
            grouped[item.kind] = Section(item.kind, str(label) if label else item.kind)
        grouped[item.kind].items.append(item)
    return sorted(grouped.values(), key=lambda s: (order.get(s.kind, len(order)), s.kind))


def period_of(frequency: str, now: datetime) -> str:
    """The period a digest belongs to, in the group's time zone: "2026-W49", "2026-12"."""
    local = now.astimezone(zone())
    if frequency == Frequency.MONTHLY:
        return f"{local.year:04d}-{local.month:02d}"
    year, week, _day = local.isocalendar()
    return f"{year:04d}-W{week:02d}"


def since_for(pref: DigestPreference | None, frequency: str, now: datetime) -> datetime:
    if pref is not None and pref.last_digest_at is not None:
        return pref.last_digest_at
    return now - FIRST_REACH.get(frequency, FIRST_REACH[Frequency.WEEKLY])


def recipients() -> list[Member]:
    """Members who may get a digest by mail: live, with an e-mail address."""
    return list(db.session.scalars(
        select(Member).where(Member.status.in_(LIVE_STATUSES), Member.email.isnot(None),
                             Member.email != "")
        .order_by(Member.id)))


@dataclass(frozen=True)
class Queued:
    member_id: int
    period: str
    items: int


def queue_digest(member: Member, now: datetime | None = None,
                 cache: ItemsCache | None = None) -> Queued | None:
    """Queue the member's digest for the current period: the outbox row and the
    (member, period) row in this transaction, flushed (the UNIQUE constraint refuses a
    second one). None when the member gets none now: frequency "never", no e-mail, one
    already made this period, or nothing new."""
    now = now or utcnow()
    if member.status not in LIVE_STATUSES or not member.email:
        return None
    if features.address_flagged(member):  # refused for good: nothing until it changes
        return None
    pref = db.session.get(DigestPreference, member.id)
    frequency = frequency_of(member, pref)
    if frequency == Frequency.NEVER:
        return None
    period = period_of(frequency, now)
    if db.session.scalar(select(DigestSent.id).where(DigestSent.member_id == member.id,
                                                     DigestSent.period == period)):
        return None
    since = since_for(pref, frequency, now)
    lang = member.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(lang):
        fresh = (cache.new_items(member, since) if cache is not None
                 else new_items(reader(member), since))
        found = [item for item in fresh if item.created <= now]
        if not found:
            return None
        groups = sections(found)
        url = manage_url(member)
        group = get_settings().group_name
        mail_to(member, _l("New at %(group)s", group=group), "digests/mail/digest.txt",
                html_template="digests/mail/digest.html", optional=True,
                # RFC 2369 and 8058: the same page; a mail client's POST there unsubscribes.
                headers={"List-Unsubscribe": f"<{url}>",
                         "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
                member=member, sections=groups, since=since, manage_url=url,
                dates=start_dates(found, cache.dates if cache is not None else None),
                frequency=frequency, group=group, count=len(found))
    pref = pref or preference(member)
    pref.last_digest_at = now
    db.session.add(DigestSent(member_id=member.id, period=period, items=len(found),
                              created_at=now))
    db.session.flush()
    return Queued(member.id, period, len(found))


# --- On paper -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperLine:
    item: features.Item
    who: str
    phone: str


@dataclass
class Category:
    name: str
    offers: list[PaperLine] = field(default_factory=list)
    wants: list[PaperLine] = field(default_factory=list)


def _may_print_phone(member: Member, members_list: bool) -> bool:
    """A phone goes on paper only when its owner shows it to the list's readers."""
    if member.phone_visibility == Visibility.PUBLIC:
        return True
    return members_list and member.phone_visibility == Visibility.MEMBERS


def market(members_list: bool, lang: str) -> list[Category]:
    """The "vraag en aanbod": every live offer and want the list's readers may see
    (members, or the public), by category, with the contact's phone where allowed."""
    viewer = _list_reader() if members_list else None
    found = [item for item in new_items(viewer, None) if item.kind in PAPER_KINDS]
    contact_ids = {item.details.get("contact_member_id") for item in found}
    contacts = {m.id: m for m in db.session.scalars(
        select(Member).where(Member.id.in_([i for i in contact_ids if isinstance(i, int)])))}
    other = str(_l("Other"))
    categories: dict[str, Category] = {}
    for item in sorted(found, key=lambda i: i.title.casefold()):
        names = item.details.get("category_names") or {}
        name = names.get(lang) or names.get("nl") or other
        category = categories.setdefault(name, Category(name))
        contact = contacts.get(item.details.get("contact_member_id"))  # type: ignore[arg-type]
        who, phone = "", ""
        if contact is not None:
            who = contact.display_name if (members_list or contact.profile_public) else ""
            phone = contact.phone if contact.phone and _may_print_phone(
                contact, members_list) else ""
        line = PaperLine(item, who, phone)
        (category.offers if item.kind == "offer" else category.wants).append(line)
    return sorted(categories.values(), key=lambda c: (c.name == other, c.name.casefold()))


def _list_reader() -> Any:
    """The viewer of a list printed for members: any member sees the same items."""
    return _MembersReader()


class _MembersReader:
    """A logged-in member who is nobody in particular (no id of any row, no roles)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_admin = False
    id = 0
    roles: frozenset[str] = frozenset()
    status = Status.ACTIVE

    def has_role(self, _role: str) -> bool:
        return False


def next_events(members_list: bool, now: datetime | None = None,
                limit: int = NEXT_EVENTS) -> list[features.Item]:
    """The next dated items (events) the list's readers may see, soonest first."""
    now = now or utcnow()
    viewer = _list_reader() if members_list else None
    dated = [item for item in new_items(viewer, None)
             if item.start is not None and item.start >= now]
    return sorted(dated, key=lambda i: (i.start, i.title))[:limit]


@dataclass(frozen=True)
class PaperDigest:
    member: Member
    sections: Sequence[Section]


def paper_members() -> list[Member]:
    """Live members without an e-mail address: their digest goes by post."""
    return list(db.session.scalars(
        select(Member).where(Member.status.in_(LIVE_STATUSES),
                             (Member.email.is_(None)) | (Member.email == ""))
        .order_by(Member.display_name, Member.id)))


def paper_digests(actor: Member, since: datetime,
                  now: datetime | None = None) -> list[PaperDigest]:
    """For the admin who prints the monthly mailing: each member without e-mail and what
    is new for them since ``since`` (members who have nothing new get no page)."""
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_l("Only admins print the paper digests."))
    now = now or utcnow()
    result = []
    for member in paper_members():
        found = [i for i in new_items(reader(member), since) if i.created <= now]
        if found:
            result.append(PaperDigest(member, sections(found)))
    return result
