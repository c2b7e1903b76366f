"""The federation's merged feed (``/federation/feed.json``): every followed group's merged
items in one JSON Feed, in the format of docs/feed.md ("LETS feed 1").

Items keep their group's id (readers key them by ``_lets.group.slug`` and ``id``) and
carry their group as ``_lets.group`` ``{slug, name, url}``; the top level's ``_lets.group``
is this site. Tombstones stay tombstones.

Cheap to revalidate: :func:`state` reads a fingerprint of everything the body is made of
(three queries: the followed feeds; one aggregate over the merged items: count, sum of
revisions, newest merge, highest row id; the group block's optional fields and when they
last changed; plus the site's settings, the signing key's id, the address and the cap).
The ETag is that fingerprint's hash, known before anything is built, so a conditional
GET answers ``304`` without building. The body is a pure function
of the same inputs (``generated_at`` and Last-Modified are the last change merged, never
the clock), so two GETs without a change between them give the same bytes.

At most ``FEDERATION_FEED_MAX_BYTES`` (1 MiB, as the group feed): newest first (by
``date_modified``); when everything does not fit, tombstones deleted more than
``OLD_TOMBSTONE_DAYS`` before ``generated_at`` go first, then the oldest items, and the
feed says ``complete: false`` with ``dropped`` (docs/federation.md). Only the rows that
fit are read in full. Signed with the site's key when it has one (:mod:`lets_site.signing`,
as the group feed), so a reader verifies it as it verifies a group's feed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from lets_site import features, signing
from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.federation.models import Feed, FeedItem
from lets_site.jsonfeed import as_utc, envelope, utc_text
from lets_site.mail import external_url
from lets_site.settings import get_settings

MEDIA_TYPE = "application/feed+json"
TOMBSTONE_DAYS = 30
MAX_BYTES = 1024 * 1024  # FEDERATION_FEED_MAX_BYTES's default
# When the body must be cut: tombstones older than this (before generated_at) go first.
OLD_TOMBSTONE_DAYS = 7
# Part of the fingerprint: change it when the body's layout changes (a new release must
# not answer 304 to a body an older one built).
FORMAT = "merged-2"
ENDPOINT = "federation.merged_feed"
_CHUNK = 500  # rows read in full per query while filling the body
# The signature member's value is always 86 characters (64 bytes in base64url).
_SIGNATURE_VALUE_LENGTH = 86
# Checked by the parser: these override what the group published.
_CHECKED = {"event": ("status", "timezone", "start", "end", "all_day", "start_date",
                      "end_date", "online_url", "registration_url"),
            "offer": ("category", "mode"), "want": ("category", "mode")}


@dataclass
class Merged:
    body: bytes
    modified: datetime
    dropped: int = 0


@dataclass
class State:
    """What the body is made of, read cheaply: the validators and the feeds."""

    etag: str
    modified: datetime
    groups: dict[int, dict[str, Any]]
    count: int
    max_bytes: int


_utc = utc_text


def _group(slug: str, name: str, info: str) -> dict[str, Any]:
    group = {"slug": slug, "name": name or slug}
    url = json.loads(info or "{}").get("url")
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


def max_bytes() -> int:
    return int(current_app.config.get("FEDERATION_FEED_MAX_BYTES") or MAX_BYTES)


def state() -> State:
    """The validators of the merged feed, from three queries (see the module's docstring).

    The aggregate changes with every change of the merged items: an insert adds to the
    count, an update raises a revision (the merge takes only higher ones) and the newest
    merge time, a deletion lowers the count; a deletion and an insert between two GETs
    raise the highest id or the newest merge time."""
    feeds = db.session.execute(
        select(Feed.id, Feed.slug, Feed.group_name, Feed.group_info, Feed.created_at)
        .order_by(Feed.id)).all()
    groups = {row.id: _group(row.slug, row.group_name, row.group_info) for row in feeds}
    count, revisions, latest, highest = db.session.execute(
        select(func.count(FeedItem.id), func.coalesce(func.sum(FeedItem.revision), 0),
               func.max(FeedItem.merged_at), func.coalesce(func.max(FeedItem.id), 0))).one()
    site = get_settings()
    # Following a group is a change too (its items come later); never the clock alone.
    followed = max((row.created_at for row in feeds), default=None)
    # The group block's optional fields (the shared contact scripts' link), as the
    # group feed counts them: a reader sending only If-Modified-Since sees one come and go.
    fields, fields_changed = features.group_fields()
    stamps = [as_utc(value) for value in (latest, site.updated_at, followed, fields_changed)
              if value is not None]
    modified = (max(stamps) if stamps else utcnow()).replace(microsecond=0)
    key = signing.load_private_key()
    cap = max_bytes()
    parts = [FORMAT, str(count), str(revisions), str(highest),
             latest.isoformat() if latest is not None else "-",
             site.updated_at.isoformat() if site.updated_at is not None else "-",
             external_url(ENDPOINT), str(cap), signing.key_id(key) if key else "-",
             json.dumps(groups, sort_keys=True, ensure_ascii=False),
             json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)]
    etag = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return State(etag, modified, groups, int(count), cap)


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _order(current: State) -> tuple[list[int], list[int]]:
    """The row ids of the feed's items, newest first (one item per id), and the order in
    which they are kept when the body must be cut (old tombstones last)."""
    rows = db.session.execute(
        select(FeedItem.id, FeedItem.feed_id, FeedItem.item_id, FeedItem.type,
               FeedItem.date_modified, FeedItem.merged_at, FeedItem.deleted_at)
        .order_by(FeedItem.feed_id, FeedItem.id))
    seen: set[str] = set()
    found: list[tuple[str, str, int, bool]] = []
    old = current.modified - timedelta(days=OLD_TOMBSTONE_DAYS)
    for row in rows:
        # Ids are the groups' own; should two groups publish the same id, the group
        # followed first keeps it (an id is unique within a feed).
        if row.item_id in seen or row.feed_id not in current.groups:
            continue
        seen.add(row.item_id)
        stale = row.type == "deleted" and as_utc(row.deleted_at or row.merged_at) < old
        found.append((_utc(row.date_modified or row.merged_at), row.item_id, row.id, stale))
    found.sort(reverse=True)
    newest = [row_id for _m, _i, row_id, _s in found]
    keep = [row_id for _m, _i, row_id, stale in found if not stale] + \
        [row_id for _m, _i, row_id, stale in found if stale]
    return newest, keep


def build(current: State | None = None) -> Merged:
    """The merged feed's body (at most ``current.max_bytes``) and its last change."""
    current = current or state()
    newest, keep = _order(current)
    feed = envelope(ENDPOINT, current.modified, TOMBSTONE_DAYS, [])
    key = signing.load_private_key()
    created = _utc(current.modified)
    if key is not None:  # a stand-in of the signature's exact length, for the sizes
        feed["_lets"]["signature"] = {"alg": signing.ALG, "key_id": signing.key_id(key),
                                      "created": created, "canon": signing.CANON,
                                      "value": "A" * _SIGNATURE_VALUE_LENGTH}

    def base(dropped: int | None) -> int:
        """The body's size without items (complete, or cut with ``dropped`` items)."""
        lets = feed["_lets"]
        lets["complete"] = dropped is None
        lets.pop("dropped", None)
        if dropped is not None:
            lets["dropped"] = dropped
        return len(_encode(feed))

    # Read rows in full in the order they are kept, until they cannot all fit.
    made: dict[int, dict[str, Any]] = {}
    sizes: list[int] = []
    total = -1  # the commas between items: one fewer than the items
    for start in range(0, len(keep), _CHUNK):
        if total > current.max_bytes:
            break
        chunk = keep[start:start + _CHUNK]
        rows = {row.id: row for row in db.session.execute(
            select(FeedItem.id, *_COLUMNS).where(FeedItem.id.in_(chunk)))}
        for row_id in chunk:
            row = rows.get(row_id)
            if row is None:  # deleted by a fetch since the order was read (PostgreSQL)
                sizes.append(0)
                continue
            made[row_id] = item(row, current.groups[row.feed_id])
            size = len(_encode(made[row_id])) + 1
            sizes.append(size)
            total += size
            if total > current.max_bytes:
                break
    kept = len(keep)
    if len(sizes) < len(keep) or base(None) + max(total, 0) > current.max_bytes:
        kept = len(sizes)
        while kept and base(len(keep) - kept) + sum(sizes[:kept]) - 1 > current.max_bytes:
            kept -= 1
        base(len(keep) - kept)
    else:
        base(None)
    chosen = set(keep[:kept])
    feed["items"] = [made[row_id] for row_id in newest if row_id in chosen and row_id in made]
    if key is not None:
        feed["_lets"]["signature"] = signing.sign(feed, key, created)
    return Merged(_encode(feed), current.modified, len(keep) - kept)
