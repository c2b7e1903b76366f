"""/agenda.ics, read back with the icalendar library as calendar programs read it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from lets_site.extensions import db
from lets_site.federation import agenda, ical, parse, services
from tests.federation import feeds
from tests.federation.test_agenda import _event, _group

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
BRUSSELS = ZoneInfo("Europe/Brussels")
HOST = "hub.example"


def _export(filters: agenda.Filters | None = None, now: datetime = NOW) -> bytes:
    rows = agenda.calendar_rows(filters or agenda.Filters(), BRUSSELS, now)
    return ical.calendar(rows, "LETS hub: common agenda", HOST)


def _events(body: bytes) -> dict[str, Any]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(e["summary"]): e for e in calendar.walk("VEVENT")}


def _update(slug: str, items: list[dict[str, Any]], now: datetime) -> None:
    feed = services.feed_by_slug(slug)
    doc = feeds.feed(f"https://{slug}.example", slug, items)
    services.merge(feed, parse.parse(json.dumps(doc).encode(), feed.feed_url, slug, now), now)
    db.session.commit()


def test_calendar_has_no_method_a_refresh_interval_and_one_vtimezone_per_tzid(
        app: Any) -> None:
    _group("ieper", [_event("ieper", "market", "2027-05-01T10:00:00+02:00"),
                     _event("ieper", "meeting", "2027-11-01T10:00:00+01:00")])
    _group("dover", [_event("dover", "uk", "2027-05-01T09:00:00+01:00",
                            zone="Europe/London"),
                     _event("dover", "us", "2027-05-01T09:00:00-04:00",
                            zone="America/New_York")])
    body = _export()
    calendar = icalendar.Calendar.from_ical(body)
    assert "METHOD" not in calendar
    assert str(calendar["VERSION"]) == "2.0"
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    zones = [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")]
    assert sorted(zones) == ["America/New_York", "Europe/Brussels", "Europe/London"]
    used = {e["DTSTART"].params["TZID"] for e in calendar.walk("VEVENT")}
    assert used == set(zones)
    events = _events(body)
    # Each in its own zone, at the same moment as the feed said.
    assert events["us"].decoded("dtstart").astimezone(UTC) == datetime(2027, 5, 1, 13, 0,
                                                                      tzinfo=UTC)
    assert events["uk"].decoded("dtstart").astimezone(UTC) == datetime(2027, 5, 1, 8, 0,
                                                                      tzinfo=UTC)
    assert events["meeting"].decoded("dtstart").astimezone(UTC) == datetime(
        2027, 11, 1, 9, 0, tzinfo=UTC)
    assert str(events["uk"]["description"]) == "LETS Dover\n\nOffer number uk"
    assert str(events["uk"]["url"]) == "https://dover.example/events/uk"


def test_lines_are_folded_at_75_octets_and_text_is_escaped(app: Any) -> None:
    title = "Repaircafé, met soep; en \\ koffie " + "é" * 60
    item = _event("ieper", "long", "2027-05-01T10:00:00+02:00")
    item["title"] = title
    item["content_text"] = "Eerste regel\nTweede, met; tekens"
    _group("ieper", [item])
    body = _export()
    for line in body.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # never folded inside a character
    assert b"\r\n " in body  # folded
    assert b"Repaircaf\xc3\xa9\\, met soep\\; en \\\\ koffie" in body.replace(b"\r\n ", b"")
    event = _events(body)[title]
    assert str(event["description"]) == "LETS Ieper\n\nEerste regel\nTweede, met; tekens"


def test_uids_are_stable_per_group_and_item(app: Any) -> None:
    same = "2027-05-01T10:00:00+02:00"
    _group("ieper", [_event("ieper", "market", same)])
    # Another group publishing the same item id gets its own UID.
    _group("oostende", [_event("oostende", "market", same)])
    calendar = icalendar.Calendar.from_ical(_export())
    uids = sorted(str(e["uid"]) for e in calendar.walk("VEVENT"))
    item_uuid = feeds.item_id("market").removeprefix("urn:uuid:")
    assert uids == [f"ieper-{item_uuid}@{HOST}", f"oostende-{item_uuid}@{HOST}"]
    # A change of title keeps the UID.
    changed = _event("ieper", "market", same, revision=2)
    changed["title"] = "Big market"
    _update("ieper", [changed], NOW + timedelta(hours=1))
    assert str(_events(_export())["Big market"]["uid"]) == f"ieper-{item_uuid}@{HOST}"


def test_two_exports_without_a_change_are_byte_identical(app: Any) -> None:
    _group("ieper", [_event("ieper", "market", "2027-05-01T10:00:00+02:00"),
                     _event("ieper", "fair", "2027-06-01T10:00:00+02:00")])
    first = _export()
    # The same feed fetched again an hour later (nothing changed), and a later export.
    _update("ieper", [_event("ieper", "market", "2027-05-01T10:00:00+02:00"),
                      _event("ieper", "fair", "2027-06-01T10:00:00+02:00")],
            NOW + timedelta(hours=1))
    assert _export(now=NOW + timedelta(hours=2)) == first
    event = _events(first)["market"]
    assert event["sequence"] == 0
    assert event.decoded("dtstamp") == NOW
    # A new revision: SEQUENCE = revision - 1, DTSTAMP the moment it was merged.
    later = NOW + timedelta(hours=3)
    _update("ieper", [_event("ieper", "market", "2027-05-01T11:00:00+02:00", revision=3),
                      _event("ieper", "fair", "2027-06-01T10:00:00+02:00")], later)
    event = _events(_export(now=later))["market"]
    assert event["sequence"] == 2 and event.decoded("dtstamp") == later
    assert _events(_export(now=later))["fair"].decoded("dtstamp") == NOW


def test_dst_gap_and_overlap_in_brussels(app: Any) -> None:
    _group("ieper", [
        # Across the spring gap (02:00 -> 03:00 on 28 March 2027): one hour long.
        _event("ieper", "gap", "2027-03-28T01:30:00+01:00", end="2027-03-28T03:30:00+02:00"),
        # 02:30 happens twice on 31 October 2027: the first (summer time) ...
        _event("ieper", "first", "2027-10-31T02:30:00+02:00"),
        # ... and the second (winter time), which a TZID time cannot name.
        _event("ieper", "second", "2027-10-31T02:30:00+01:00"),
    ])
    body = _export()
    events = _events(body)
    gap = events["gap"]
    # (Subtracting in one zone would count wall-clock hours: compare in UTC.)
    assert (gap.decoded("dtend").astimezone(UTC) - gap.decoded("dtstart").astimezone(UTC)
            == timedelta(hours=1))
    assert gap["DTSTART"].params["TZID"] == "Europe/Brussels"
    assert events["first"].decoded("dtstart").astimezone(UTC) == datetime(
        2027, 10, 31, 0, 30, tzinfo=UTC)
    assert events["second"].decoded("dtstart") == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    assert b"DTSTART:20271031T013000Z" in body
    # The zone's rules for both changes of 2027 are in its VTIMEZONE.
    assert b"DTSTART:20270328T020000" in body and b"DTSTART:20271031T030000" in body


def test_all_day_events_are_dates_with_the_day_after_as_end(app: Any) -> None:
    _group("ieper", [_event("ieper", "fair", "", all_day=True, start_date="2027-05-01",
                            end_date="2027-05-02"),
                     _event("ieper", "one day", "", all_day=True, start_date="2027-05-09")])
    events = _events(_export())
    assert events["fair"].decoded("dtstart") == date(2027, 5, 1)
    assert events["fair"].decoded("dtend") == date(2027, 5, 3)
    assert events["one day"].decoded("dtend") == date(2027, 5, 10)


def test_a_cancelled_event_is_kept_a_week_after_its_end(app: Any) -> None:
    _group("ieper", [
        _event("ieper", "cancelled", "2026-11-26T10:00:00+01:00",
               end="2026-11-26T13:00:00+01:00", status="cancelled"),
        _event("ieper", "postponed", "2027-01-10T10:00:00+01:00", status="postponed"),
    ])
    ended = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    events = _events(_export(now=ended + timedelta(days=7) - timedelta(seconds=1)))
    assert str(events["cancelled"]["status"]) == "CANCELLED"
    assert str(events["postponed"]["status"]) == "TENTATIVE"
    assert "cancelled" not in _events(_export(now=ended + timedelta(days=7)))


def test_agenda_ics_takes_the_page_filters_and_answers_304(client: Any, app: Any) -> None:
    _group("ieper", [_event("ieper", "market", "2027-05-01T10:00:00+02:00", kind="market"),
                     _event("ieper", "film", "2027-05-02T20:00:00+02:00", kind="film")])
    _group("hasselt", [_event("hasselt", "hasselt market", "2027-05-03T10:00:00+02:00",
                              kind="market")], region="Limburg")
    response = client.get("/agenda.ics?kind=market&region=West-Vlaanderen")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert list(_events(response.get_data())) == ["market"]
    everything = client.get("/agenda.ics")
    assert list(_events(everything.get_data())) == ["market", "film", "hasselt market"]
    again = client.get("/agenda.ics", headers={"If-None-Match": everything.headers["ETag"]})
    assert again.status_code == 304
