"""Followed groups with merged items for the hub pages' tests: schema-valid items (uuid4
ids, the fields docs/feed.schema.json asks) recorded as one fetch each, no network."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from lets_site.extensions import db
from lets_site.federation import services
from lets_site.federation.fetch import Response
from lets_site.federation.models import Feed
from tests.federation import feeds

NAMESPACE = uuid.UUID("0b7c4e1e-5a1d-4c1e-8f00-000000000000")


def uid(slug: str, n: int | str) -> str:
    """A stable uuid4-shaped id (the schema wants version 4)."""
    raw = bytearray(uuid.uuid5(NAMESPACE, f"{slug}/{n}").bytes)
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return f"urn:uuid:{uuid.UUID(bytes=bytes(raw))}"


def base(slug: str) -> str:
    return f"https://{slug}.example"


def listing(slug: str, n: int | str, title: str, kind: str = "offer", text: str = "",
            revision: int = 1) -> dict[str, Any]:
    item = feeds.offer(base(slug), n, revision, title=title, id=uid(slug, n),
                       content_text=text or title)
    item["url"] = f"{base(slug)}/offers/{n}"
    item["_lets"].update(type=kind, price={"amount": 2, "unit": "uur", "basis": "hour"})
    return item


def event(slug: str, n: int | str, title: str, start: str = "2031-03-27T14:00:00+01:00",
          status: str = "scheduled") -> dict[str, Any]:
    end = start.replace("T14:", "T16:")
    item = feeds.event(base(slug), n, start=start, end=end, status=status,
                       attendance_mode="offline")
    item.update(id=uid(slug, n), title=title)
    return item


def book(slug: str, n: int | str, title: str, authors: str = "") -> dict[str, Any]:
    item = listing(slug, n, title, text="A book to lend")
    item["url"] = f"{base(slug)}/books/{n}"
    item["_lets"] = {"type": "book", "revision": 1, "book_title": title,
                     "book_authors": authors, "book_language": "nl", "condition": "good",
                     "swap": "lend"}
    return item


def gone(slug: str, n: int | str, revision: int = 2) -> dict[str, Any]:
    item = feeds.tombstone(base(slug), n, revision)
    item["id"] = uid(slug, n)
    item["content_text"] = ""
    item["date_modified"] = "2026-11-20T10:00:00Z"
    return item


def follow(slug: str, items: list[dict[str, Any]], now: datetime | None = None,
           key: str | None = None, **lets: Any) -> Feed:
    """Follow ``slug`` and record one successful fetch of a feed with ``items``."""
    now = now or datetime.now(UTC)
    url = base(slug) + "/feed.json"
    feed = services.add_feed(None, slug, url, key)
    feed.next_fetch_at = now
    db.session.flush()
    claim = services.claim("t", now, now, 60)
    assert claim is not None and claim.slug == slug
    body = json.dumps(feeds.feed(base(slug), slug, items, **lets)).encode()
    outcome = services.record(claim, "t", now, now, Response(200, url, {}, body, len(body)),
                              5, services.Schedule())
    assert outcome == "ok"
    db.session.flush()
    return feed
