"""The events' calendar feeds (iCalendar, RFC 5545), written with :mod:`lets_site.ical`
(folding, escaping, VTIMEZONE).

Times are in the group's zone with a TZID and a VTIMEZONE for it; UIDs are stable, the
SEQUENCE grows with each change and the DTSTAMP is the event's last change, so two exports
without a change are byte-identical (the feed's ETag and 304 rest on that).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lets_site.events.models import Event, Status
from lets_site.ical import escape_text, fold, local, serialize, utc, vtimezone

__all__ = ["PRODID", "calendar", "escape_text", "fold"]

PRODID = "-//lets-site//events//EN"


def _event_lines(event: Event, tz: ZoneInfo, url: str, host: str) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{event.uuid}@{host}", f"DTSTAMP:{utc(event.updated_at)}",
             f"SEQUENCE:{event.sequence}", f"CREATED:{utc(event.created_at)}",
             f"LAST-MODIFIED:{utc(event.updated_at)}"]
    if event.all_day:
        start = event.starts_at.astimezone(tz).date()
        end = event.ends_at.astimezone(tz).date()
        if end <= start:
            end = start + timedelta(days=1)
        lines += [f"DTSTART;VALUE=DATE:{start.strftime('%Y%m%d')}",
                  f"DTEND;VALUE=DATE:{end.strftime('%Y%m%d')}"]
    else:
        lines += [f"DTSTART;TZID={tz.key}:{local(event.starts_at, tz)}",
                  f"DTEND;TZID={tz.key}:{local(event.ends_at, tz)}"]
    lines.append(f"SUMMARY:{escape_text(event.title)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    where = ", ".join(p for p in (event.venue_name, event.venue_address) if p)
    if where:
        lines.append(f"LOCATION:{escape_text(where)}")
    lines.append(f"URL:{url}")
    status = {Status.CANCELLED: "CANCELLED", Status.POSTPONED: "TENTATIVE"}.get(
        Status(event.status), "CONFIRMED")
    lines.append(f"STATUS:{status}")
    lines.append("CLASS:PUBLIC" if event.is_public else "CLASS:PRIVATE")
    lines.append("END:VEVENT")
    return lines


def calendar(events: Iterable[tuple[Event, str]], tz: ZoneInfo, name: str,
             base_url: str) -> bytes:
    """The VCALENDAR for ``events`` (each with its absolute URL), as bytes."""
    pairs = list(events)
    host = urlsplit(base_url).hostname or "lets-site"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{escape_text(name)}", f"X-WR-TIMEZONE:{tz.key}"]
    timed = [e for e, _url in pairs if not e.all_day]
    if timed:
        years = [e.starts_at.astimezone(tz).year for e in timed]
        years += [e.ends_at.astimezone(tz).year for e in timed]
        # From the year before, so the first event has a rule in force before it.
        lines += vtimezone(tz, min(years) - 1, max(years))
    for event, url in pairs:
        lines += _event_lines(event, tz, url, host)
    lines.append("END:VCALENDAR")
    return serialize(lines)

