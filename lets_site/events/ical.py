"""A small iCalendar (RFC 5545) writer for the events' feeds.

What calendar programs need and this writer does: CRLF line ends; lines folded at 75
octets (never inside a UTF-8 character) with a space at the start of each continuation;
TEXT values escaped (backslash, semicolon, comma, newline); times in the group's zone with
a TZID and a VTIMEZONE for it (Outlook and Apple need one), built from the zone's own
transitions over the years the events span; stable UIDs, a SEQUENCE that grows with each
change and a DTSTAMP that is the event's last change, so two exports without a change are
byte-identical (the feed's ETag and 304 rest on that).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lets_site.events.models import Event, Status

PRODID = "-//lets-site//events//EN"


def escape_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n"))


def fold(line: str) -> str:
    """Fold one content line at 75 octets, at character boundaries."""
    out: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta | None) -> str:
    seconds = int((delta or timedelta()).total_seconds())
    sign = "+" if seconds >= 0 else "-"
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:02d}{seconds % 3600 // 60:02d}"


def _transitions(tz: ZoneInfo, first_year: int, last_year: int
                 ) -> list[tuple[datetime, timedelta, timedelta, bool, str]]:
    """(local start, offset before, offset after, is daylight, name) for each change of
    the zone's offset in the years given, found by scanning days and bisecting."""
    found = []
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    moment = start
    before = moment.astimezone(tz).utcoffset()
    while moment < end:
        nxt = moment + timedelta(days=1)
        after = nxt.astimezone(tz).utcoffset()
        if after != before:
            low, high = moment, nxt
            while high - low > timedelta(minutes=1):
                mid = low + (high - low) / 2
                if mid.astimezone(tz).utcoffset() == before:
                    low = mid
                else:
                    high = mid
            high = high.replace(second=0, microsecond=0)
            local = (high + (before or timedelta())).replace(tzinfo=None)
            after_local = high.astimezone(tz)
            found.append((local, before or timedelta(), after or timedelta(),
                          bool(after_local.dst()), after_local.tzname() or ""))
            before = after
        moment = nxt
    return found


def vtimezone(tz: ZoneInfo, first_year: int, last_year: int) -> list[str]:
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tz.key}"]
    changes = _transitions(tz, first_year, last_year)
    if not changes:
        probe = datetime(first_year, 1, 1, tzinfo=UTC).astimezone(tz)
        offset = _offset(probe.utcoffset())
        lines += ["BEGIN:STANDARD", f"DTSTART:{first_year}0101T000000",
                  f"TZOFFSETFROM:{offset}", f"TZOFFSETTO:{offset}",
                  f"TZNAME:{probe.tzname() or tz.key}", "END:STANDARD"]
    for local, before, after, daylight, name in changes:
        part = "DAYLIGHT" if daylight else "STANDARD"
        lines += [f"BEGIN:{part}", f"DTSTART:{local.strftime('%Y%m%dT%H%M%S')}",
                  f"TZOFFSETFROM:{_offset(before)}", f"TZOFFSETTO:{_offset(after)}"]
        if name:
            lines.append(f"TZNAME:{escape_text(name)}")
        lines.append(f"END:{part}")
    lines.append("END:VTIMEZONE")
    return lines


def _event_lines(event: Event, tz: ZoneInfo, url: str, host: str) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{event.uuid}@{host}", f"DTSTAMP:{_utc(event.updated_at)}",
             f"SEQUENCE:{event.sequence}", f"CREATED:{_utc(event.created_at)}",
             f"LAST-MODIFIED:{_utc(event.updated_at)}"]
    if event.all_day:
        start = event.starts_at.astimezone(tz).date()
        end = event.ends_at.astimezone(tz).date()
        if end <= start:
            end = start + timedelta(days=1)
        lines += [f"DTSTART;VALUE=DATE:{start.strftime('%Y%m%d')}",
                  f"DTEND;VALUE=DATE:{end.strftime('%Y%m%d')}"]
    else:
        lines += [f"DTSTART;TZID={tz.key}:{_local(event.starts_at, tz)}",
                  f"DTEND;TZID={tz.key}:{_local(event.ends_at, tz)}"]
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
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")

