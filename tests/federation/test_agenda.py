"""The common agenda: every followed group's coming events, in the site's zone, with
filters by group, region, kind and dates; the menu link and "at neighbouring groups"."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from lets_site.extensions import db
from lets_site.federation import agenda, parse, services
from tests.federation import feeds
from tests.html import main_text, select_text

# Thursday 3 December 2026, 13:00 in Brussels.
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
BRUSSELS = ZoneInfo("Europe/Brussels")
EN = {"Accept-Language": "en"}


def _group(slug: str, items: list[dict[str, Any]], region: str = "West-Vlaanderen",
           now: datetime = NOW) -> None:
    base = f"https://{slug}.example"
    feed = services.add_feed(None, slug, base + "/feed.json")
    doc = feeds.feed(base, slug, items)
    doc["_lets"]["group"]["area"]["region"] = region
    parsed = parse.parse(json.dumps(doc).encode(), feed.feed_url, slug, now)
    assert not parsed.dropped, parsed.dropped
    services.merge(feed, parsed, now)
    feed.group_name = f"LETS {slug.title()}"
    feed.group_info = json.dumps(parsed.group)
    db.session.commit()


def _titles(filters: agenda.Filters | None = None, now: datetime = NOW,
            page: int = 1, per_page: int = 20) -> list[str]:
    found, _choices = agenda.agenda(filters or agenda.Filters(), BRUSSELS, now, page, per_page)
    return [row.title for row in found.items]


def _event(slug: str, title: str, start: str, **lets: Any) -> dict[str, Any]:
    key = title.lower().replace(" ", "-").replace("'", "")
    item = feeds.event(f"https://{slug}.example", key, start=start, **lets)
    item["title"] = title
    return item


def test_agenda_lists_upcoming_events_of_all_groups_in_the_sites_zone(
        client: Any, app: Any) -> None:
    ieper = "https://ieper.example"
    cancelled = feeds.event(ieper, "c", start="2027-05-02T10:00:00+02:00", status="cancelled")
    cancelled["title"] = "Cancelled market"
    _group("ieper", [
        feeds.event(ieper, "later", start="2027-06-01T20:00:00+02:00",
                    end="2027-06-01T22:00:00+02:00"),
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
    # The end on the same day; no own time for an event in the site's zone.
    assert "Tue 1 Jun 2027, 20:00\u201322:00" in text and "20:00 Europe/Brussels" not in text
    # Struck through, and said in words (a text browser shows no strike-through).
    assert "Cancelled market" in select_text(page, "del")
    assert "Cancelled market Cancelled" in text
    only = main_text(client.get("/agenda/?group=dover", headers=EN))
    assert "Event uk" in only and "Event later" not in only
    assert client.get("/agenda/?page=abc", headers=EN).status_code == 200


def test_agenda_is_empty_without_followed_groups(client: Any) -> None:
    assert "No upcoming activities" in main_text(client.get("/agenda/", headers=EN))


def test_an_event_is_listed_until_it_has_ended(app: Any) -> None:
    _group("ieper", [
        # Started an hour ago, ends in a minute: still on.
        _event("ieper", "running", "2026-12-03T12:00:00+01:00",
               end="2026-12-03T13:01:00+01:00"),
        # Ended a minute ago.
        _event("ieper", "ended", "2026-12-03T11:00:00+01:00", end="2026-12-03T12:59:00+01:00"),
        # No end: over once it has started.
        _event("ieper", "no-end", "2026-12-03T12:59:00+01:00"),
        # All day today (in its own zone): on until midnight.
        _event("ieper", "all-day", "", all_day=True, start_date="2026-12-03"),
        _event("ieper", "all-day-yesterday", "", all_day=True, start_date="2026-12-02"),
    ])
    assert _titles() == ["all-day", "running"]
    assert _titles(now=NOW + timedelta(minutes=1)) == ["all-day"]


def test_agenda_filters_by_group_region_and_kind(app: Any) -> None:
    _group("ieper", [_event("ieper", "ieper market", "2027-01-10T10:00:00+01:00",
                            kind="market"),
                     _event("ieper", "ieper film", "2027-01-11T20:00:00+01:00", kind="film")])
    _group("hasselt", [_event("hasselt", "hasselt market", "2027-01-12T10:00:00+01:00",
                              kind="market")], region="Limburg")
    _group("oostende", [_event("oostende", "oostende other", "2027-01-13T10:00:00+01:00")])
    assert _titles(agenda.Filters(group="hasselt")) == ["hasselt market"]
    assert _titles(agenda.Filters(group="nobody")) == []
    assert _titles(agenda.Filters(region="West-Vlaanderen")) == [
        "ieper market", "ieper film", "oostende other"]
    assert _titles(agenda.Filters(region="Limburg")) == ["hasselt market"]
    assert _titles(agenda.Filters(kind="market")) == ["ieper market", "hasselt market"]
    assert _titles(agenda.Filters(kind="market", region="West-Vlaanderen")) == ["ieper market"]
    _page, choices = agenda.agenda(agenda.Filters(), BRUSSELS, NOW)
    assert choices.regions == ["Limburg", "West-Vlaanderen"]
    assert [k for k, _label in choices.kinds] == ["film", "market"]
    assert [slug for slug, _name in choices.groups] == ["hasselt", "ieper", "oostende"]


def test_this_week_runs_to_sunday_night_and_this_month_to_its_last_day(app: Any) -> None:
    _group("ieper", [
        _event("ieper", "sunday late", "2026-12-06T23:30:00+01:00"),
        _event("ieper", "monday", "2026-12-07T00:00:00+01:00"),
        _event("ieper", "new year's eve", "2026-12-31T23:30:00+01:00"),
        _event("ieper", "new year", "2027-01-01T00:00:00+01:00"),
    ])
    assert _titles(agenda.Filters(period="week")) == ["sunday late"]
    assert _titles(agenda.Filters(period="month")) == ["sunday late", "monday",
                                                      "new year's eve"]
    # From/until are days in the site's zone, both included; a day typed wins.
    assert _titles(agenda.Filters(start=date(2026, 12, 7), end=date(2026, 12, 31))) == [
        "monday", "new year's eve"]
    assert _titles(agenda.Filters(period="week", end=date(2026, 12, 7))) == [
        "sunday late", "monday"]
    # A day in the past does not bring past events back.
    assert _titles(agenda.Filters(start=date(2020, 1, 1), end=date(2026, 12, 6))) == [
        "sunday late"]
    assert _titles(agenda.Filters(start=date(2027, 1, 2))) == []


def test_agenda_pages(app: Any) -> None:
    _group("ieper", [_event("ieper", f"e{n:02d}", f"2027-02-{n:02d}T10:00:00+01:00")
                     for n in range(1, 26)])
    page, _choices = agenda.agenda(agenda.Filters(), BRUSSELS, NOW, 2)
    assert [row.title for row in page.items] == [f"e{n:02d}" for n in range(21, 26)]
    assert (page.total, page.pages, page.has_prev, page.has_next) == (25, 2, True, False)
    # A page beyond the last shows the last.
    assert _titles(page=9) == [f"e{n:02d}" for n in range(21, 26)]


def test_agenda_form_works_without_javascript_and_htmx_gets_the_list_only(
        client: Any, app: Any) -> None:
    _group("ieper", [_event("ieper", "ieper market", "2027-01-10T10:00:00+01:00",
                            kind="market"),
                     _event("ieper", "ieper film", "2027-01-11T20:00:00+01:00", kind="film")])
    page = client.get("/agenda/?kind=film&period=&start=&end=31%2F01%2F2027", headers=EN)
    text = main_text(page)
    assert "ieper film" in text and "ieper market" not in text
    html = page.get_data(as_text=True)
    assert '<option selected value="film">Film</option>' in html
    assert 'value="31/01/2027"' in html
    # The calendar of the same filters, linked and announced.
    assert ('<link rel="alternate" type="text/calendar" title="Common agenda" '
            'href="/agenda.ics?kind=film&amp;period=&amp;start=&amp;end=31%2F01%2F2027">'
            in html)
    partial = client.get("/agenda/?kind=film", headers={**EN, "HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert body.startswith('<div id="agenda-list"') or \
        body.lstrip().split("\n")[0].startswith('<div id="agenda-list"')
    assert "<html" not in body and "ieper film" in body and "ieper market" not in body
    assert "HX-Request" in partial.headers["Vary"]
    # The list brings its calendar link with it, so the link follows the filters.
    assert 'href="/agenda.ics?kind=film"' in body
    # A date it cannot read says so and filters nothing.
    bad = client.get("/agenda/?start=32/13/2027", headers=EN)
    assert "Write the date as day/month/year" in main_text(bad)
    assert "ieper market" in main_text(bad)
    bad = client.get("/agenda/?start=32/13/2027", headers={**EN, "HX-Request": "true"})
    assert "Write the date as day/month/year" in bad.get_data(as_text=True)


def test_the_menu_shows_the_agenda_once_the_site_follows_a_group(
        client: Any, app: Any, login_as: Any) -> None:
    assert "Common agenda" not in select_text(client.get("/language", headers=EN), "nav")
    _group("ieper", [])
    assert "Common agenda" in select_text(client.get("/language", headers=EN), "nav")
    # Known without asking the database again while nothing was written.
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    login_as("member")  # a member's page (its member and menu are kept per process too)
    client.get("/language", headers=EN)  # the login wrote: this page asks again
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert "Common agenda" in select_text(client.get("/language", headers=EN), "nav")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert not [s for s in statements if "federation_feed" in s]
    services.remove_feed(None, "ieper")
    db.session.commit()
    assert "Common agenda" not in select_text(client.get("/language", headers=EN), "nav")


def test_events_page_shows_the_neighbouring_groups_coming_events(
        client: Any, app: Any) -> None:
    assert "At neighbouring groups" not in main_text(client.get("/events/", headers=EN))
    start = (datetime.now(UTC) + timedelta(days=3)).astimezone(BRUSSELS).replace(
        hour=19, minute=0, second=0, microsecond=0)
    cancelled = _event("ieper", "Cancelled repair cafe", start.isoformat(),
                       status="cancelled")
    _group("ieper", [_event("ieper", "Repair cafe", start.isoformat()), cancelled] + [
        _event("ieper", f"Later {n}", (start + timedelta(days=n + 1)).isoformat())
        for n in range(6)], now=datetime.now(UTC))
    page = client.get("/events/", headers=EN)
    panel = select_text(page, "section.neighbours")
    assert panel.startswith("At neighbouring groups")
    assert "Repair cafe" in panel and "LETS Ieper" in panel
    assert "Cancelled repair cafe" not in panel
    # A few: five.
    assert "Later 3" in panel and "Later 4" not in panel
    # Each links to the event on its group's own site.
    assert 'href="https://ieper.example/events/repair-cafe"' in page.get_data(as_text=True)
    # Not in the list's in-place update.
    partial = client.get("/events/", headers={**EN, "HX-Request": "true"})
    assert "At neighbouring groups" not in partial.get_data(as_text=True)


@pytest.mark.parametrize("kind", ["Market", "mark et", "x" * 41, 7])
def test_a_bad_event_kind_drops_the_item(kind: Any) -> None:
    base = "https://ieper.example"
    doc = feeds.feed(base, "ieper", [feeds.event(base, 1, kind=kind),
                                     feeds.event(base, 2, kind="book_swap")])
    parsed = parse.parse(json.dumps(doc).encode(), base + "/feed.json", "ieper", NOW)
    assert [item.data.get("kind") for item in parsed.items] == ["book_swap"]
    assert parsed.dropped[0][1] == "kind is not a short name such as market"
