"""The federation's merged feed (``/federation/feed.json``): every followed group's merged
items in one JSON Feed, in the format of docs/feed.md ("LETS feed 1").

Items keep their group's id (readers key them by ``_lets.group.slug`` and ``id``) and
carry their group as ``_lets.group`` ``{slug, name, url}``; the top level's ``_lets.group``
is this site. Tombstones stay tombstones. ``generated_at`` and Last-Modified are the last
change merged, so two GETs without a fetch between them give the same bytes (one strong
ETag). Three queries: the groups, the items (plain rows), the site's settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.federation.models import Feed, FeedItem
from lets_site.jsonfeed import envelope, utc_text
from lets_site.settings import get_settings

MEDIA_TYPE = "application/feed+json"
TOMBSTONE_DAYS = 30
# Checked by the parser: these override what the group published.
_CHECKED = {"event": ("status", "timezone", "start", "end", "all_day", "start_date",
                      "end_date", "online_url", "registration_url"),
            "offer": ("category", "mode"), "want": ("category", "mode")}


@dataclass
class Merged:
    body: bytes
    modified: datetime


_utc = utc_text


def _group(feed: Feed) -> dict[str, Any]:
    group = {"slug": feed.slug, "name": feed.group_name or feed.slug}
    url = feed.group.get("url")
    if url:
        group["url"] = url
    return group


# The item columns the feed needs (plain rows: no ORM objects for thousands of items).
_COLUMNS = (FeedItem.feed_id, FeedItem.item_id, FeedItem.type, FeedItem.revision,
            FeedItem.url, FeedItem.title, FeedItem.content_text, FeedItem.data,
            FeedItem.date_published, FeedItem.date_modified, FeedItem.deleted_at,
            FeedItem.merged_at)


def _extension(kind: str, data: dict[str, Any], deleted_at: datetime) -> dict[str, Any]:
    extension = dict(data.get("extension") or {})
    for key in _CHECKED.get(kind, ()):
        if data.get(key) is not None:
            extension[key] = data[key]
    if extension.get("all_day") is not True:
        extension.pop("all_day", None)  # the format has all_day: true or nothing
    if kind == "deleted":
        extension["former_type"] = data.get("former_type") or extension.get("former_type") \
            or "offer"
        extension["deleted_at"] = _utc(deleted_at)
    return extension


def item(row: Any, group: dict[str, Any]) -> dict[str, Any]:
    """One merged item (a row of ``_COLUMNS``) as a feed item of ``group``."""
    data = json.loads(row.data or "{}")
    modified = row.date_modified or row.merged_at
    out: dict[str, Any] = {"id": row.item_id, "url": row.url}
    if row.type != "deleted":
        out["title"] = row.title
        out["date_published"] = _utc(row.date_published or modified)
        for key in ("summary", "image"):
            if data.get(key):
                out[key] = data[key]
    out["content_text"] = row.content_text
    out["date_modified"] = _utc(modified)
    out["_lets"] = {"type": row.type, "revision": row.revision,
                    **_extension(row.type, data, row.deleted_at or row.merged_at),
                    "group": group}
    return out


def build() -> Merged:
    """The merged feed's body and its last change."""
    groups = {feed.id: _group(feed) for feed in db.session.scalars(select(Feed))}
    rows = db.session.execute(select(*_COLUMNS).order_by(FeedItem.feed_id, FeedItem.id))
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    latest: datetime | None = None
    for row in rows:
        # Ids are the groups' own; should two groups publish the same id, the group
        # followed first keeps it (an id is unique within a feed).
        if row.item_id in seen:
            continue
        seen.add(row.item_id)
        items.append(item(row, groups[row.feed_id]))
        latest = row.merged_at if latest is None else max(latest, row.merged_at)
    items.sort(key=lambda i: (i["date_modified"], i["id"]), reverse=True)
    site = get_settings()
    modified = (latest or site.updated_at or utcnow()).replace(microsecond=0)
    if site.updated_at is not None:
        modified = max(modified, site.updated_at.replace(microsecond=0))
    feed = envelope("federation.merged_feed", modified, TOMBSTONE_DAYS, items)
    body = json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode()
    return Merged(body, modified)
