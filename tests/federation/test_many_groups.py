"""The common agenda, the directory and cross-group search at many followed groups: the
count stops at its bound, a far page is clamped, the group filter is typed in above the
list's bound, the directory is paged and searched, and a page's queries do not grow with
the number of groups (docs/federation.md, docs/performance.md)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.federation import agenda, groupfilter
from lets_site.federation.directory import PER_PAGE
from lets_site.federation.models import Feed, FeedItem
from tests.html import main_text, select_text
from tests.queries import counted

EN = {"Accept-Language": "en"}
BRUSSELS = ZoneInfo("Europe/Brussels")


def _feeds(count: int, first: int = 0, name: str = "LETS Groep {n:05d}",
           region: str = "") -> list[int]:
    """``count`` followed feeds inserted in bulk (slug ``g00000`` ...); the region is
    ``region`` or, without one, Limburg for every tenth group and Antwerpen otherwise."""
    now = utcnow()
    rows = []
    for n in range(first, first + count):
        slug = f"g{n:05d}"
        info = {"slug": slug, "name": name.format(n=n),
                "region": region or ("Limburg" if n % 10 == 0 else "Antwerpen")}
        rows.append({"slug": slug, "feed_url": f"https://{slug}.example/feed.json",
                     "status": "active", "health": "ok", "reason": "",
                     "group_name": info["name"], "group_info": json.dumps(info), "errors": 0,
                     "next_fetch_at": now, "last_success_at": now, "created_at": now})
    db.session.execute(insert(Feed.__table__), rows)
    db.session.commit()
    return list(db.session.scalars(select(Feed.id).where(Feed.slug.in_(
        [r["slug"] for r in rows])).order_by(Feed.slug)))


def _events(feed_ids: list[int], count: int, first: int = 0,
            now: datetime | None = None) -> None:
    """``count`` events, an hour apart from an hour from now, spread over the feeds;
    the event number ``n`` is titled ``event n`` (five digits)."""
    now = now or utcnow()
    rows = []
    for n in range(first, first + count):
        start = now + timedelta(hours=1 + n)
        feed_id = feed_ids[n % len(feed_ids)]
        rows.append({
            "feed_id": feed_id, "item_id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
            "type": "event", "revision": 1, "deleted": False,
            "url": f"https://g{feed_id}.example/events/{n}", "title": f"event {n:05d}",
            "content_text": "", "merged_at": now, "start_at": start,
            "end_at": start + timedelta(hours=1), "kind": "market",
            "data": json.dumps({"status": "scheduled", "timezone": "Europe/Brussels",
                                "all_day": False, "start": start.isoformat()}),
        })
    db.session.execute(insert(FeedItem.__table__), rows)
    db.session.commit()


def _offers(feed_ids: list[int], title: str) -> None:
    now = utcnow()
    db.session.execute(insert(FeedItem.__table__), [{
        "feed_id": feed_id, "item_id": f"urn:uuid:00000000-0000-4000-9000-{feed_id:012d}",
        "type": "offer", "revision": 1, "deleted": False,
        "url": f"https://g{feed_id}.example/offers/1", "title": title, "content_text": "",
        "search_text": title.lower(), "merged_at": now, "date_modified": now, "data": "{}",
    } for feed_id in feed_ids])
    db.session.commit()


def _page(filters: agenda.Filters | None = None, page: int = 1) -> Any:
    return agenda.agenda(filters or agenda.Filters(), BRUSSELS, utcnow(), page)


# --- the count's bound ------------------------------------------------------------------


def test_the_count_stops_at_its_bound_and_says_there_are_more(client: Any, app: Any) -> None:
    app.config["PAGE_CACHE_SECONDS"] = 0
    ids = _feeds(3)
    _events(ids, agenda.COUNT_LIMIT)
    found, _choices = _page(page=2)
    assert (found.total, found.pages, found.more) == (agenda.COUNT_LIMIT, 50, False)
    text = main_text(client.get("/agenda/?page=2", headers=EN))
    assert "Page 2 of 50" in text and "or more" not in text
    assert "narrow the list" not in text
    _events(ids, 1, first=agenda.COUNT_LIMIT)
    found, _choices = _page(page=2)
    assert (found.total, found.pages, found.more) == (agenda.COUNT_LIMIT, 50, True)
    assert found.has_next
    text = main_text(client.get("/agenda/?page=2", headers=EN))
    assert "Page 2 of 50 or more" in text
    assert "narrow the list by group, region, kind or dates" in text


def test_a_far_page_shows_the_last_counted_page(client: Any, app: Any) -> None:
    app.config["PAGE_CACHE_SECONDS"] = 0
    _events(_feeds(2), agenda.COUNT_LIMIT + 30)
    found, _choices = _page(page=2016)
    assert (found.page, found.more, found.has_next) == (50, True, False)
    assert [row.title for row in found.items][:2] == ["event 00980", "event 00981"]
    assert found.items[-1].title == "event 00999"
    text = main_text(client.get("/agenda/?page=2016", headers=EN))
    assert "Page 50 of 50 or more" in text and "event 00999" in text


# --- the group filter: a list, then a text -------------------------------------------------


def test_groups_are_listed_up_to_the_bound_and_typed_in_above(client: Any, app: Any) -> None:
    app.config["PAGE_CACHE_SECONDS"] = 0
    _feeds(groupfilter.SELECT_LIMIT)
    _found, choices = _page()
    assert choices.groups is not None and len(choices.groups) == groupfilter.SELECT_LIMIT
    html = client.get("/agenda/", headers=EN).get_data(as_text=True)
    assert '<select id="group" name="group">' in html
    assert html.count("<option") > groupfilter.SELECT_LIMIT
    _feeds(1, first=groupfilter.SELECT_LIMIT)
    _found, choices = _page()
    assert choices.groups is None
    html = client.get("/agenda/", headers=EN).get_data(as_text=True)
    assert '<input id="group" name="group" type="search"' in html
    assert "<option value=\"g00000\"" not in html
    # Cross-group search: the same bound.
    html = client.get("/search/?q=x", headers=EN).get_data(as_text=True)
    assert '<input id="cross-group" name="group" type="search"' in html


def _many_named() -> dict[str, int]:
    """More groups than the list shows, three of them with names of their own."""
    _feeds(groupfilter.SELECT_LIMIT + 1)
    named = {}
    for n, name in ((500, "LETS Ieper"), (501, "LETS Ieperboog"), (502, "Ruilkring Gent")):
        named[name] = _feeds(1, first=n, name=name, region="West-Vlaanderen")[0]
    _events(list(named.values()), 3)
    return named


def test_a_typed_group_matches_none_one_or_several_groups(client: Any, app: Any) -> None:
    app.config["PAGE_CACHE_SECONDS"] = 0
    _many_named()
    _events(list(db.session.scalars(select(Feed.id).where(Feed.slug == "g00007"))), 1,
            first=10)
    # event 0: Ieper, event 1: Ieperboog, event 2: Gent, event 10: g00007.
    text = main_text(client.get("/agenda/?group=ieper", headers=EN))
    assert "Groups matching “ieper”: LETS Ieper, LETS Ieperboog" in text
    assert "event 00000" in text and "event 00001" in text and "event 00002" not in text
    text = main_text(client.get("/agenda/?group=GENT", headers=EN))
    assert "Group matching “GENT”: Ruilkring Gent" in text
    assert "event 00002" in text and "event 00000" not in text
    text = main_text(client.get("/agenda/?group=nowhere", headers=EN))
    assert "No followed group matches “nowhere”." in text
    assert "event 0" not in text
    # An old link with a slug: that group only (a slug wins over names that contain it).
    text = main_text(client.get("/agenda/?group=g00007", headers=EN))
    assert "event 00010" in text and "event 00000" not in text
    # Markup typed in is shown as text.
    html = client.get("/agenda/?group=%3Cb%3Ex", headers=EN).get_data(as_text=True)
    assert "<b>x" not in html and "&lt;b&gt;x" in html


def test_many_matching_groups_are_bounded_and_said(app: Any) -> None:
    _feeds(groupfilter.SELECT_LIMIT + 1)
    found = groupfilter.match("groep")
    assert len(found.groups) == groupfilter.MATCH_LIMIT and found.more
    assert found.names[0] == "LETS Groep 00000"
    assert groupfilter.match("  ").groups == []
    assert groupfilter.match("100%").groups == []  # a pattern character is a character


def test_the_region_filter_works_at_many_groups(client: Any, app: Any) -> None:
    app.config["PAGE_CACHE_SECONDS"] = 0
    ids = _feeds(groupfilter.SELECT_LIMIT + 20)
    _events(ids[:20], 20)  # g00000 and g00010 are in Limburg
    found, choices = _page(agenda.Filters(region="Limburg"))
    assert choices.regions == ["Antwerpen", "Limburg"]
    assert [row.title for row in found.items] == ["event 00000", "event 00010"]
    assert {row.slug for row in found.items} == {"g00000", "g00010"}
    text = main_text(client.get("/agenda/?region=Limburg", headers=EN))
    assert "event 00010" in text and "event 00001" not in text
    assert "LETS Groep 00010" in text


def test_cross_search_takes_a_typed_group(client: Any) -> None:
    named = _many_named()
    _offers(list(named.values()), "Fietsherstelling")
    text = main_text(client.get("/search/?q=fiets&group=ieper", headers=EN))
    assert "2 results" in text and "LETS Ieperboog" in text
    text = main_text(client.get("/search/?q=fiets&group=nowhere", headers=EN))
    assert "No followed group matches “nowhere”." in text and "0 results" in text


# --- the directory ----------------------------------------------------------------------


def test_the_directory_is_paged_and_searched(client: Any, app: Any) -> None:
    app.config["PAGE_CACHE_SECONDS"] = 0
    _feeds(PER_PAGE * 2 + 5)
    page = client.get("/groups/", headers=EN)
    assert page.status_code == 200
    assert len(select_text(page, "#groups").split("LETS Groep")) - 1 == PER_PAGE
    text = main_text(page)
    assert "105 groups" in text and "Page 1 of 3" in text
    assert text.index("LETS Groep 00000") < text.index("LETS Groep 00049")
    last = main_text(client.get("/groups/?page=3", headers=EN))
    assert "LETS Groep 00104" in last and "LETS Groep 00099" not in last
    assert "Page 3 of 3" in main_text(client.get("/groups/?page=99", headers=EN))
    # By name, by region, and nothing.
    text = main_text(client.get("/groups/?q=groep+0010", headers=EN))
    assert "LETS Groep 00100" in text and "LETS Groep 00010" not in text
    assert "5 groups match" in text  # 00100 ... 00104
    text = main_text(client.get("/groups/?q=limburg", headers=EN))
    assert "11 groups match" in text and "LETS Groep 00001" not in text
    text = main_text(client.get("/groups/?q=nowhere", headers=EN))
    assert "0 groups match" in text


# --- queries that do not grow with the groups ---------------------------------------------


def _queries(client: Any, url: str) -> int:
    client.get(url, headers=EN)  # warm-up: the layout's and the filters' first reads
    with counted() as statements:
        assert client.get(url, headers=EN).status_code == 200
    return len(statements)


def test_pages_issue_the_same_queries_at_many_groups(client: Any, app: Any) -> None:
    app.config["PAGE_CACHE_SECONDS"] = 0
    ids = _feeds(5)
    _events(ids, 60)
    urls = ("/agenda/", "/agenda/?page=2", "/agenda/?region=Limburg", "/groups/?page=1",
            "/search/?q=event")
    few = {url: _queries(client, url) for url in urls}
    more = _feeds(groupfilter.SELECT_LIMIT * 3, first=5)
    _events(more, 2000, first=60)
    many = {url: _queries(client, url) for url in urls}
    # The directory counts its groups once there is more than one page.
    assert many == {**few, "/groups/?page=1": few["/groups/?page=1"] + 1}, (few, many)
    # A typed group: two queries more (a group with that slug? the groups whose names
    # hold it), whatever the number of groups.
    assert _queries(client, "/agenda/?group=groep") == many["/agenda/"] + 2
