"""The events board's rules: creating and changing events, who sees them, registration with
places, a waiting list and non-members confirmed by e-mail, attendance and payment.

Services flush, never commit. "Only once" rules hold under concurrency: every change to an
event's registrations first locks the event's row (``SELECT ... FOR UPDATE`` on
PostgreSQL; on SQLite a writing request begins with ``BEGIN IMMEDIATE``), and the
registration table's UNIQUE constraints refuse a second row for the same member or
address.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement

from lets_site import signals
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.events.models import (
    ACTIVE_STATES,
    Event,
    EventFeedKey,
    EventHost,
    EventPartner,
    Kind,
    PriceKind,
    Registration,
    RegState,
    Status,
    Visibility,
    may_organise,
)
from lets_site.extensions import db
from lets_site.ledger import services as ledger
from lets_site.mail import Mail, external_url, send_after_commit
from lets_site.members.mailing import mail_to
from lets_site.members.models import Member
from lets_site.paging import Page
from lets_site.partners import services as partner_services
from lets_site.partners.models import Partner
from lets_site.settings import shared, zone

PAGE_SIZE = 20
DEFAULT_DURATION = timedelta(hours=2)
CONFIRM_HOURS = 48
# Non-member sign-ups from one client address per hour, and per e-mail address per hour.
GUEST_LIMIT_PER_ADDRESS = 5
GUEST_LIMIT_WINDOW = timedelta(hours=1)
MAX_CAPACITY = 100_000
MAX_SERIES = 52


# --- Times in the group's zone -----------------------------------------------------------


def local_to_utc(day: date, at: time, tz: ZoneInfo, fieldname: str) -> datetime:
    """A wall-clock time in the group's zone as UTC; a time the clocks skip (02:30 on the
    spring-forward day) or pass twice (the autumn change) is refused with the reason."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if back != naive:
            raise DomainError(_l(
                "%(time)s does not exist on %(date)s: the clocks move forward an hour that "
                "night. Choose a time before or after the change, for example %(later)s.",
                time=at.strftime("%H:%M"), date=day.strftime("%d/%m/%Y"),
                later=back.strftime("%H:%M")), field=fieldname)
        raise DomainError(_l(
            "%(time)s happens twice on %(date)s: the clocks go back an hour that night. "
            "Choose a time outside that hour so nobody arrives an hour early or late.",
            time=at.strftime("%H:%M"), date=day.strftime("%d/%m/%Y")), field=fieldname)
    return first.astimezone(UTC)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


# --- Reading --------------------------------------------------------------------------------


def _is_member(viewer: Member | None) -> bool:
    return viewer is not None and bool(getattr(viewer, "is_authenticated", False))


def visible_clause(viewer: Member | None) -> ColumnElement[bool]:
    if _is_member(viewer):
        return Event.id.isnot(None)
    return Event.visibility == Visibility.PUBLIC


def get_event(event_id: int, viewer: Member | None) -> Event:
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(_l("This event does not exist."))
    if not event.can_view(viewer):
        raise PermissionDenied(_l("This event is for members only."))
    return event


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    partner: str = ""
    page: int = 1


def _filtered(query: Any, filters: Filters) -> Any:
    if filters.kind in set(Kind):
        query = query.where(Event.kind == filters.kind)
    if filters.partner:
        value = filters.partner.strip()
        linked = (select(EventPartner.event_id).join(Partner)
                  .where(Partner.slug == value))
        query = query.where(Event.id.in_(linked)
                            | Event.partner_names.icontains(value, autoescape=True))
    return query


def upcoming(viewer: Member | None, filters: Filters = Filters()) -> Page:
    now = utcnow()
    query = _filtered(select(Event).where(visible_clause(viewer), Event.ends_at >= now),
                      filters).order_by(Event.starts_at, Event.id)
    return _page(query, filters.page)


def past(viewer: Member | None, filters: Filters = Filters()) -> Page:
    now = utcnow()
    query = _filtered(select(Event).where(visible_clause(viewer), Event.ends_at < now),
                      filters).order_by(Event.starts_at.desc(), Event.id.desc())
    return _page(query, filters.page)


def _page(query: Any, number: int) -> Page:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None)
                                                               .subquery())) or 0
    number = max(1, number)
    items = list(db.session.scalars(query.limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)))
    return Page(items=items, page=number, per_page=PAGE_SIZE, total=total)


def month(viewer: Member | None, year: int, month_number: int,
          filters: Filters = Filters()) -> list[tuple[date, list[Event]]]:
    """The month's days that have events, each with its events in order (an event over
    several days is listed on each of them)."""
    tz = zone()
    first = date(year, month_number, 1)
    last = date(year, month_number, calendar.monthrange(year, month_number)[1])
    start, end = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    query = _filtered(select(Event).where(visible_clause(viewer), Event.starts_at < end,
                                          Event.ends_at > start), filters)
    days: dict[date, list[Event]] = {}
    for event in db.session.scalars(query.order_by(Event.starts_at, Event.id)):
        begin = max(event.starts_at.astimezone(tz).date(), first)
        # An event ending at midnight (all-day) does not touch the next day.
        finish = (event.ends_at - timedelta(microseconds=1)).astimezone(tz).date()
        day = begin
        while day <= min(finish, last):
            days.setdefault(day, []).append(event)
            day += timedelta(days=1)
    return sorted(days.items())


def next_events(viewer: Member | None, limit: int) -> list[Event]:
    return list(db.session.scalars(
        select(Event).where(visible_clause(viewer), Event.ends_at >= utcnow(),
                            Event.status != Status.CANCELLED)
        .order_by(Event.starts_at, Event.id).limit(limit)))


def next_change() -> datetime | None:
    """The next start or end of an event not cancelled: lists of coming events change
    then without a write (the contract's ``Feature.lapses``)."""
    now = utcnow()
    live = Event.status != Status.CANCELLED
    starts, ends = db.session.execute(select(
        select(func.min(Event.starts_at)).where(live, Event.starts_at >= now)
        .scalar_subquery(),
        select(func.min(Event.ends_at)).where(live, Event.ends_at >= now).scalar_subquery(),
    )).one()
    moments = [moment for moment in (starts, ends) if moment is not None]
    return min(moments, default=None)


def next_of_kind(viewer: Member | None, kind: str) -> Event | None:
    return db.session.scalars(
        select(Event).where(visible_clause(viewer), Event.kind == kind,
                            Event.starts_at >= utcnow(), Event.status == Status.SCHEDULED)
        .order_by(Event.starts_at, Event.id).limit(1)).first()


def coming_of_kind(viewer: Member | None, kind: str, limit: int) -> list[Event]:
    """Events of this kind not over yet and not cancelled, soonest first (the contract's
    ``Linkable.coming`` of the "event" kind)."""
    return list(db.session.scalars(
        select(Event).where(visible_clause(viewer), Event.kind == kind,
                            Event.ends_at >= utcnow(), Event.status != Status.CANCELLED)
        .order_by(Event.starts_at, Event.id).limit(limit)))


def by_urn(urn: str) -> Event | None:
    """The event with this item id (``urn:uuid:<uuid>``), or None."""
    prefix = "urn:uuid:"
    if not urn.startswith(prefix) or len(urn) != len(prefix) + 36:
        return None
    return db.session.scalar(select(Event).where(Event.uuid == urn[len(prefix):]))


def newest(viewer: Member | None, limit: int) -> list[Event]:
    return list(db.session.scalars(
        select(Event).where(visible_clause(viewer))
        .order_by(Event.created_at.desc(), Event.id.desc()).limit(limit)))


def by_start(viewer: Member | None, limit: int) -> list[Event]:
    """The events this viewer may see, the latest start first (a select of events)."""
    return list(db.session.scalars(
        select(Event).where(visible_clause(viewer))
        .order_by(Event.starts_at.desc(), Event.id.desc()).limit(limit)))


def visible_by_id(ids: Collection[int], viewer: Member | None) -> list[Event]:
    """Those of ``ids`` that exist and this viewer may see."""
    wanted = [i for i in ids if 0 < i < 2**31][:1000]
    if not wanted:
        return []
    return list(db.session.scalars(select(Event).where(Event.id.in_(wanted),
                                                       visible_clause(viewer))))


def feed_events(members_too: bool) -> list[Event]:
    """Events for a calendar feed: from 90 days back on; members-only ones when asked."""
    query = select(Event).where(Event.ends_at >= utcnow() - timedelta(days=90))
    if not members_too:
        query = query.where(Event.visibility == Visibility.PUBLIC)
    return list(db.session.scalars(query.order_by(Event.starts_at, Event.id)))


def my_registrations(member: Member, include_past: bool = False) -> list[Registration]:
    query = (select(Registration).join(Event)
             .where(Registration.member_id == member.id,
                    Registration.state.in_(ACTIVE_STATES)))
    if not include_past:
        query = query.where(Event.ends_at >= utcnow())
    return list(db.session.scalars(query.order_by(Event.starts_at, Event.id)))


def registration_of(member: Member | None, event: Event) -> Registration | None:
    if not _is_member(member):
        return None
    assert member is not None
    return db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.member_id == member.id)).first()


def counts(event: Event) -> tuple[int, int]:
    """(registered, waiting) for the event."""
    rows = db.session.execute(
        select(Registration.state, func.count()).where(Registration.event_id == event.id)
        .group_by(Registration.state)).all()
    by_state = {state: n for state, n in rows}
    return by_state.get(RegState.REGISTERED, 0), by_state.get(RegState.WAITING, 0)


def places_left(event: Event) -> int | None:
    if event.capacity is None:
        return None
    return max(0, event.capacity - counts(event)[0])


def registrants(actor: Member, event: Event) -> list[Registration]:
    """Registered, then waiting, in order: for the organisers."""
    if not event.can_edit(actor):
        raise PermissionDenied(_l("Only the organisers see who registered."))
    return list(db.session.scalars(
        select(Registration).where(Registration.event_id == event.id,
                                   Registration.state.in_(ACTIVE_STATES))
        .order_by(Registration.state, Registration.position, Registration.id)))


def waiting_position(registration: Registration) -> int:
    """1 for the first on the waiting list."""
    return (db.session.scalar(select(func.count()).where(
        Registration.event_id == registration.event_id,
        Registration.state == RegState.WAITING,
        Registration.position <= registration.position)) or 0)


def partner_options(viewer: Member | None) -> list[tuple[str, str]]:
    """(value, label) for the partner filter: linked partners (by slug) the viewer may
    see, then co-organisers known only by name. Kept per process until someone writes
    (``lets_site.settings.shared``), once for members and once for visitors (what a
    partner's visibility depends on)."""
    members = viewer is not None and bool(getattr(viewer, "is_authenticated", False))
    return shared(f"events.partner_options.{'members' if members else 'public'}",
                  lambda: _partner_options(viewer))


def _partner_options(viewer: Member | None) -> list[tuple[str, str]]:
    options: dict[str, str] = {}
    linked = db.session.scalars(select(Partner).join(EventPartner).distinct())
    for partner in linked:
        if partner.can_view(viewer):
            options[partner.slug] = partner.title
    titles = {t.casefold() for t in options.values()}
    for text in db.session.scalars(select(Event.partner_names).where(Event.partner_names != "")):
        for name in (n.strip() for n in text.splitlines()):
            if name and name.casefold() not in titles:
                options.setdefault(name, name)
    return sorted(options.items(), key=lambda pair: pair[1].casefold())


def partner_choices(viewer: Member) -> list[Partner]:
    """The partners an organiser can link as co-organisers."""
    return sorted(partner_services.visible_partners(viewer), key=lambda p: p.title.casefold())


def events_with_partner(partner: Partner, viewer: Member | None,
                        limit: int = 5) -> tuple[list[Event], list[Event]]:
    """(upcoming, past) events this partner co-organises, that the viewer may see."""
    base = select(Event).join(EventPartner).where(EventPartner.partner_id == partner.id,
                                                  visible_clause(viewer))
    now = utcnow()
    upcoming = list(db.session.scalars(base.where(Event.ends_at >= now)
                                       .order_by(Event.starts_at, Event.id).limit(limit)))
    past = list(db.session.scalars(base.where(Event.ends_at < now)
                                   .order_by(Event.starts_at.desc(), Event.id.desc())
                                   .limit(limit)))
    return upcoming, past


# --- Creating and changing events ----------------------------------------------------------


@dataclass
class EventData:
    """What the event form gives, as plain values."""

    title: str
    start_date: date
    start_time: time | None = None
    end_date: date | None = None
    end_time: time | None = None
    all_day: bool = False
    description: str = ""
    kind: str = Kind.OTHER
    venue_name: str = ""
    venue_address: str = ""
    online_url: str = ""
    partner_names: str = ""
    guests: str = ""
    visibility: str = Visibility.PUBLIC
    open_to_non_members: bool = False
    price_kind: str = PriceKind.FREE
    price: Decimal | None = None
    capacity: int | None = None
    closes_date: date | None = None
    closes_time: time | None = None
    host_codes: Sequence[str] = field(default_factory=tuple)
    partner_ids: Sequence[int] = field(default_factory=tuple)


@dataclass(frozen=True)
class Times:
    starts_at: datetime
    ends_at: datetime
    closes_at: datetime | None


def _times(data: EventData) -> Times:
    tz = zone()
    end_date = data.end_date or data.start_date
    if end_date < data.start_date:
        raise DomainError(_l("The event cannot end before it starts."), field="end_date")
    if data.all_day:
        starts = local_midnight(data.start_date, tz)
        ends = local_midnight(end_date + timedelta(days=1), tz)
    else:
        if data.start_time is None:
            raise DomainError(_l("Give a start time, or tick “all day”."), field="start_time")
        starts = local_to_utc(data.start_date, data.start_time, tz, "start_time")
        if data.end_time is None:
            ends = starts + DEFAULT_DURATION if data.end_date is None else local_to_utc(
                end_date, data.start_time, tz, "end_date")
        else:
            ends = local_to_utc(end_date, data.end_time, tz, "end_time")
        if ends < starts:
            raise DomainError(_l("The event cannot end before it starts."), field="end_time")
    closes = None
    if data.closes_date is not None:
        closes = local_to_utc(data.closes_date, data.closes_time or time(23, 59), tz,
                              "closes_time" if data.closes_time else "closes_date")
        if closes > starts:
            raise DomainError(_l("Registration must close before the event starts."),
                              field="closes_time" if data.closes_time else "closes_date")
    return Times(starts, ends, closes)


def _price(data: EventData) -> tuple[str, int | None]:
    if data.price_kind not in set(PriceKind):
        raise DomainError(_l("Choose free, euro or units."), field="price_kind")
    if data.price_kind == PriceKind.FREE:
        return PriceKind.FREE, None
    if data.price is None or data.price <= 0:
        raise DomainError(_l("Give the price, or choose free."), field="price")
    if data.price_kind == PriceKind.UNITS:
        return PriceKind.UNITS, ledger.parse_amount(str(data.price), fieldname="price")
    cents = int((data.price * 100).to_integral_value())
    if cents > 100_000_00:
        raise DomainError(_l("That price is too high."), field="price")
    return PriceKind.EURO, cents


def _hosts(codes: Sequence[str], organiser: Member | None) -> list[Member]:
    from lets_site import codes as account_codes

    members: list[Member] = []
    for raw in codes:
        code = account_codes.normalise(raw)
        if not code:
            continue
        member = db.session.scalars(select(Member).where(Member.account_code == code)).first()
        if member is None:
            raise DomainError(_l("No member has the code %(code)s.", code=code),
                              field="hosts")
        if member not in members and (organiser is None or member.id != organiser.id):
            members.append(member)
    return members


def _apply(event: Event, data: EventData) -> None:
    title = data.title.strip()
    if not title:
        raise DomainError(_l("Give the event a title."), field="title")
    if data.kind not in set(Kind):
        raise DomainError(_l("Choose a kind of event."), field="kind")
    if data.visibility not in set(Visibility):
        raise DomainError(_l("Choose who sees the event."), field="visibility")
    if data.capacity is not None and data.capacity < 1:
        raise DomainError(_l("The number of places must be at least 1; leave it empty "
                             "for an event without registration."), field="capacity")
    if data.capacity is not None and data.capacity > MAX_CAPACITY:
        raise DomainError(_l("That is more places than anyone needs."), field="capacity")
    url = data.online_url.strip()
    if url and not url.lower().startswith(("https://", "http://")):
        raise DomainError(_l("An online link starts with https://."), field="online_url")
    times = _times(data)
    event.price_kind, event.price_amount = _price(data)
    event.title = title[:120]
    event.description = data.description.strip()
    event.kind = data.kind
    event.starts_at, event.ends_at = times.starts_at, times.ends_at
    event.registration_closes_at = times.closes_at
    event.all_day = data.all_day
    event.venue_name = data.venue_name.strip()[:120]
    event.venue_address = data.venue_address.strip()[:200]
    event.online_url = url[:500]
    event.partner_names = "\n".join(n.strip() for n in data.partner_names.splitlines()
                                    if n.strip())
    event.guests = "\n".join(n.strip() for n in data.guests.splitlines() if n.strip())
    event.visibility = data.visibility
    event.open_to_non_members = bool(data.open_to_non_members)
    event.capacity = data.capacity
    hosts = _hosts(data.host_codes, event.organiser)
    kept_hosts = {host.member_id: host for host in event.hosts}
    event.hosts = [kept_hosts.get(m.id) or EventHost(member_id=m.id, member=m) for m in hosts]
    partners = []
    for partner_id in dict.fromkeys(data.partner_ids):
        partner = db.session.get(Partner, partner_id)
        if partner is None:
            raise DomainError(_l("That partner does not exist."), field="partners")
        partners.append(partner)
    kept = {link.partner_id: link for link in event.partner_links}
    event.partner_links = [kept.get(p.id) or EventPartner(partner_id=p.id, partner=p)
                           for p in partners]


def create_event(actor: Member, data: EventData, repeat: str = "", count: int = 1) -> Event:
    """A new event; with ``repeat`` ("weekly", "monthly" or "monthly_weekday"), a series
    of ``count`` occurrences, each an event of its own with its own registrations."""
    if not may_organise(actor):
        raise PermissionDenied(_l("Only organisers and admins create events."))
    event = Event(organiser=actor, organiser_id=actor.id)
    _apply(event, data)
    db.session.add(event)
    db.session.flush()
    if repeat:
        _repeat(event, data, repeat, count)
    signals.event_published.send(event, actor=actor)
    return event


def occurrence_dates(first: date, repeat: str, count: int) -> list[date]:
    """The dates of a series: weekly, monthly on the same day of the month (months
    without that day are skipped) or monthly on the same weekday ("every first
    Saturday"; "the fifth Saturday" only in months that have one)."""
    if count < 1 or count > MAX_SERIES:
        raise DomainError(_l("A series has from 1 to %(n)d occurrences.", n=MAX_SERIES),
                          field="count")
    dates: list[date] = []
    if repeat == "weekly":
        return [first + timedelta(weeks=i) for i in range(count)]
    year, month_number = first.year, first.month
    nth = (first.day - 1) // 7  # 0 for the first such weekday of the month
    for _ in range(count * 2):
        if len(dates) == count:
            break
        if repeat == "monthly":
            if first.day <= calendar.monthrange(year, month_number)[1]:
                dates.append(date(year, month_number, first.day))
        elif repeat == "monthly_weekday":
            weeks = [d for d in calendar.Calendar().itermonthdates(year, month_number)
                     if d.month == month_number and d.weekday() == first.weekday()]
            if nth < len(weeks):
                dates.append(weeks[nth])
        else:
            raise DomainError(_l("Choose how the event repeats."), field="repeat")
        month_number += 1
        if month_number == 13:
            year, month_number = year + 1, 1
    return dates


def _repeat(first: Event, data: EventData, repeat: str, count: int) -> None:
    first.series = first.uuid
    for day in occurrence_dates(data.start_date, repeat, count)[1:]:
        shift = day - data.start_date
        copy = EventData(**{**data.__dict__,
                            "start_date": day,
                            "end_date": data.end_date + shift if data.end_date else None,
                            "closes_date": (data.closes_date + shift
                                            if data.closes_date else None)})
        event = Event(organiser_id=first.organiser_id, organiser=first.organiser,
                      series=first.series)
        _apply(event, copy)
        db.session.add(event)
    db.session.flush()


def update_event(actor: Member, event: Event, data: EventData) -> Event:
    if not event.can_edit(actor):
        raise PermissionDenied(_l("Only the organisers and admins edit this event."))
    _lock(event)
    before = _when_and_where(event)
    _apply(event, data)
    if event.capacity is not None and counts(event)[0] > event.capacity:
        raise DomainError(_l("More members are registered than that: unregister some "
                             "first, or keep more places."), field="capacity")
    _changed(event)
    signals.event_changed.send(event, actor=actor)
    if _when_and_where(event) != before:
        _notify_all(event, "changed")
    promote(event)
    return event


def _when_and_where(event: Event) -> tuple[Any, ...]:
    """What the registered must hear of when it changes: the time and the place."""
    return (event.starts_at, event.ends_at, event.venue_name, event.venue_address)


def _notify_all(event: Event, what: str) -> None:
    for reg in db.session.scalars(select(Registration).where(
            Registration.event_id == event.id, Registration.state.in_(ACTIVE_STATES))):
        _notify(reg, what)


def _changed(event: Event) -> None:
    event.revision = (event.revision or 1) + 1
    event.updated_at = utcnow()
    db.session.flush()


def set_status(actor: Member, event: Event, status: str) -> Event:
    """Schedule again, postpone or cancel; a cancelled event stays visible, marked, and
    everyone registered or waiting is told."""
    if not event.can_edit(actor):
        raise PermissionDenied(_l("Only the organisers and admins change this event."))
    if status not in set(Status):
        raise DomainError(_l("Unknown status."))
    if event.status == status:
        return event
    event.status = status
    _changed(event)
    signals.event_changed.send(event, actor=actor)
    if status == Status.CANCELLED:
        _notify_all(event, "cancelled")
    elif status == Status.POSTPONED:
        _notify_all(event, "changed")
    elif status == Status.SCHEDULED:
        # Places freed while the event was cancelled go to its waiting list first.
        _lock(event)
        promote(event)
    return event


# --- Registration ---------------------------------------------------------------------------


def _lock(event: Event) -> Event:
    """Lock the event's row until the transaction ends (PostgreSQL; SQLite's writing
    requests hold the database's write lock already) and read it afresh."""
    db.session.execute(select(Event.id).where(Event.id == event.id).with_for_update())
    db.session.refresh(event)
    return event


def _refuse_closed(event: Event) -> None:
    now = utcnow()
    if event.is_cancelled:
        raise DomainError(_l("This event is cancelled."))
    if event.status == Status.POSTPONED:
        raise DomainError(_l("This event is postponed: registration opens again when it "
                             "has a new date."))
    if event.starts_at <= now:
        raise DomainError(_l("This event has started or is over."))
    if not event.has_registration:
        raise DomainError(_l("This event has no registration: just come."))
    if event.registration_closes_at is not None and now >= event.registration_closes_at:
        raise DomainError(_l("Registration for this event is closed."))


def _take_place(event: Event, reg: Registration) -> None:
    """Give ``reg`` a place, or the end of the waiting list (the event is locked)."""
    with db.session.no_autoflush:
        registered = counts(event)[0]
    event.queue_counter = (event.queue_counter or 0) + 1
    reg.position = event.queue_counter
    reg.state = (RegState.REGISTERED if event.capacity is None or registered < event.capacity
                 else RegState.WAITING)
    reg.updated_at = utcnow()


@dataclass(frozen=True)
class Registered:
    registration: Registration
    waiting: bool


def register(member: Member, event: Event) -> Registered:
    if not _is_member(member):
        raise PermissionDenied(_l("Log in to register."))
    _lock(event)
    _refuse_closed(event)
    reg = registration_of(member, event)
    if reg is not None and reg.is_active:
        raise DomainError(_l("You are already registered for this event.")
                          if reg.state == RegState.REGISTERED
                          else _l("You are already on the waiting list for this event."))
    if reg is None:
        reg = Registration(event_id=event.id, member_id=member.id, state=RegState.PENDING)
        db.session.add(reg)
    _take_place(event, reg)
    db.session.flush()
    _notify(reg, "registered")
    return Registered(reg, reg.state == RegState.WAITING)


def unregister(member: Member, event: Event) -> list[Registration]:
    """Give the place back; the first on the waiting list gets it (and is told). Returns
    who was promoted."""
    if not _is_member(member):
        raise PermissionDenied(_l("Log in to unregister."))
    _lock(event)
    reg = registration_of(member, event)
    if reg is None or not reg.is_active:
        raise DomainError(_l("You are not registered for this event."))
    if event.starts_at <= utcnow():
        raise DomainError(_l("This event has started or is over."))
    return _cancel(event, reg)


def _cancel(event: Event, reg: Registration) -> list[Registration]:
    reg.state = RegState.CANCELLED
    reg.updated_at = utcnow()
    db.session.flush()
    return promote(event)


def promote(event: Event) -> list[Registration]:
    """Fill free places from the waiting list, first come first served (the event is
    locked by the caller)."""
    if event.capacity is None or event.is_cancelled:
        return []
    free = event.capacity - counts(event)[0]
    if free <= 0:
        return []
    promoted = list(db.session.scalars(
        select(Registration).where(Registration.event_id == event.id,
                                   Registration.state == RegState.WAITING)
        .order_by(Registration.position, Registration.id).limit(free)))
    for reg in promoted:
        reg.state = RegState.REGISTERED
        reg.updated_at = utcnow()
        _notify(reg, "promoted")
    db.session.flush()
    return promoted


def _notify(reg: Registration, what: str) -> None:
    event = reg.event
    subjects = {"promoted": _l("You have a place: %(title)s", title=event.title),
                "cancelled": _l("Cancelled: %(title)s", title=event.title),
                "changed": _l("Changed: %(title)s", title=event.title),
                "registered": (_l("On the waiting list: %(title)s", title=event.title)
                               if reg.state == RegState.WAITING
                               else _l("Registered: %(title)s", title=event.title))}
    template = f"events/mail/{what}.txt"
    url = external_url("events.detail", event_id=event.id)
    if reg.member is not None:
        mail_to(reg.member, subjects[what], template, event=event, url=url, name=reg.who,
                when=event_when(event), reg=reg, kind=f"events.{what}")
    elif reg.email:
        from flask import render_template

        send_after_commit(Mail(to=reg.email, subject=str(subjects[what]),
                               body=render_template(template, event=event, url=url,
                                                    name=reg.name, when=event_when(event),
                                                    reg=reg)))


def event_when(event: Event) -> str:
    """The event's date and time in the group's zone, for mails (no request locale)."""
    tz = zone()
    start = event.starts_at.astimezone(tz)
    if event.all_day:
        return start.strftime("%d/%m/%Y")
    return start.strftime("%d/%m/%Y %H:%M")


# --- Non-members ----------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_hash(address: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, (address or "").encode(), hashlib.sha256).hexdigest()


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or " " in email:
        raise DomainError(_l("Give an e-mail address such as name@example.org."),
                          field="email")
    return email


@dataclass(frozen=True)
class GuestSignup:
    registration: Registration
    token: str  # in the mailed links only; the database keeps its hash


def register_guest(event: Event, name: str, email: str, client: str) -> GuestSignup:
    """A non-member signs up for a public event open to them: a pending registration and
    a mail with the link that confirms it (and one to unregister). No place is held until
    the link is followed."""
    if not event.non_members_may_register():
        _refuse_closed(event)
        raise DomainError(_l("Only members can register for this event."))
    name = (name or "").strip()
    if not name:
        raise DomainError(_l("Give your name."), field="name")
    email = _clean_email(email)
    since = utcnow() - GUEST_LIMIT_WINDOW
    recent = db.session.scalar(select(func.count()).where(
        Registration.client_hash == client, Registration.created_at >= since)) or 0
    if recent >= GUEST_LIMIT_PER_ADDRESS:
        raise DomainError(_l("Too many registrations from your connection. Try again in "
                             "an hour."))
    _lock(event)
    reg = db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.email == email)).first()
    if reg is not None and reg.is_active:
        raise DomainError(_l("This address is already registered for this event."),
                          field="email")
    if reg is None:
        reg = Registration(event_id=event.id, email=email)
        db.session.add(reg)
    token = secrets.token_urlsafe(24)
    reg.name = name[:120]
    reg.state = RegState.PENDING
    reg.token_hash = _hash(token)
    reg.token_expires_at = utcnow() + timedelta(hours=CONFIRM_HOURS)
    reg.client_hash = client
    reg.created_at = utcnow()
    reg.updated_at = utcnow()
    db.session.flush()
    from flask import render_template

    send_after_commit(Mail(
        to=email, subject=str(_l("Confirm your registration: %(title)s", title=event.title)),
        body=render_template("events/mail/confirm.txt", event=event, name=reg.name,
                             when=event_when(event), hours=CONFIRM_HOURS,
                             confirm_url=external_url("events.guest_confirm", token=token),
                             cancel_url=external_url("events.guest_cancel", token=token))))
    return GuestSignup(reg, token)


def guest_by_token(token: str) -> Registration:
    reg = db.session.scalars(select(Registration).where(
        Registration.token_hash == _hash(token or ""))).first()
    if reg is None:
        raise NotFound(_l("This link is not valid."))
    return reg


def confirm_guest(token: str) -> Registered:
    reg = guest_by_token(token)
    event = reg.event
    _lock(event)
    if reg.state != RegState.PENDING:
        raise DomainError(_l("This link was used already: your registration stands.")
                          if reg.is_active else
                          _l("This registration was cancelled; register again."))
    if reg.token_expires_at is not None and reg.token_expires_at < utcnow():
        raise DomainError(_l("This link has expired; register again."))
    _refuse_closed(event)
    _take_place(event, reg)
    db.session.flush()
    return Registered(reg, reg.state == RegState.WAITING)


def cancel_guest(token: str) -> Registration:
    reg = guest_by_token(token)
    event = reg.event
    _lock(event)
    if reg.state == RegState.CANCELLED:
        raise DomainError(_l("This registration was cancelled already."))
    if event.starts_at <= utcnow():
        raise DomainError(_l("This event has started or is over."))
    _cancel(event, reg)
    return reg


# --- Attendance and payment -----------------------------------------------------------------


def set_attended(actor: Member, event: Event, registration_id: int,
                 attended: bool) -> Registration:
    """The organisers mark who came. For a price in units, the member pays the organiser
    through the ledger's service at that moment (never before), once: the transfer's key
    is the registration's, so marking again books nothing new."""
    if not event.can_edit(actor):
        raise PermissionDenied(_l("Only the organisers mark attendance."))
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.event_id != event.id or reg.state != RegState.REGISTERED:
        raise NotFound(_l("This registration does not exist."))
    reg.attended = attended
    if (attended and event.price_kind == PriceKind.UNITS and event.price_amount
            and reg.member is not None and reg.transfer_uid is None
            and event.organiser is not None):
        booked = ledger.pay(reg.member, reg.member.account_code or "",
                            event.organiser.account_code or "", event.price_amount,
                            str(_l("Event: %(title)s", title=event.title))[:200],
                            key=f"event-reg-{reg.id:012d}")
        reg.transfer_uid = booked.transfer.uid
    db.session.flush()
    return reg


def unregister_as_organiser(actor: Member, event: Event, registration_id: int) -> Registration:
    if not event.can_edit(actor):
        raise PermissionDenied(_l("Only the organisers remove registrations."))
    _lock(event)
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.event_id != event.id or not reg.is_active:
        raise NotFound(_l("This registration does not exist."))
    _cancel(event, reg)
    return reg


# --- Calendar feed tokens -------------------------------------------------------------------


def feed_token(member: Member) -> str:
    """The member's private feed token (made at first use)."""
    row = db.session.get(EventFeedKey, member.id)
    if row is None:
        row = EventFeedKey(member_id=member.id, token=secrets.token_urlsafe(24))
        db.session.add(row)
        db.session.flush()
    return row.token


def reset_feed_token(member: Member) -> str:
    """A new private feed address; the old one stops working."""
    row = db.session.get(EventFeedKey, member.id)
    if row is None:
        return feed_token(member)
    row.token = secrets.token_urlsafe(24)
    db.session.flush()
    return row.token


def member_for_feed(token: str) -> Member | None:
    if not token or len(token) > 64:
        return None
    row = db.session.scalars(select(EventFeedKey).where(EventFeedKey.token == token)).first()
    if row is None:
        return None
    member = db.session.get(Member, row.member_id)
    return member if member is not None and member.is_active else None


def export_section(member: Member) -> list[dict[str, Any]]:
    return [{"event": r.event.title, "starts_at": r.event.starts_at.isoformat(),
             "state": r.state, "attended": r.attended}
            for r in my_registrations(member, include_past=True)]


def clear_filters(args: Any) -> Filters:
    page = args.get("page", "1")
    return Filters(kind=(args.get("kind") or "")[:20], partner=(args.get("partner") or "")[:80],
                   page=int(page) if page.isdigit() and len(page) < 6 else 1)
