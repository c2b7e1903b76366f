"""The group feed ("LETS feed 1", docs/feed.md): the contract's public items as JSON Feed
1.1 with the ``_lets`` extension, and as Atom 1.0.

The feed knows no feature: it reads ``features.items(None, limit)`` and maps each public
item by its kind, from the plain values in ``Item.details``. Kinds the format has no type
for (news, organisations, collaborations) are not published.

When the id table is refreshed: on every GET of a feed (``current_entries``). The request
first compares the public items with the table in a read; only when something changed does
it write, in a transaction of its own: on SQLite a ``BEGIN IMMEDIATE`` one (writers queue),
on PostgreSQL with ``INSERT ... ON CONFLICT DO NOTHING`` on the UNIQUE item key and UPDATEs
whose WHERE names the state they change from (the row lock makes a second writer re-check
it). So two GETs at the same moment mint one uuid per item and add one revision per change.
No signal receiver is needed: whatever changed the items (a service, an admin command, the
clock expiring a listing), the next GET sees it.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lets_site import features
from lets_site.database import utcnow, write_transaction
from lets_site.extensions import db
from lets_site.feed import signing
from lets_site.feed.models import FeedEntry
from lets_site.jsonfeed import (  # noqa: F401 - JSON_FEED_VERSION: this module's name too
    JSON_FEED_VERSION,
    PROFILE,
    as_utc,
    envelope,
    group_block,
    unit_code,
    utc_text,
)
from lets_site.mail import external_url
from lets_site.settings import get_settings

MEDIA_TYPE = "application/feed+json"
# The types this site publishes; a reader ignores an item of a type it does not know.
TYPES = ("offer", "want", "event", "book", "partner")
DELETED = "deleted"
MIN_TOMBSTONE_DAYS = 30
DEFAULTS: Mapping[str, Any] = {
    "FEED_TOMBSTONE_DAYS": 30,  # >= 30: how long a tombstone stays in the feed
    "FEED_MAX_BYTES": 1024 * 1024,  # the body's cap (1 MiB)
    "FEED_ITEMS_LIMIT": 10000,  # public items read from the features at most
    "FEED_SIGNING_KEY": None,  # path of the Ed25519 key; None: instance/feed-signing-key.pem
}
# Characters XML 1.0 cannot carry (Atom), and that plain text never needs.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def setup(app: Any) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    days = int(app.config["FEED_TOMBSTONE_DAYS"])
    if days < MIN_TOMBSTONE_DAYS:
        raise ValueError(f"FEED_TOMBSTONE_DAYS must be at least {MIN_TOMBSTONE_DAYS}")


def tombstone_days() -> int:
    return max(MIN_TOMBSTONE_DAYS, int(current_app.config["FEED_TOMBSTONE_DAYS"]))


# --- URLs ---------------------------------------------------------------------------------


def absolute(url: str) -> str:
    """An item's URL on BASE_URL. Inside a request ``features.item_url`` gives a path (from
    the app's URL map, after the app's script root); the host is never the request's."""
    if urlsplit(url).scheme:
        return url
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    root = url_for("site.home").rstrip("/")  # the script root this path starts with
    path = url[len(root):] if root and url.startswith(root) else url
    return base + "/" + path.lstrip("/")


# --- Items -> feed items ------------------------------------------------------------------


_utc = utc_text
_as_utc = as_utc


def _text(value: Any) -> str:
    return _CONTROL.sub("", str(value or "")).strip()


_unit_code = unit_code


def _offer(item: features.Item, d: Mapping[str, Any]) -> dict[str, Any]:
    hundredths = d.get("price")
    price: dict[str, Any] = {
        "amount": None if hundredths is None else hundredths / 100,
        "unit": _unit_code(),
        "basis": d.get("price_basis") or "agree",
    }
    out: dict[str, Any] = {"category": d.get("category"), "price": price,
                           "mode": d.get("mode") or "in_person"}
    if d.get("valid_through"):
        out["valid_through"] = _utc(datetime.fromisoformat(d["valid_through"]))
    return {**out, **_owner(d)}


def _owner(d: Mapping[str, Any]) -> dict[str, Any]:
    """``organisation {name, url}`` for an organisation's item; ``member {display_name}``
    only when the member opted in to be shown publicly (the feature leaves it out if not)."""
    org = d.get("organisation")
    if org:
        return {"organisation": {"name": _text(org["name"]), "url": absolute(org["url"])}}
    if d.get("member"):
        return {"member": {"display_name": _text(d["member"])}}
    return {}


def _event(item: features.Item, d: Mapping[str, Any]) -> dict[str, Any]:
    tz = ZoneInfo(d.get("timezone") or get_settings().timezone)
    start = _as_utc(item.start or item.created).astimezone(tz)
    end = _as_utc(datetime.fromisoformat(d["end"])).astimezone(tz) if d.get("end") else start
    out: dict[str, Any] = {"status": d.get("status") or "scheduled", "timezone": tz.key,
                           "kind": d.get("kind") or None}
    if d.get("all_day"):
        last = end.date() - timedelta(days=1) if end.date() > start.date() else start.date()
        out.update(all_day=True, start_date=start.date().isoformat(),
                   end_date=last.isoformat())
    else:
        out.update(start=start.isoformat(timespec="seconds"),
                   end=end.isoformat(timespec="seconds"))
    if d.get("venue") or d.get("address"):
        location: dict[str, Any] = {"name": _text(d.get("venue"))}
        if d.get("address"):
            location["address"] = {"text": _text(d.get("address"))}
        out["location"] = location
    online = str(d.get("online_url") or "")
    if online.startswith(("https://", "http://")):
        out["online_url"] = online
    out["attendance_mode"] = ("mixed" if online and "location" in out
                              else "online" if online else "offline")
    out["organizer"] = {"name": get_settings().group_name, "url": external_url("site.home")}
    out["partners"] = [{"name": _text(name)} for name in d.get("partners") or ()]
    out["open_to_non_members"] = bool(d.get("open_to_non_members"))
    if d.get("series"):
        out["series"] = f"urn:uuid:{d['series']}"
    return out


def _book(item: features.Item, d: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"book_title": _text(item.title),
                           "book_authors": _text(d.get("authors")),
                           "book_language": d.get("language") or "",
                           "condition": d.get("condition") or "",
                           "swap": d.get("mode") or "give"}
    if d.get("isbn"):
        out["isbn"] = d["isbn"]
    return {**out, **_owner(d)}


def _partner(item: features.Item, d: Mapping[str, Any]) -> dict[str, Any]:
    org: dict[str, Any] = {"name": _text(item.title)}
    if str(d.get("website") or "").startswith(("https://", "http://")):
        org["url"] = d["website"]
    if d.get("address"):
        org["address"] = {"text": _text(d["address"])}
    return {"organization": org, "kind": d.get("kind") or "collaboration",
            "offers": _text(d.get("offers")), "needs": _text(d.get("needs"))}


_BY_TYPE = {"offer": _offer, "want": _offer, "event": _event, "book": _book,
            "partner": _partner}


def published(item: features.Item) -> dict[str, Any]:
    """The item as the feed shows it, without ``id``, ``date_modified`` and the revision
    (they come from the id table): what the content hash is taken of."""
    details = item.details or {}
    lets: dict[str, Any] = {"type": item.kind}
    lets.update({k: v for k, v in _BY_TYPE[item.kind](item, details).items() if v is not None})
    out: dict[str, Any] = {
        "url": absolute(item.url),
        "title": _text(item.title),
        "content_text": _text(details.get("text")) or _text(item.title),
        "date_published": _utc(item.created),
        "_lets": lets,
    }
    return out


def content_hash(data: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode()).hexdigest()


def public_items() -> list[features.Item]:
    limit = int(current_app.config["FEED_ITEMS_LIMIT"])
    return [i for i in features.items(None, limit)
            if i.visibility == features.PUBLIC and i.kind in TYPES]


# --- The id table -------------------------------------------------------------------------


@dataclass
class Current:
    """The public items with their published form, and the id table's rows."""

    items: dict[str, tuple[features.Item, dict[str, Any], str]]
    entries: dict[str, FeedEntry]


def _load() -> Current:
    items = {}
    for item in public_items():
        data = published(item)
        items[item.id] = (item, data, content_hash(data))
    entries = {e.item_key: e for e in db.session.scalars(select(FeedEntry))}
    return Current(items, entries)


def _stale(current: Current, now: datetime) -> bool:
    cutoff = now - timedelta(days=tombstone_days())
    for key, (_item, _data, digest) in current.items.items():
        entry = current.entries.get(key)
        if entry is None or entry.deleted_at is not None or entry.content_hash != digest:
            return True
    for key, entry in current.entries.items():
        if key not in current.items and entry.deleted_at is None:
            return True
        if entry.deleted_at is not None and entry.deleted_at < cutoff:
            return True
    return False


def _uuid_for(key: str) -> str:
    """The record's own uuid when its contract id is one (offers, events, books: made once
    when the record was created); otherwise a new uuid4 (kept in the table from now on)."""
    if key.startswith("urn:uuid:"):
        try:
            return str(uuid.UUID(key.removeprefix("urn:uuid:")))
        except ValueError:
            pass
    return str(uuid.uuid4())


def _insert(values: dict[str, Any]) -> None:
    dialect = db.session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(make(FeedEntry).values(**values)
                       .on_conflict_do_nothing(index_elements=["item_key"]))


def apply(current: Current, now: datetime) -> None:
    """Bring the table in line with the public items (flush, no commit). Every statement
    names the state it changes from, so running it twice at once changes things once."""
    table = FeedEntry.__table__
    for key, (item, _data, digest) in current.items.items():
        entry = current.entries.get(key)
        if entry is None:
            _insert({"item_key": key, "uuid": _uuid_for(key), "kind": item.kind,
                     "revision": 1, "content_hash": digest, "modified_at": now,
                     "deleted_at": None})
        elif entry.deleted_at is not None or entry.content_hash != digest:
            db.session.execute(
                update(table)
                .where(table.c.item_key == key,
                       (table.c.content_hash != digest) | table.c.deleted_at.isnot(None))
                .values(revision=table.c.revision + 1, content_hash=digest, kind=item.kind,
                        modified_at=now, deleted_at=None))
    for key, entry in current.entries.items():
        if key not in current.items and entry.deleted_at is None:
            db.session.execute(
                update(table).where(table.c.item_key == key, table.c.deleted_at.is_(None))
                .values(revision=table.c.revision + 1, content_hash=DELETED,
                        modified_at=now, deleted_at=now))
    cutoff = now - timedelta(days=tombstone_days())
    db.session.execute(delete(table).where(table.c.deleted_at < cutoff))


def current_entries(now: datetime | None = None) -> Current:
    """The public items and their up-to-date rows, writing the table first when it is
    behind (see the module's docstring). Commits only what it wrote itself."""
    now = now or utcnow()
    current = _load()
    if not _stale(current, now):
        return current
    db.session.rollback()  # end the read; the write takes its own transaction
    with write_transaction():
        current = _load()
        apply(current, now)
        db.session.commit()
    db.session.expire_all()
    return _load()


# --- The feed -----------------------------------------------------------------------------


@dataclass
class Snapshot:
    body: bytes
    feed: dict[str, Any]
    modified: datetime
    dropped: int


def _expired(item: dict[str, Any], now_text: str) -> bool:
    lets = item["_lets"]
    end = lets.get("valid_through") or lets.get("end") or (
        lets.get("end_date") and lets["end_date"] + "T23:59:59Z")
    if not end:
        return False
    try:
        return _as_utc(datetime.fromisoformat(end.replace("Z", "+00:00"))).strftime(
            "%Y-%m-%dT%H:%M:%SZ") < now_text
    except ValueError:
        return False


def encode(feed: Mapping[str, Any]) -> bytes:
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode()


def fit(feed: dict[str, Any], max_bytes: int, now: datetime) -> int:
    """Drop items until the body is at most ``max_bytes``: expired listings and past
    events first, then the oldest (by date_modified). Returns how many were dropped; when
    any were, ``_lets.complete`` becomes false, so readers do not take the dropped items
    for deleted ones."""
    if len(encode(feed)) <= max_bytes:
        return 0
    now_text = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    items = feed["items"]
    order = sorted(range(len(items)),
                   key=lambda i: (not _expired(items[i], now_text),
                                  items[i]["date_modified"], items[i]["id"]))
    feed["_lets"]["complete"] = False
    feed["_lets"]["dropped"] = 0
    size = len(encode(feed))
    dropped: set[int] = set()
    for index in order:
        if size <= max_bytes:
            break
        # An item and its comma between neighbours.
        size -= len(encode(items[index])) + 1
        dropped.add(index)
    feed["items"] = [item for i, item in enumerate(items) if i not in dropped]
    feed["_lets"]["dropped"] = len(dropped)
    while len(encode(feed)) > max_bytes and feed["items"]:  # the count's own digits
        feed["items"].pop()
        feed["_lets"]["dropped"] += 1
    return int(feed["_lets"]["dropped"])


def build(now: datetime | None = None) -> Snapshot:
    """The whole feed, its body, and when it last changed (Last-Modified, generated_at).

    ``generated_at`` is the time of the last change, not of the request, so that two GETs
    without a change between them give byte-identical bodies (one strong ETag)."""
    now = now or utcnow()
    current = current_entries(now)
    site = get_settings()
    items: list[dict[str, Any]] = []
    stamps = [_as_utc(site.updated_at)] if site.updated_at else []
    _fields, fields_changed = features.group_fields()  # the group block's optional fields
    if fields_changed is not None:
        stamps.append(_as_utc(fields_changed))
    for key, entry in current.entries.items():
        stamps.append(_as_utc(entry.modified_at))
        if key in current.items:
            _item, data, _digest = current.items[key]
            out = {"id": entry.urn, **data, "date_modified": _utc(entry.modified_at)}
            out["_lets"] = {**data["_lets"], "revision": entry.revision}
            items.append(out)
        elif entry.deleted_at is not None:
            items.append({
                "id": entry.urn, "content_text": "",
                "date_modified": _utc(entry.modified_at),
                "_lets": {"type": DELETED, "revision": entry.revision,
                          "former_type": entry.kind, "deleted_at": _utc(entry.deleted_at)},
            })
    items.sort(key=lambda i: (i["date_modified"], i["id"]), reverse=True)
    modified = max(stamps) if stamps else now
    modified = modified.replace(microsecond=0)
    feed = envelope("feed.json_feed", modified, tombstone_days(), items)
    max_bytes = int(current_app.config["FEED_MAX_BYTES"])
    key = signing.load_private_key()
    # Room for the signature member (about 250 bytes) when the site signs.
    dropped = fit(feed, max_bytes - (400 if key is not None else 0), now)
    if key is not None:
        feed["_lets"]["signature"] = signing.sign(feed, key, _utc(modified))
    return Snapshot(body=encode(feed), feed=feed, modified=modified, dropped=dropped)


# --- Atom ---------------------------------------------------------------------------------

ATOM = "http://www.w3.org/2005/Atom"


def atom(snapshot: Snapshot) -> bytes:
    """The same items as Atom 1.0 (ids the same urn:uuid, updated = date_modified);
    tombstones are left out (Atom readers have no use for them)."""
    feed = snapshot.feed
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    root.set("{http://www.w3.org/XML/1998/namespace}lang", feed["language"])

    def sub(parent: ET.Element, tag: str, text: str | None = None,
            **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = _text(text)
        return element

    sub(root, "id", feed["feed_url"])
    sub(root, "title", feed["title"])
    sub(root, "updated", feed["_lets"]["generated_at"])
    sub(root, "link", rel="self", href=external_url("feed.atom_feed"),
        type="application/atom+xml")
    sub(root, "link", rel="alternate", href=feed["home_page_url"], type="text/html")
    author = sub(root, "author")
    sub(author, "name", feed["title"])
    sub(author, "uri", feed["home_page_url"])
    for item in feed["items"]:
        if item["_lets"]["type"] == DELETED:
            continue
        entry = sub(root, "entry")
        sub(entry, "id", item["id"])
        sub(entry, "title", item["title"])
        sub(entry, "updated", item["date_modified"])
        sub(entry, "published", item["date_published"])
        sub(entry, "link", rel="alternate", href=item["url"], type="text/html")
        sub(entry, "category", term=item["_lets"]["type"])
        sub(entry, "content", item["content_text"], type="text")
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def all_kinds(entries: Iterable[FeedEntry]) -> dict[str, int]:
    """Rows per type (the admin page)."""
    counts: dict[str, int] = {}
    for entry in entries:
        kind = DELETED if entry.deleted_at is not None else entry.kind
        counts[kind] = counts.get(kind, 0) + 1
    return counts
