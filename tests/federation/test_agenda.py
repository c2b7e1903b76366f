"""The common agenda: every followed group's upcoming events, in the site's zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from lets_site.extensions import db
from lets_site.federation import parse, services
from tests.federation import feeds
from tests.html import main_text, select_text

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
EN = {"Accept-Language": "en"}


def _group(slug: str, items: list[dict[str, Any]]) -> None:
    base = f"https://{slug}.example"
    feed = services.add_feed(None, slug, base + "/feed.json")
    body = json.dumps(feeds.feed(base, slug, items)).encode()
    services.merge(feed, parse.parse(body, feed.feed_url, slug, NOW), NOW)
    feed.group_name = f"LETS {slug.title()}"
    db.session.commit()


def test_agenda_lists_upcoming_events_of_all_groups_in_the_sites_zone(
        client: Any, app: Any) -> None:
    ieper = "https://ieper.example"
    cancelled = feeds.event(ieper, "c", start="2027-05-02T10:00:00+02:00", status="cancelled")
    cancelled["title"] = "Cancelled market"
    _group("ieper", [
        feeds.event(ieper, "later", start="2027-06-01T20:00:00+02:00"),
        feeds.event(ieper, "past", start="2026-01-10T20:00:00+01:00"),
        cancelled,
    ])
    london = feeds.event("https://dover.example", "uk", start="2027-05-01T09:00:00+01:00",
                         zone="Europe/London")
    _group("dover", [london])
    page = client.get("/agenda/", headers=EN)
    assert page.status_code == 200
    text = main_text(page)
    assert "Event past" not in text
    # Soonest first, across groups.
    assert text.index("Event uk") < text.index("Cancelled market") < text.index("Event later")
    # 09:00 in London is 10:00 in Brussels, the site's zone; the event's own time shown.
    assert "Sat 1 May 2027, 10:00 (09:00 Europe/London there)" in text
    assert "Tue 1 Jun 2027, 20:00" in text and "20:00 Europe/Brussels" not in text
    assert "Cancelled market" in select_text(page, "del")
    only = main_text(client.get("/agenda/?group=dover", headers=EN))
    assert "Event uk" in only and "Event later" not in only
    assert client.get("/agenda/?page=abc", headers=EN).status_code == 200


def test_agenda_is_empty_without_followed_groups(client: Any) -> None:
    assert "No upcoming activities" in main_text(client.get("/agenda/", headers=EN))
