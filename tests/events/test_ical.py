"""The calendar feeds, read back with the icalendar library and checked for what
Thunderbird, Google and Apple calendars need: CRLF, lines of at most 75 octets, escaped
text, a VTIMEZONE for each TZID, stable UIDs, a growing SEQUENCE, byte-identical
exports with an ETag and 304, STATUS:CANCELLED, a private feed that can be reset."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from lets_site.events import ical, services
from lets_site.events.models import Status
from lets_site.events.services import EventData
from lets_site.extensions import db
from tests import factories
from tests.events.conftest import make_event

BRUSSELS = ZoneInfo("Europe/Brussels")


def _parse(body: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(body)


def _events(cal: icalendar.Calendar) -> list[Any]:
    return [c for c in cal.walk("VEVENT")]


def test_escape_and_fold_follow_rfc_5545() -> None:
    assert ical.escape_text('a,b;c\\d\ne') == "a\\,b\\;c\\\\d\\ne"
    line = "DESCRIPTION:" + "é" * 100  # two octets each: folding must not split one
    folded = ical.fold(line)
    for part in folded.split("\r\n"):
        assert len(part.encode("utf-8")) <= 75
    assert folded.replace("\r\n ", "") == line


def test_event_file_round_trips_through_icalendar(client: Any, organiser: Any) -> None:
    title = "Film, talk; and \\ more: " + "a long title " * 5 + "end"
    event = make_event(organiser, title=title, start_date=date(2027, 7, 15),
                       start_time=time(19, 30), end_time=time(22, 0),
                       description="Line one\nLine two, with comma; and semicolon",
                       venue_name="Zaal De Schakel", venue_address="Markt 1, Ieper")
    response = client.get(f"/events/{event.id}.ics")
    assert response.mimetype == "text/calendar"
    body = response.get_data()
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    vevent = _events(_parse(body))[0]
    assert str(vevent["SUMMARY"]) == title
    assert str(vevent["DESCRIPTION"]) == "Line one\nLine two, with comma; and semicolon"
    assert str(vevent["LOCATION"]) == "Zaal De Schakel, Markt 1, Ieper"
    assert str(vevent["UID"]) == f"{event.uuid}@localhost"
    start = vevent.decoded("DTSTART")
    assert start == datetime(2027, 7, 15, 19, 30, tzinfo=BRUSSELS)
    assert vevent["DTSTART"].params["TZID"] == "Europe/Brussels"
    assert str(vevent["URL"]) == f"http://localhost/events/{event.id}"


def test_every_tzid_has_its_vtimezone_with_both_changes(client: Any, organiser: Any) -> None:
    make_event(organiser, start_date=date(2027, 1, 10))  # winter, before the year's change
    cal = _parse(client.get("/events.ics").get_data())
    zones = {str(z["TZID"]): z for z in cal.walk("VTIMEZONE")}
    used = {e["DTSTART"].params.get("TZID") for e in _events(cal)} - {None}
    assert used and used <= set(zones)
    parts = zones["Europe/Brussels"].subcomponents
    kinds = {p.name for p in parts}
    assert kinds == {"STANDARD", "DAYLIGHT"}
    # A rule in force before the January event: the previous autumn's change.
    first = min(p.decoded("DTSTART") for p in parts if p.name == "STANDARD")
    assert first < datetime(2027, 1, 10)
    offsets = {(p.name, p.decoded("TZOFFSETTO")) for p in parts}
    assert ("DAYLIGHT", timedelta(hours=2)) in offsets
    assert ("STANDARD", timedelta(hours=1)) in offsets


def test_all_day_event_uses_dates(client: Any, organiser: Any) -> None:
    event = make_event(organiser, start_date=date(2027, 8, 20), all_day=True,
                       end_date=date(2027, 8, 21))
    vevent = _events(_parse(client.get(f"/events/{event.id}.ics").get_data()))[0]
    assert vevent.decoded("DTSTART") == date(2027, 8, 20)
    assert vevent.decoded("DTEND") == date(2027, 8, 22)  # exclusive, as RFC 5545 wants


def test_two_exports_are_identical_with_etag_and_304(client: Any, organiser: Any) -> None:
    make_event(organiser, title="Book swap")
    first, second = client.get("/events.ics"), client.get("/events.ics")
    assert first.get_data() == second.get_data()
    etag = first.headers["ETag"]
    assert etag
    again = client.get("/events.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_a_change_keeps_the_uid_and_grows_sequence_and_dtstamp(client: Any,
                                                                organiser: Any) -> None:
    event = make_event(organiser, title="Film", capacity=5)
    before = _events(_parse(client.get(f"/events/{event.id}.ics").get_data()))[0]
    # A registration is no change of the calendar entry.
    services.register(factories.make_member(), event)
    db.session.commit()
    unchanged = _events(_parse(client.get(f"/events/{event.id}.ics").get_data()))[0]
    assert unchanged["SEQUENCE"] == before["SEQUENCE"] == 0
    day = event.starts_at.astimezone(BRUSSELS).date()
    services.update_event(organiser, event, EventData(title="Film", start_date=day,
                                                      start_time=time(20, 0), capacity=5))
    db.session.commit()
    after = _events(_parse(client.get(f"/events/{event.id}.ics").get_data()))[0]
    assert str(after["UID"]) == str(before["UID"])
    assert after["SEQUENCE"] == 1
    assert after.decoded("DTSTAMP") >= before.decoded("DTSTAMP")
    assert after.decoded("DTSTART").hour == 20


def test_cancelled_event_says_so(client: Any, organiser: Any) -> None:
    event = make_event(organiser)
    services.set_status(organiser, event, Status.CANCELLED)
    db.session.commit()
    vevent = _events(_parse(client.get("/events.ics").get_data()))[0]
    assert str(vevent["STATUS"]) == "CANCELLED"


def test_public_feed_leaves_out_members_events_private_feed_adds_them(
        client: Any, auth: Any, organiser: Any) -> None:
    make_event(organiser, title="Open")
    make_event(organiser, title="Members only", visibility="members")
    titles = {str(e["SUMMARY"]) for e in _events(_parse(client.get("/events.ics").get_data()))}
    assert titles == {"Open"}
    member = factories.make_member(locale="en")
    assert auth.login(member.account_code).status_code == 303
    page = client.post_form("/events/feed").get_data(as_text=True)
    token = page.split("/events/feed/")[1].split(".ics")[0]
    auth.logout()
    private = client.get(f"/events/feed/{token}.ics")
    assert {str(e["SUMMARY"]) for e in _events(_parse(private.get_data()))} == {
        "Open", "Members only"}
    assert "private" in private.headers["Cache-Control"]
    # Reset: the old address stops working, the new one works.
    auth.login(member.account_code)
    page = client.post_form("/events/feed", {"reset": "1"}).get_data(as_text=True)
    new_token = page.split("/events/feed/")[1].split(".ics")[0]
    assert new_token != token
    assert client.get(f"/events/feed/{token}.ics").status_code == 404
    assert client.get(f"/events/feed/{new_token}.ics").status_code == 200


def test_members_event_file_needs_a_login(client: Any, organiser: Any) -> None:
    event = make_event(organiser, visibility="members")
    assert client.get(f"/events/{event.id}.ics").status_code == 302
