"""The common agenda: the followed groups' events, filtered and paged (``/agenda/``), for
the calendar (``/agenda.ics``, :mod:`lets_site.federation.ical`) and for "at neighbouring
groups" on the events page.

An event is past once it has ended (``FeedItem.end_at``: its end, the midnight after the
last day of an all-day event in its own zone, or its start when it has no end). The page
lists events not ended yet; the calendar keeps them a week longer (``CALENDAR_KEEP``), so
a calendar program does not drop an event the moment it ends and a cancelled one reaches
subscribers as ``STATUS:CANCELLED``.

Every query is bounded, whatever the number of events and of followed groups: the page
reads a count that stops at ``COUNT_LIMIT`` events (the pager then says "or more"), one
page of rows (no page beyond that bound) and the names of the rows' groups; the kinds,
groups and regions the filters offer are kept per process
(:mod:`lets_site.federation.groupfilter`). The rows come from walking the index
``(type, deleted, start_at, id, end_at)`` in the page's order (start, then id), so neither
database sorts the events; the end is read from the same index.
Functions take plain values (the site's zone, ``now``) and never see the request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import load_only

from lets_site.extensions import db
from lets_site.federation import groupfilter
from lets_site.federation.models import Feed, FeedItem
from lets_site.paging import PAGE_SIZE, Page
from lets_site.settings import shared

# How long the calendar keeps an event after its end (cancelled ones as CANCELLED).
CALENDAR_KEEP = timedelta(days=7)
# The most events one calendar export carries (the soonest first).
CALENDAR_LIMIT = 2000
# Events shown "at neighbouring groups" on the events page.
NEIGHBOUR_EVENTS = 5
PERIODS = ("week", "month")
# The page counts at most this many events (50 pages of 20): with more, the pager says
# "or more" and the reader narrows the list with the filters to see further ahead.
COUNT_LIMIT = 1000

# The kinds lets-site's own events have (the feed's `_lets.kind`); another site may name
# others, which are shown as they come.
KIND_LABELS: dict[str, Any] = {
    "film": _l("Film"),
    "workshop": _l("Workshop"),
    "book_swap": _l("Book swap"),
    "intro_evening": _l("Intro evening"),
    "market": _l("Market"),
    "festival_stand": _l("Festival stand"),
    "meeting": _l("Meeting"),
    "other": _l("Other"),
}


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else kind.replace("_", " ").replace("-", " ")


def event_end(data: dict[str, Any], start: datetime | None) -> datetime | None:
    """When a merged event ends, in UTC (see the module's docstring)."""
    try:
        if data.get("all_day"):
            last = date.fromisoformat(str(data.get("end_date") or data.get("start_date")))
            zone = ZoneInfo(str(data.get("timezone") or "UTC"))
            after = last + timedelta(days=1)
            return datetime(after.year, after.month, after.day, tzinfo=zone).astimezone(UTC)
        if data.get("end"):
            return datetime.fromisoformat(str(data["end"])).astimezone(UTC)
    except (ValueError, ZoneInfoNotFoundError):
        pass
    return start


# --- Filters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    group: str = ""  # a feed's slug; with many groups, also (part of) a group's name
    region: str = ""  # as the groups' feeds name it
    kind: str = ""
    period: str = ""  # "week", "month" or "" (everything coming)
    start: date | None = None  # from this day (the site's zone) ...
    end: date | None = None  # ... until this day, included


def days(filters: Filters, today: date) -> tuple[date, date | None]:
    """The first and last day the filters ask for; "this week" runs to Sunday, "this
    month" to the month's last day; a day typed in from/to wins over the period."""
    last: date | None = None
    if filters.period == "week":
        last = today + timedelta(days=6 - today.weekday())
    elif filters.period == "month":
        following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        last = following - timedelta(days=1)
    first = filters.start or today
    return max(first, today), filters.end or last


@dataclass
class Choices:
    """What the filter form offers: the followed groups (None: too many to list, the
    group is typed in), their regions, the kinds; and which groups a typed group text
    matched (None when no text was typed)."""

    groups: list[tuple[str, str]] | None = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    kinds: list[tuple[str, str]] = field(default_factory=list)
    matched: groupfilter.Match | None = None


@dataclass
class AgendaRow:
    item_id: str
    title: str
    url: str
    group: str
    slug: str
    start_at: datetime
    end_at: datetime
    all_day: bool
    status: str
    zone: str
    kind: str
    data: dict[str, Any]
    own_time: str | None = None  # the start in the event's own zone, when not the site's
    revision: int = 1
    merged_at: datetime | None = None
    modified: datetime | None = None
    text: str = ""

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def first_day(self) -> date | None:
        """An all-day event's first and last day (its own dates, not converted)."""
        return date.fromisoformat(str(self.data["start_date"])) if self.all_day else None

    @property
    def last_day(self) -> date | None:
        return date.fromisoformat(str(self.data.get("end_date") or self.data["start_date"])) \
            if self.all_day else None

    @property
    def has_end(self) -> bool:
        return not self.all_day and bool(self.data.get("end"))

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind) if self.kind else ""


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _groups_clause(filters: Filters, listed: bool) -> tuple[Any, groupfilter.Match | None]:
    """The group and region filters as a condition on the events' feeds (SQL subqueries,
    no feed read here), and the groups a typed text matched. ``listed``: the groups are
    offered in a list, so the group is a slug; otherwise a text (see groupfilter)."""
    clauses: list[Any] = []
    found = None
    if filters.group:
        if listed:
            clauses.append(FeedItem.feed_id.in_(groupfilter.with_slug(filters.group)))
        else:
            found = groupfilter.match(filters.group)
            clauses.append(FeedItem.feed_id.in_(found.ids) if found.groups else false())
    if filters.region:
        clauses.append(FeedItem.feed_id.in_(groupfilter.in_region(filters.region)))
    return clauses, found


def _where(filters: Filters, groups: list[Any], since: datetime,
           until: datetime | None, now: datetime) -> list[Any]:
    # Ended at ``now``: over. From a day's midnight on: an event without an end (its end
    # is its start) that starts at that midnight is in.
    clauses: list[Any] = [FeedItem.type == "event", FeedItem.deleted.is_(False),
                          FeedItem.end_at > since if since <= now else FeedItem.end_at >= since]
    if until is not None:
        clauses.append(FeedItem.start_at < until)
    clauses.extend(groups)
    if filters.kind:
        clauses.append(FeedItem.kind == filters.kind)
    return clauses


def _own_time(row: AgendaRow, zone: ZoneInfo) -> str | None:
    """The event's start in its own zone, when that is not the site's."""
    if row.all_day or not row.zone or row.zone == zone.key:
        return None
    try:
        start = datetime.fromisoformat(str(row.data.get("start")))
    except ValueError:
        return None
    return f"{start.strftime('%H:%M')} {row.zone}"


def _rows(query: Any, zone: ZoneInfo, text: bool = False) -> list[AgendaRow]:
    """The rows of ``query``, named after their groups (the rows' own feeds, read in one
    query)."""
    items = list(db.session.scalars(query))
    named = groupfilter.names(item.feed_id for item in items)
    found = []
    for item in items:
        slug, name = named.get(item.feed_id, ("", ""))
        data = item.details
        assert item.start_at is not None
        row = AgendaRow(item.item_id, item.title, item.url, name, slug, item.start_at,
                        item.end_at or item.start_at, bool(data.get("all_day")),
                        str(data.get("status", "")), str(data.get("timezone", "")),
                        item.kind or "", data, revision=item.revision,
                        merged_at=item.merged_at, modified=item.date_modified,
                        text=item.content_text if text else "")
        row.own_time = _own_time(row, zone)
        found.append(row)
    return found


_LIST_COLUMNS = (FeedItem.id, FeedItem.feed_id, FeedItem.item_id, FeedItem.title, FeedItem.url,
                 FeedItem.start_at, FeedItem.end_at, FeedItem.kind, FeedItem.data,
                 FeedItem.revision, FeedItem.merged_at, FeedItem.date_modified)


_KINDS = "lets_federation_kinds"


def _kinds(now: datetime) -> tuple[str, ...]:
    """The kinds of the events not ended at ``now``. It reads every upcoming event (70 ms
    for 200,000 on PostgreSQL): the page keeps the answer per process and per day until a
    commit that wrote, so a kind whose last event ended since is offered at most until
    the next day or change (it then shows an empty list)."""
    # A deleted event is stored as type "deleted" without a kind: the index answers alone.
    return tuple(k for k in db.session.scalars(
        select(FeedItem.kind).where(FeedItem.type == "event", FeedItem.kind.is_not(None),
                                    FeedItem.end_at > now)
        .distinct()) if k)


def agenda(filters: Filters, zone: ZoneInfo, now: datetime, page: int = 1,
           per_page: int = PAGE_SIZE) -> tuple[Page, Choices]:
    """One page of the events not ended yet that the filters ask for, soonest first, and
    the filters' choices. The count stops at ``COUNT_LIMIT`` (the page says there are
    more) and a page beyond the last counted one shows the last."""
    listed = groupfilter.choices()
    today = now.astimezone(zone).date()
    first, last = days(filters, today)
    since = max(now, _midnight(first, zone))
    until = _midnight(last + timedelta(days=1), zone) if last is not None else None
    groups, matched = _groups_clause(filters, listed is not None)
    where = _where(filters, groups, since, until, now)
    ordered = select(FeedItem.id).where(*where).order_by(FeedItem.start_at, FeedItem.id)
    counted = int(db.session.scalar(
        select(func.count()).select_from(ordered.limit(COUNT_LIMIT + 1).subquery())) or 0)
    total = min(counted, COUNT_LIMIT)
    pages = max(1, -(-total // per_page))
    number = min(max(page, 1), pages)
    query = (select(FeedItem).options(load_only(*_LIST_COLUMNS)).where(*where)
             .order_by(FeedItem.start_at, FeedItem.id)
             .offset((number - 1) * per_page).limit(per_page))
    rows = _rows(query, zone) if total else []
    kinds = shared(f"{_KINDS}:{today.isoformat()}", lambda: _kinds(now))
    choices = Choices(
        groups=listed, regions=groupfilter.regions(),
        kinds=sorted(((k, kind_label(k)) for k in kinds if k), key=lambda p: p[1].lower()),
        matched=matched)
    return Page(rows, total, number, per_page, more=counted > COUNT_LIMIT), choices


def _calendar_query(filters: Filters, zone: ZoneInfo, now: datetime,
                    limit: int, *columns: Any) -> Select[Any]:
    """``columns`` of the calendar's events: those the filters ask for that ended at most
    a week ago, soonest first, at most ``limit``."""
    today = now.astimezone(zone).date()
    _first, last = days(filters, today)
    since = now - CALENDAR_KEEP
    if filters.start is not None:
        since = max(since, _midnight(filters.start, zone))
    until = _midnight(last + timedelta(days=1), zone) if last is not None else None
    groups, _matched = _groups_clause(filters, groupfilter.choices() is not None)
    return (select(*columns).where(*_where(filters, groups, since, until, since))
            .order_by(FeedItem.start_at, FeedItem.id).limit(limit))


def calendar_rows(filters: Filters, zone: ZoneInfo, now: datetime,
                  limit: int = CALENDAR_LIMIT) -> list[AgendaRow]:
    """The calendar's events: those the filters ask for that ended at most a week ago,
    soonest first, at most ``limit``."""
    query = _calendar_query(filters, zone, now, limit, FeedItem)
    return _rows(query, zone, text=True)


def calendar_fingerprint(filters: Filters, zone: ZoneInfo, now: datetime,
                         limit: int = CALENDAR_LIMIT) -> str:
    """A hash of everything of the merged data that :func:`calendar_rows` would give
    (two queries, no event read in full): the followed feeds (the events' group names)
    and, for each event it would list, in order, its row id, revision and last merge.
    A merge that changes an event raises its revision and stamps its merge time; a new
    event, a tombstone, a deletion, an event ending (more than ``CALENDAR_KEEP`` ago) or
    another filter changes the list of ids. The site's own inputs (its name, zone and
    the reader's language) are the caller's to add."""
    digest = hashlib.sha256()
    for feed_id, slug, name in db.session.execute(
            select(Feed.id, Feed.slug, Feed.group_name).order_by(Feed.slug)):
        digest.update(f"{feed_id}\t{slug}\t{name}\n".encode())
    digest.update(b"--\n")
    query = _calendar_query(filters, zone, now, limit, FeedItem.id,
                            FeedItem.revision, FeedItem.merged_at)
    for row_id, revision, merged in db.session.execute(query):
        digest.update(f"{row_id} {revision} {merged.isoformat()}\n".encode())
    return digest.hexdigest()


def neighbours(zone: ZoneInfo, now: datetime,
               limit: int = NEIGHBOUR_EVENTS) -> list[AgendaRow]:
    """The followed groups' next events (not cancelled, not ended), for the events page."""
    query = (select(FeedItem).options(load_only(*_LIST_COLUMNS))
             .where(FeedItem.type == "event", FeedItem.deleted.is_(False),
                    FeedItem.end_at > now)
             .order_by(FeedItem.start_at, FeedItem.id).limit(limit * 3))
    rows = [r for r in _rows(query, zone) if not r.cancelled]
    return rows[:limit]


# --- Does this site follow other groups? ------------------------------------------------------

_FOLLOWS = "lets_federation_follows"


def follows_groups() -> bool:
    """Whether any group is followed. Asked on every page (the menu): the answer is kept
    per process until a commit that wrote something (settings.shared), so a page pays no
    query for it unless something changed."""
    return shared(_FOLLOWS, lambda: db.session.scalar(select(Feed.id).limit(1)) is not None)
