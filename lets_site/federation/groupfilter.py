"""Choosing followed groups in a filter (the common agenda, cross-group search), whatever
their number.

Up to ``SELECT_LIMIT`` groups a filter offers them in a list (their slugs); above, it
asks for a text: a group's slug, or part of its name (case-insensitive, at most
``MATCH_LIMIT`` groups taken). Regions come from the feeds' group information, read in
SQL. What every page needs (the list of groups when it is short, the regions) is kept
per process until a commit that wrote (``settings.shared``), so a page does not read the
followed feeds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Select, cast, func, or_, select

from lets_site.extensions import db
from lets_site.federation.models import Feed
from lets_site.settings import shared

# Up to this many followed groups, a filter lists them; above, it is a text field.
SELECT_LIMIT = 100
# The most groups a typed text selects (their events, their offers).
MATCH_LIMIT = 20

_CHOICES = "lets_federation_group_choices"
_REGIONS = "lets_federation_regions"


def region_of_feed() -> Any:
    """The feed's region (``group_info``'s "region") as an SQL expression."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.json_extract_path_text(cast(Feed.group_info, JSON), "region")
    return func.json_extract(Feed.group_info, "$.region")


def _short_list() -> tuple[tuple[str, str], ...] | None:
    rows = db.session.execute(select(Feed.slug, Feed.group_name).order_by(Feed.slug)
                              .limit(SELECT_LIMIT + 1)).all()
    if len(rows) > SELECT_LIMIT:
        return None
    return tuple((slug, name or slug) for slug, name in rows)


def choices() -> list[tuple[str, str]] | None:
    """(slug, name) of every followed group, by slug, or None when there are more than
    ``SELECT_LIMIT`` (then a filter asks for a text)."""
    found = shared(_CHOICES, _short_list)
    return list(found) if found is not None else None


def _regions() -> tuple[str, ...]:
    column = region_of_feed()
    values = db.session.scalars(select(column).where(column.is_not(None)).distinct())
    return tuple(sorted({str(v) for v in values if v}))


def regions() -> list[str]:
    """The regions the followed groups name, sorted."""
    return list(shared(_REGIONS, _regions))


@dataclass
class Match:
    """The groups a typed text selects: ``groups`` as (id, slug, name), by name; ``more``
    when more groups matched than were taken."""

    text: str
    groups: list[tuple[int, str, str]] = field(default_factory=list)
    more: bool = False

    @property
    def ids(self) -> list[int]:
        return [gid for gid, _slug, _name in self.groups]

    @property
    def names(self) -> list[str]:
        return [name for _gid, _slug, name in self.groups]


def match(text: str, limit: int = MATCH_LIMIT) -> Match:
    """The groups ``text`` names: the group whose slug it is, else those whose name or
    slug contains it (case-insensitive), at most ``limit``."""
    text = " ".join(text.split())
    found = Match(text)
    if not text:
        return found
    folded = text.lower()
    exact = db.session.execute(select(Feed.id, Feed.slug, Feed.group_name)
                               .where(Feed.slug == folded)).first()
    if exact is not None:
        found.groups = [(exact[0], exact[1], exact[2] or exact[1])]
        return found
    rows = db.session.execute(
        select(Feed.id, Feed.slug, Feed.group_name)
        .where(or_(func.lower(Feed.group_name).contains(folded, autoescape=True),
                   Feed.slug.contains(folded, autoescape=True)))
        .order_by(func.lower(Feed.group_name), Feed.slug).limit(limit + 1)).all()
    found.groups = [(gid, slug, name or slug) for gid, slug, name in rows[:limit]]
    found.more = len(rows) > limit
    return found


def in_region(region: str) -> Select[tuple[int]]:
    """The ids of the feeds of ``region``, as a subquery."""
    return select(Feed.id).where(region_of_feed() == region)


def with_slug(slug: str) -> Select[tuple[int]]:
    return select(Feed.id).where(Feed.slug == slug)


def names(ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """(slug, name) of the given feeds: one query for the feeds of a page's rows."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = db.session.execute(select(Feed.id, Feed.slug, Feed.group_name)
                              .where(Feed.id.in_(wanted)))
    return {gid: (slug, name or slug) for gid, slug, name in rows}
