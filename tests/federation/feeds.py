"""Group feeds written by hand after FEDERATION.md section 1 ("LETS feed 1")."""

from __future__ import annotations

import copy
import uuid
from typing import Any

NAMESPACE = uuid.UUID("6f1c2a9e-0000-4000-8000-000000000000")


def item_id(n: int | str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, str(n))}"


def offer(base: str, n: int | str, revision: int = 1, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": item_id(n),
        "url": f"{base}/offers/{n}",
        "title": f"Offer {n}",
        "content_text": f"Offer number {n}",
        "date_published": "2026-11-01T10:00:00Z",
        "date_modified": "2026-11-02T10:00:00Z",
        "_lets": {"type": "offer", "revision": revision, "category": "garden",
                  "mode": "in_person", "member": {"display_name": "An"}},
    }
    item.update(overrides)
    return item


def event(base: str, n: int | str, revision: int = 1, start: str = "2027-03-27T14:00:00+01:00",
          zone: str = "Europe/Brussels", **lets: Any) -> dict[str, Any]:
    item = offer(base, n, revision)
    item["url"] = f"{base}/events/{n}"
    item["title"] = f"Event {n}"
    item["_lets"] = {"type": "event", "revision": revision, "status": "scheduled",
                     "timezone": zone, "start": start, **lets}
    return item


def tombstone(base: str, n: int | str, revision: int) -> dict[str, Any]:
    return {"id": item_id(n), "url": f"{base}/offers/{n}",
            "_lets": {"type": "deleted", "revision": revision, "former_type": "offer",
                      "deleted_at": "2026-11-20T10:00:00Z"}}


def feed(base: str, slug: str, items: list[dict[str, Any]] | None = None,
         path: str = "/feed.json", **lets: Any) -> dict[str, Any]:
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"LETS {slug}",
        "home_page_url": base + "/",
        "feed_url": base + path,
        "language": "nl-BE",
        "items": copy.deepcopy(items or []),
        "_lets": {
            "about": "https://lets.example/docs/feed",
            "profile": "1.0",
            "generated_at": "2026-12-01T10:00:00Z",
            "complete": True,
            "tombstone_days": 30,
            "group": {"slug": slug, "name": f"LETS {slug.title()}", "url": base + "/",
                      "timezone": "Europe/Brussels",
                      "area": {"locality": slug.title(), "region": "West-Vlaanderen",
                               "country": "BE"},
                      "unit": {"code": "uur", "name": "uren"}},
            **lets,
        },
    }
