"""The parts of an iCalendar (RFC 5545) writer every calendar feed shares (base layer).

What calendar programs need and these helpers do: CRLF line ends; lines folded at 75
octets (never inside a UTF-8 character) with a space at the start of each continuation;
TEXT values escaped (backslash, semicolon, comma, newline); a VTIMEZONE for every TZID
(Outlook and Apple need one), built from the zone's own transitions over the years the
events span. The events feature (``events/ical.py``) and the federation's common agenda
(``federation/ical.py``) write their events with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


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


def utc(value: datetime) -> str:
    """A DATE-TIME in UTC: ``20270501T080000Z``."""
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def local(value: datetime, tz: ZoneInfo) -> str:
    """A local DATE-TIME in ``tz`` (for a property with ``TZID=tz``)."""
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
            local_start = (high + (before or timedelta())).replace(tzinfo=None)
            after_local = high.astimezone(tz)
            found.append((local_start, before or timedelta(), after or timedelta(),
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
    for local_start, before, after, daylight, name in changes:
        part = "DAYLIGHT" if daylight else "STANDARD"
        lines += [f"BEGIN:{part}", f"DTSTART:{local_start.strftime('%Y%m%dT%H%M%S')}",
                  f"TZOFFSETFROM:{_offset(before)}", f"TZOFFSETTO:{_offset(after)}"]
        if name:
            lines.append(f"TZNAME:{escape_text(name)}")
        lines.append(f"END:{part}")
    lines.append("END:VTIMEZONE")
    return lines


def serialize(lines: Iterable[str]) -> bytes:
    """Content lines folded, with CRLF after each, as UTF-8."""
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")
