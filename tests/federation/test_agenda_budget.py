"""The common agenda with 20,000 merged events: the same number of queries as with a
handful, and the page within the page budget (docs/performance.md)."""

from __future__ import annotations

import gzip
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.federation import services
from lets_site.federation.models import FeedItem
from tests.queries import counted

EN = {"Accept-Language": "en", "Accept-Encoding": "gzip"}
GROUPS = 40
# What a page may issue: the layout's share plus the followed feeds, the count, one page
# of rows and the kinds (BEGIN included); the same whatever the number of events.
QUERY_BUDGET = 12
FIRST_VIEW_BUDGET = 14 * 1024  # with the stylesheet: tests/test_budgets.py checks both
PARTIAL_BUDGET = 4 * 1024



def _fill(total: int, first: int = 0) -> None:
    """``total`` events spread over the groups, over the coming year, with long titles."""
    feeds = [services.add_feed(None, f"group-{n:02d}", f"https://g{n}.example/feed.json")
             for n in range(GROUPS)] if first == 0 else services.feeds()
    for feed in feeds:
        info = {"slug": feed.slug, "name": f"LETS Groep {feed.slug}",
                "region": "West-Vlaanderen" if feed.id % 2 else "Oost-Vlaanderen"}
        feed.group_name = info["name"]
        feed.group_info = json.dumps(info)
    now = utcnow()
    rows = []
    for n in range(first, first + total):
        feed = feeds[n % len(feeds)]
        start = now + timedelta(hours=1 + n * 0.4)
        local = start.astimezone().isoformat()
        rows.append({
            "feed_id": feed.id, "item_id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
            "type": "event", "revision": 1, "deleted": False,
            "url": f"https://g{feed.id}.example/events/{n}",
            "title": f"Ruilmarkt en repaircafé in het buurthuis, editie {n}",
            "content_text": "", "merged_at": now, "start_at": start,
            "end_at": start + timedelta(hours=2), "kind": ("market", "film", "workshop")[n % 3],
            "data": json.dumps({"status": "cancelled" if n % 17 == 0 else "scheduled",
                                "timezone": "Europe/Brussels", "all_day": False,
                                "start": local, "kind": "market"}),
        })
    db.session.execute(insert(FeedItem.__table__), rows)
    db.session.commit()


def _page(client: Any, url: str, **headers: str) -> tuple[int, bytes, int]:
    client.get(url, headers={**EN, **headers})  # warm-up (the layout's first reads)
    with counted() as statements:
        response = client.get(url, headers={**EN, **headers})
    assert response.status_code == 200
    return len(statements), response.get_data(), len(response.get_data())


def test_agenda_of_20000_events_keeps_its_queries_and_its_budget(
        client: Any, app: Any) -> None:
    app.config["PAGE_CACHE_SECONDS"] = 0  # what the page costs to make
    _fill(30)
    few, _body, _size = _page(client, "/agenda/?page=2")
    _fill(20_000 - 30, first=30)
    assert db.session.query(FeedItem).count() == 20_000
    started = time.perf_counter()
    many, body, _size = _page(client, "/agenda/?page=2")
    elapsed = time.perf_counter() - started
    assert many == few <= QUERY_BUDGET, (few, many)
    html = gzip.decompress(body)
    assert html.count(b"<tr") == 21  # the heading and 20 events
    # The count stops at agenda.COUNT_LIMIT events (50 pages) and says there are more.
    assert b"Page 2 of 50 or more" in html, html[-900:]
    css = (Path(app.static_folder or "") / "css" / "site.css").read_bytes()
    first_view = len(gzip.compress(html, 6, mtime=0)) + len(gzip.compress(css, 6, mtime=0))
    assert first_view <= FIRST_VIEW_BUDGET
    # A filtered page and a deep one: the same queries.
    assert _page(client, "/agenda/?kind=film&region=West-Vlaanderen&page=50")[0] == many
    assert _page(client, "/agenda/?period=month&page=2")[0] == many
    partial = _page(client, "/agenda/?page=3", **{"HX-Request": "true"})[1]
    assert len(gzip.compress(gzip.decompress(partial), 6, mtime=0)) <= PARTIAL_BUDGET
    print(f"\nagenda page 2 of 20,000 events: {many} queries, {len(html)} B, "
          f"{len(gzip.compress(html, 6, mtime=0))} B gzipped, two requests in "
          f"{elapsed * 1000:.0f} ms")
