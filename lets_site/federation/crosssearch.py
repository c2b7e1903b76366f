"""Cross-group search ("LETS across the border"): the offers, wants and books of every
followed group, from the merged items.

Words are matched in the folded text (lower case without accents, the same
``search.normalise_text`` as the site's own search), every word must occur. A page costs
two queries (the count and the page, group names joined in), however many hits it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, false, func, select

from lets_site.extensions import db
from lets_site.federation.models import Feed, FeedItem
from lets_site.search import terms

KINDS = ("offer", "want", "book")
PER_PAGE = 20


@dataclass
class Hit:
    title: str
    url: str
    kind: str
    text: str
    group: str
    slug: str
    modified: datetime | None


def _query(words: list[str], group: str | None, kind: str | None,
           feed_ids: list[int] | None = None) -> Select[tuple[FeedItem]]:
    query = (select(FeedItem).join(Feed, Feed.id == FeedItem.feed_id)
             .where(FeedItem.deleted.is_(False)))
    query = query.where(FeedItem.type == kind) if kind in KINDS else \
        query.where(FeedItem.type.in_(KINDS))
    if group:
        query = query.where(Feed.slug == group)
    if feed_ids is not None:
        query = query.where(FeedItem.feed_id.in_(feed_ids) if feed_ids else false())
    for word in words:
        query = query.where(FeedItem.search_text.contains(word, autoescape=True))
    return query


def find(text: str, group: str | None, kind: str | None, page: int,
         per_page: int = PER_PAGE, feed_ids: list[int] | None = None) -> tuple[list[Hit], int]:
    """One page of the hits, newest change first, and how many there are in all;
    ``group`` a slug, or ``feed_ids`` the groups a typed text matched (see groupfilter)."""
    words = terms(text)
    query = _query(words, group, kind, feed_ids)
    total = int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = db.session.execute(
        query.with_only_columns(FeedItem.title, FeedItem.url, FeedItem.type,
                                FeedItem.content_text, Feed.group_name, Feed.slug,
                                FeedItem.date_modified)
        .order_by(FeedItem.date_modified.desc(), FeedItem.id.desc())
        .offset((max(page, 1) - 1) * per_page).limit(per_page))
    hits = [Hit(title, url, kind_, excerpt(content), name or slug, slug, modified)
            for title, url, kind_, content, name, slug, modified in rows]
    return hits, total


def excerpt(text: str, length: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length].rsplit(" ", 1)[0] + "…"
