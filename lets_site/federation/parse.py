"""Strict reading of a group feed (FEDERATION.md section 1, "LETS feed 1").

A bad top level (not JSON, not the format, another group's feed) raises
:class:`FeedInvalid` and the fetch fails; a bad item is dropped with its reason and the
rest kept. Only known fields are kept (unknown ones are ignored); every text is length
capped; every date needs an offset; time zones must be IANA names; URLs must be http(s),
and item URLs must be on the group's own origin.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from lets_site import signing

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
PROFILE_MAJOR = "1"
TYPES = ("offer", "want", "event", "book", "partner", "deleted")
EVENT_STATUSES = ("scheduled", "cancelled", "postponed", "rescheduled")
MAX_DEPTH = 16
MAX_ITEMS = 5000
CAPS = {"id": 200, "title": 300, "summary": 1000, "content_text": 20000, "url": 2000,
        "name": 200, "text": 500}
_ZONE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_KIND_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")  # an event's kind: "book_swap"


class FeedInvalid(Exception):
    """The feed as a whole is refused; the message says why (shown to admins)."""


class ItemInvalid(Exception):
    """One item is dropped; the message says why."""


@dataclass
class Item:
    id: str
    type: str
    revision: int
    url: str
    title: str
    content_text: str
    date_published: datetime | None
    date_modified: datetime | None
    data: dict[str, Any]  # the known type-specific fields, checked
    start: datetime | None = None  # events: the start in UTC (all-day: local midnight)
    deleted_at: datetime | None = None


@dataclass
class Feed:
    title: str
    home_page_url: str | None
    complete: bool
    tombstone_days: int
    group: dict[str, Any]
    items: list[Item] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (item id or #n, reason)


# --- strict JSON -------------------------------------------------------------------------


def _no_constants(name: str) -> Any:
    raise FeedInvalid(f"JSON has {name}, which is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise FeedInvalid(f"JSON object has the key {key!r} twice")
        result[key] = value
    return result


def _check_tree(value: Any, surrogates: bool) -> None:
    """Depth (and, when the text has surrogate escapes, lone surrogates), without
    recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise FeedInvalid(f"JSON is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for key, child in node.items():
                if surrogates:
                    _no_surrogates(key)
                if isinstance(child, (dict, list)) or (surrogates and isinstance(child, str)):
                    stack.append((child, depth + 1))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node
                         if isinstance(child, (dict, list))
                         or (surrogates and isinstance(child, str)))
        elif isinstance(node, str):
            _no_surrogates(node)


def _no_surrogates(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise FeedInvalid("JSON has a lone surrogate (\\ud800-\\udfff)") from error


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URL_BAD = re.compile(r"[\s\x00-\x1f\x7f]")


def loads(body: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no duplicate keys, bounded depth, no lone
    surrogates."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FeedInvalid(f"the feed is not UTF-8: {error.reason}") from error
    text = text.removeprefix("\ufeff")
    try:
        # The C parser stops a very deep document with a RecursionError; the depth limit
        # proper is checked on the result.
        value = json.loads(text, parse_constant=_no_constants,
                           object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as error:
        raise FeedInvalid(f"not valid JSON: {error.msg} (line {error.lineno}, "
                          f"column {error.colno})") from error
    except RecursionError as error:
        raise FeedInvalid(f"JSON is nested deeper than {MAX_DEPTH} levels") from error
    # Valid UTF-8 cannot carry a surrogate: only a \\uD8xx escape can.
    _check_tree(value, surrogates=_SURROGATE_ESCAPE.search(text) is not None)
    return value


# --- field checks --------------------------------------------------------------------------


def _text(obj: dict[str, Any], key: str, cap: int, required: bool = True,
          error: type[Exception] = ItemInvalid) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise error(f"{key} is missing")
        return None
    if not isinstance(value, str):
        raise error(f"{key} is not a string")
    if len(value) > cap:
        raise error(f"{key} is longer than {cap} characters")
    if _CONTROL.search(value):
        raise error(f"{key} has control characters")
    return value


def http_url(value: Any, key: str, error: type[Exception] = ItemInvalid) -> str:
    if not isinstance(value, str) or len(value) > CAPS["url"]:
        raise error(f"{key} is not a URL")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise error(f"{key} is not an http(s) URL")
    if _URL_BAD.search(value):
        raise error(f"{key} has spaces or control characters")
    return value


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https"
                                                                  else 80)


def moment(value: Any, key: str, error: type[Exception] = ItemInvalid) -> datetime:
    """An RFC 3339 date-time with its offset."""
    if not isinstance(value, str) or len(value) > 40 or "T" not in value.upper():
        raise error(f"{key} is not an RFC 3339 date-time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise error(f"{key} is not an RFC 3339 date-time") from exc
    if parsed.tzinfo is None:
        raise error(f"{key} has no offset (a naive time is ambiguous)")
    return parsed


def _day(value: Any, key: str) -> date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ItemInvalid(f"{key} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ItemInvalid(f"{key} is not a date") from exc


def zone(value: Any, key: str, error: type[Exception] = ItemInvalid) -> zoneinfo.ZoneInfo:
    if not isinstance(value, str) or len(value) > 64 or not _ZONE_RE.match(value):
        raise error(f"{key} is not an IANA time zone")
    try:
        return zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise error(f"{key} {value!r} is not a known IANA time zone") from exc


def _offset_matches(when: datetime, tz: zoneinfo.ZoneInfo) -> bool:
    """Whether the wall time's offset is one the zone has at that wall time (both folds,
    so an hour that happens twice in autumn is accepted with either offset)."""
    wall = when.replace(tzinfo=None)
    offsets = {wall.replace(tzinfo=tz, fold=fold).utcoffset() for fold in (0, 1)}
    if when.utcoffset() not in offsets:
        return False
    # A wall time in the spring gap does not exist: it comes back changed.
    roundtrip = when.astimezone(tz).replace(tzinfo=None)
    return roundtrip == wall


def _int(value: Any, key: str, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ItemInvalid(f"{key} is not an integer >= {low}")
    return value


def _dict(obj: dict[str, Any], key: str, required: bool = False) -> dict[str, Any] | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise ItemInvalid(f"{key} is missing")
        return None
    if not isinstance(value, dict):
        raise ItemInvalid(f"{key} is not an object")
    return value


def _choice(obj: dict[str, Any], key: str, choices: tuple[str, ...],
            required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if value not in choices:
        raise ItemInvalid(f"{key} must be one of {', '.join(choices)}")
    return str(value)


# --- items ---------------------------------------------------------------------------------


def _event(lets: dict[str, Any], data: dict[str, Any]) -> datetime:
    data["status"] = _choice(lets, "status", EVENT_STATUSES)
    tz = zone(lets.get("timezone"), "timezone")
    data["timezone"] = tz.key
    kind = lets.get("kind")
    if kind is not None:
        if not isinstance(kind, str) or not _KIND_RE.match(kind):
            raise ItemInvalid("kind is not a short name such as market")
        data["kind"] = kind
    if lets.get("all_day") is True:
        first = _day(lets.get("start_date"), "start_date")
        last = _day(lets.get("end_date", lets.get("start_date")), "end_date")
        if last < first:
            raise ItemInvalid("end_date is before start_date")
        data.update(all_day=True, start_date=first.isoformat(), end_date=last.isoformat())
        return datetime(first.year, first.month, first.day, tzinfo=tz).astimezone(
            zoneinfo.ZoneInfo("UTC"))
    if lets.get("all_day") not in (None, False):
        raise ItemInvalid("all_day is not a boolean")
    start = moment(lets.get("start"), "start")
    end = moment(lets.get("end"), "end") if lets.get("end") is not None else None
    for key, when in (("start", start), ("end", end)):
        if when is not None and not _offset_matches(when, tz):
            raise ItemInvalid(f"{key} has an offset that {tz.key} does not have at that time")
    if end is not None and end < start:
        raise ItemInvalid("end is before start")
    data.update(all_day=False, start=start.isoformat(),
                end=end.isoformat() if end else None)
    location = _dict(lets, "location")
    if location is not None:
        name = _text(location, "name", CAPS["name"], required=False)
        data["location"] = {"name": name} if name else None
    if lets.get("online_url") is not None:
        data["online_url"] = http_url(lets["online_url"], "online_url")
    if lets.get("registration_url") is not None:
        data["registration_url"] = http_url(lets["registration_url"], "registration_url")
    return start.astimezone(zoneinfo.ZoneInfo("UTC"))


def _listing(lets: dict[str, Any], data: dict[str, Any]) -> None:
    category = lets.get("category")
    if category is not None:
        if not isinstance(category, str) or not _SLUG_RE.match(category):
            raise ItemInvalid("category is not a slug")
        data["category"] = category
    data["mode"] = _choice(lets, "mode", ("in_person", "remote", "both"), required=False)
    member = _dict(lets, "member")
    if member is not None:
        data["member"] = _text(member, "display_name", CAPS["name"])
    org = _dict(lets, "organisation")
    if org is not None:
        data["organisation"] = _text(org, "name", CAPS["name"])


# The item's ``_lets`` fields kept as published, per type (docs/feed.md), so the
# federation's merged feed can pass them on; at most EXTENSION_CAP bytes of JSON.
EXTENSION_FIELDS = {
    "offer": ("category", "price", "valid_through", "area", "mode", "member", "organisation"),
    "event": ("status", "timezone", "start", "end", "all_day", "start_date", "end_date",
              "location", "online_url", "attendance_mode", "organizer", "partners",
              "open_to_non_members", "registration_url", "series", "price"),
    "book": ("isbn", "book_title", "book_authors", "book_language", "condition", "swap",
             "member", "organisation"),
    "partner": ("organization", "kind", "offers", "needs"),
    "deleted": ("former_type", "deleted_at"),
}
EXTENSION_FIELDS["want"] = EXTENSION_FIELDS["offer"]
EXTENSION_CAP = 8192


def _extension(lets: dict[str, Any], kind: str) -> dict[str, Any] | None:
    kept = {key: lets[key] for key in EXTENSION_FIELDS[kind] if key in lets}
    size = len(json.dumps(kept, ensure_ascii=False))
    return kept if size <= EXTENSION_CAP else None


def _item(raw: Any, home: tuple[str, str, int], now: datetime) -> Item:
    if not isinstance(raw, dict):
        raise ItemInvalid("the item is not an object")
    item_id = _text(raw, "id", CAPS["id"])
    assert item_id is not None
    if not item_id.strip():
        raise ItemInvalid("id is empty")
    lets = _dict(raw, "_lets", required=True)
    assert lets is not None
    kind = _choice(lets, "type", TYPES)
    assert kind is not None
    revision = _int(lets.get("revision"), "revision", low=1)
    # A tombstone needs no url (a group's own feed writes none: the page is gone).
    tombstone = kind == "deleted" and raw.get("url") is None
    url = "" if tombstone else http_url(raw.get("url"), "url")
    if not tombstone and origin(url) != home:
        raise ItemInvalid("url is not on the group's own site")
    title = _text(raw, "title", CAPS["title"], required=kind != "deleted") or ""
    content = _text(raw, "content_text", CAPS["content_text"], required=False) or ""
    published = moment(raw["date_published"], "date_published") \
        if raw.get("date_published") is not None else None
    modified = moment(raw["date_modified"], "date_modified") \
        if raw.get("date_modified") is not None else None
    data: dict[str, Any] = {}
    summary = _text(raw, "summary", CAPS["summary"], required=False)
    if summary:
        data["summary"] = summary
    if raw.get("image") is not None:
        data["image"] = http_url(raw["image"], "image")
    item = Item(item_id, kind, revision, url, title, content, published, modified, data)
    if kind == "event":
        item.start = _event(lets, data)
    elif kind in ("offer", "want"):
        _listing(lets, data)
    elif kind == "deleted":
        data["former_type"] = _choice(lets, "former_type", TYPES[:-1], required=False)
        item.deleted_at = moment(lets.get("deleted_at"), "deleted_at")
    elif kind == "book":
        for key in ("book_title", "book_authors"):
            if isinstance(lets.get(key), str):  # searched; the rest is in "extension"
                data[key] = lets[key][:CAPS["text"]]
    extension = _extension(lets, kind)
    if extension is not None:
        data["extension"] = extension
    return item


def parse(body: bytes, feed_url: str, slug: str, now: datetime,
          public_key: str | None = None) -> Feed:
    """Read a feed fetched for the registry entry (``feed_url``, ``slug``). With the
    group's registered ``public_key``, a feed whose signature is missing or does not
    verify over its RFC 8785 canonical JSON is refused as a whole."""
    doc = loads(body)
    if not isinstance(doc, dict):
        raise FeedInvalid("the feed is not a JSON object")
    if public_key:
        refused = signing.check(doc, public_key)
        if refused is not None:
            raise FeedInvalid(refused)
    if doc.get("version") != JSON_FEED_VERSION:
        raise FeedInvalid(f"version is not {JSON_FEED_VERSION}")
    lets = doc.get("_lets")
    if not isinstance(lets, dict):
        raise FeedInvalid("the feed has no _lets extension")
    profile = lets.get("profile")
    if not isinstance(profile, str) or not re.fullmatch(r"\d+(\.\d+)*", profile):
        raise FeedInvalid("_lets.profile is missing or not a version like 1.0")
    if profile.split(".")[0] != PROFILE_MAJOR:
        raise FeedInvalid(f"_lets.profile {profile} is a version this site cannot read "
                          f"(it reads {PROFILE_MAJOR}.x)")
    if doc.get("feed_url") != feed_url:
        raise FeedInvalid(f"feed_url {str(doc.get('feed_url'))[:200]!r} is not the "
                          f"registered {feed_url!r}")
    group = lets.get("group")
    if not isinstance(group, dict):
        raise FeedInvalid("_lets.group is missing")
    if group.get("slug") != slug:
        raise FeedInvalid(f"_lets.group.slug {str(group.get('slug'))[:80]!r} is not the "
                          f"registered {slug!r}")
    title = _text(doc, "title", CAPS["title"], error=FeedInvalid) or ""
    home = _text(doc, "home_page_url", CAPS["url"], required=False, error=FeedInvalid)
    if home is not None:
        http_url(home, "home_page_url", FeedInvalid)
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedInvalid("items is not a list")
    if len(items) > MAX_ITEMS:
        raise FeedInvalid(f"more than {MAX_ITEMS} items")
    complete = lets.get("complete") is True
    days = lets.get("tombstone_days", 30)
    tombstone_days = days if isinstance(days, int) and not isinstance(days, bool) else 30
    info: dict[str, Any] = {"slug": slug}
    info["name"] = _text(group, "name", CAPS["name"], required=False,
                         error=FeedInvalid) or title
    if group.get("timezone") is not None:
        info["timezone"] = zone(group["timezone"], "_lets.group.timezone", FeedInvalid).key
    if group.get("url") is not None:
        info["url"] = http_url(group["url"], "_lets.group.url", FeedInvalid)
    area = group.get("area")
    if isinstance(area, dict):
        info["region"] = _text(area, "region", CAPS["name"], required=False,
                               error=FeedInvalid)
        info["locality"] = _text(area, "locality", CAPS["name"], required=False,
                                 error=FeedInvalid)
    feed = Feed(title, home, complete, max(30, tombstone_days), info)
    own = origin(feed_url)
    if group.get("contact_scripts") is not None:
        # The shared contact scripts (docs/feed.md): fetched by the sweep; a bad link is
        # dropped with its reason, the feed is kept.
        try:
            link = http_url(group["contact_scripts"], "_lets.group.contact_scripts")
            if origin(link) != own:
                raise ItemInvalid("_lets.group.contact_scripts is not on the group's own "
                                  "site")
            info["contact_scripts"] = link
        except ItemInvalid as error:
            feed.dropped.append(("_lets.group.contact_scripts", str(error)))
    seen: set[str] = set()
    for n, raw in enumerate(items):
        label = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) \
            else f"#{n + 1}"
        label = label[:CAPS["id"]]
        try:
            item = _item(raw, own, now)
        except ItemInvalid as error:
            feed.dropped.append((label, str(error)))
            continue
        if item.id in seen:
            feed.dropped.append((label, "the id appears twice in the feed"))
            continue
        seen.add(item.id)
        feed.items.append(item)
    return feed
