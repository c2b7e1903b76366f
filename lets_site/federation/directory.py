"""The directory of followed groups (``/groups/``): each group with what the aggregator
holds of it (counts by kind from the merged items) and its health.

The directory is paged (``PER_PAGE`` groups, by name) and can be searched by name,
short name or region: a page costs the page's feeds, the counts of those feeds grouped
by kind and, only when there is more than one page, a count of the groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from lets_site.domain import NotFound
from lets_site.extensions import db
from lets_site.federation import groupfilter
from lets_site.federation.agenda import follows_groups
from lets_site.federation.models import Feed, FeedItem, Health, Status
from lets_site.paging import Page

# The kinds the directory counts, in the order shown.
KINDS = ("offer", "want", "event", "book")
# Groups on one page of the directory.
PER_PAGE = 50


class Badge:
    """The health badges of the directory, as shown (and as CSS classes)."""

    OK = "ok"
    NEW = "new"
    STALE = "stale"
    ERROR = "error"
    INVALID = "invalid"
    GONE = "gone"
    PAUSED = "paused"


@dataclass
class GroupHealth:
    """A group's badge and what it rests on; the page words the reason."""

    badge: str
    last_success: datetime | None
    detail: str  # the fetcher's own message (English, technical), or ""


@dataclass
class Group:
    feed: Feed
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.feed.slug

    @property
    def name(self) -> str:
        return self.feed.group_name or self.feed.slug

    @property
    def info(self) -> dict[str, Any]:
        return self.feed.group

    @property
    def site_url(self) -> str | None:
        url = self.info.get("url")
        return str(url) if url else None

    @property
    def region(self) -> str:
        parts = [self.info.get("locality"), self.info.get("region")]
        return ", ".join(str(p) for p in parts if p)


def any_followed() -> bool:
    """Does this site follow at least one group (then the hub pages show)?"""
    return follows_groups()


def _counts(since: datetime, feed_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
    """Live merged items per feed and kind; events only from ``since`` on (upcoming)."""
    query = (select(FeedItem.feed_id, FeedItem.type, func.count())
             .where(FeedItem.deleted.is_(False), FeedItem.type.in_(KINDS),
                    or_(FeedItem.type != "event", FeedItem.start_at >= since))
             .group_by(FeedItem.feed_id, FeedItem.type))
    if feed_ids is not None:
        query = query.where(FeedItem.feed_id.in_(feed_ids))
    counts: dict[int, dict[str, int]] = {}
    for owner, kind, count in db.session.execute(query):
        counts.setdefault(owner, dict.fromkeys(KINDS, 0))[kind] = int(count)
    return counts


def groups(since: datetime, text: str = "", page: int = 1,
           per_page: int = PER_PAGE) -> Page:
    """One page of the followed groups whose name, short name or region contains
    ``text`` (case-insensitive; every group without one), by name, with their counts
    (events: upcoming from ``since``). A page beyond the last shows the last."""
    query = select(Feed)
    text = " ".join(text.split()).lower()
    if text:
        query = query.where(or_(
            func.lower(Feed.group_name).contains(text, autoescape=True),
            Feed.slug.contains(text, autoescape=True),
            func.lower(groupfilter.region_of_feed()).contains(text, autoescape=True)))
    name = func.lower(func.coalesce(func.nullif(Feed.group_name, ""), Feed.slug))
    ordered = query.order_by(name, Feed.slug)
    number = max(page, 1)
    feeds = list(db.session.scalars(ordered.offset((number - 1) * per_page).limit(per_page)))
    if number == 1 and len(feeds) < per_page:
        total = len(feeds)  # everything on one page: no count needed
    else:
        total = int(db.session.scalar(
            select(func.count()).select_from(query.subquery())) or 0)
        last = max(1, -(-total // per_page))
        if number > last:
            number = last
            feeds = list(db.session.scalars(
                ordered.offset((number - 1) * per_page).limit(per_page)))
    counts = _counts(since, [feed.id for feed in feeds]) if feeds else {}
    found = [Group(feed, counts.get(feed.id, dict.fromkeys(KINDS, 0))) for feed in feeds]
    return Page(found, total, number, per_page)


def group(slug: str, since: datetime) -> Group:
    feed = db.session.scalar(select(Feed).where(Feed.slug == slug))
    if feed is None:
        raise NotFound(_l("No followed group has that name."))
    return Group(feed, _counts(since, [feed.id]).get(feed.id, dict.fromkeys(KINDS, 0)))


def health(feed: Feed, now: datetime, interval_seconds: float) -> GroupHealth:
    """The badge: paused and gone first (an admin's or the server's word), then what the
    last fetch said; a feed whose last good fetch is older than three fetch intervals is
    stale even when nothing failed (the fetch has stopped running)."""
    last = feed.last_success_at
    if feed.status == Status.PAUSED:
        return GroupHealth(Badge.PAUSED, last, "")
    if feed.status == Status.GONE or feed.health == Health.GONE:
        return GroupHealth(Badge.GONE, last, feed.reason)
    if feed.health == Health.INVALID:
        return GroupHealth(Badge.INVALID, last, feed.reason)
    if feed.health in (Health.ERROR, Health.STALE):
        return GroupHealth(Badge.STALE if last is not None else Badge.ERROR, last, feed.reason)
    if last is None:
        return GroupHealth(Badge.NEW, None, "")
    if now - last > timedelta(seconds=3 * interval_seconds):
        return GroupHealth(Badge.STALE, last, "")
    return GroupHealth(Badge.OK, last, "")


@dataclass
class Recent:
    title: str
    url: str
    kind: str
    modified: datetime | None


def recent(feed: Feed, limit: int = 10) -> list[Recent]:
    """The group's newest live offers, wants, events and books."""
    rows = db.session.execute(
        select(FeedItem.title, FeedItem.url, FeedItem.type, FeedItem.date_modified)
        .where(FeedItem.feed_id == feed.id, FeedItem.deleted.is_(False),
               FeedItem.type.in_(KINDS))
        .order_by(FeedItem.date_modified.desc(), FeedItem.id.desc()).limit(limit))
    return [Recent(title, url, kind, modified) for title, url, kind, modified in rows]
