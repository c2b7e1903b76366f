"""The common agenda as a calendar to subscribe to (``/agenda.ics``, FEDERATION.md 2).

The rules calendar programs rely on:

- UID: stable per group and item, ``<group slug>-<item uuid>@<this site's host>`` (an item
  id that is not a ``urn:uuid:`` is hashed), so two groups never share one and a rename
  keeps it;
- DTSTAMP: the moment this site last stored a change of the item, so two exports without
  a change are byte-identical; LAST-MODIFIED: the publisher's ``date_modified``;
  SEQUENCE: the item's revision - 1;
- times in the event's own zone with its TZID and a VTIMEZONE for every TZID used; a wall
  time that happens twice (the autumn hour) and is meant as the second one is written in
  UTC, since a TZID time names the first; all-day events as DATE values with the day
  after the last as DTEND;
- no METHOD (a published calendar, not an invitation), REFRESH-INTERVAL and
  X-PUBLISHED-TTL (RFC 7986) of an hour;
- cancelled events stay a week after their end with STATUS:CANCELLED
  (:data:`lets_site.federation.agenda.CALENDAR_KEEP`).

Folding, escaping and VTIMEZONE come from the base layer (:mod:`lets_site.ical`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lets_site.federation.agenda import AgendaRow
from lets_site.ical import escape_text, local, serialize, utc, vtimezone

PRODID = "-//lets-site//common agenda//EN"
# Part of the ETag: change it when the body's layout changes (a new release must not
# answer 304 to a body an older one built).
FORMAT = "ics-1"
REFRESH = "PT1H"
_UUID = re.compile(r"^urn:uuid:([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")
_STATUS = {"cancelled": "CANCELLED", "postponed": "TENTATIVE"}


def uid(row: AgendaRow, host: str) -> str:
    match = _UUID.match(row.item_id)
    own = match.group(1).lower() if match else \
        hashlib.sha256(row.item_id.encode("utf-8")).hexdigest()[:32]
    return f"{row.slug}-{own}@{host}"


def _zone(row: AgendaRow) -> ZoneInfo | None:
    try:
        return ZoneInfo(row.zone) if row.zone else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _moment(name: str, value: datetime, tz: ZoneInfo) -> str:
    """``DTSTART;TZID=...:local`` or, for the second of a doubled wall time, UTC."""
    wall = value.astimezone(tz).replace(tzinfo=None)
    if wall.replace(tzinfo=tz, fold=0).utcoffset() != value.utcoffset():
        return f"{name}:{utc(value)}"
    return f"{name};TZID={tz.key}:{local(value, tz)}"


def _times(row: AgendaRow, tz: ZoneInfo) -> list[str]:
    if row.all_day:
        first = date.fromisoformat(str(row.data.get("start_date")))
        last = date.fromisoformat(str(row.data.get("end_date") or first.isoformat()))
        return [f"DTSTART;VALUE=DATE:{first.strftime('%Y%m%d')}",
                f"DTEND;VALUE=DATE:{(last + timedelta(days=1)).strftime('%Y%m%d')}"]
    start = datetime.fromisoformat(str(row.data.get("start")))
    lines = [_moment("DTSTART", start, tz)]
    if row.data.get("end"):
        lines.append(_moment("DTEND", datetime.fromisoformat(str(row.data["end"])), tz))
    return lines


def _event(row: AgendaRow, tz: ZoneInfo, host: str) -> list[str]:
    stamp = row.merged_at or row.modified or row.start_at
    lines = ["BEGIN:VEVENT", f"UID:{uid(row, host)}", f"DTSTAMP:{utc(stamp)}",
             f"SEQUENCE:{max(row.revision - 1, 0)}"]
    if row.modified is not None:
        lines.append(f"LAST-MODIFIED:{utc(row.modified)}")
    lines += _times(row, tz)
    lines.append(f"SUMMARY:{escape_text(row.title)}")
    text = row.group if not row.text or row.text == row.title else f"{row.group}\n\n{row.text}"
    lines.append(f"DESCRIPTION:{escape_text(text)}")
    location = row.data.get("location")
    if isinstance(location, dict) and location.get("name"):
        lines.append(f"LOCATION:{escape_text(str(location['name']))}")
    if row.kind_label:
        lines.append(f"CATEGORIES:{escape_text(row.kind_label)}")
    lines.append(f"URL:{row.url}")
    lines.append(f"STATUS:{_STATUS.get(row.status, 'CONFIRMED')}")
    lines += ["TRANSP:OPAQUE", "END:VEVENT"]
    return lines


def etag(fingerprint: str, name: str, host: str, language: str) -> str:
    """The calendar's strong ETag, known before it is built: the merged rows'
    fingerprint (:func:`lets_site.federation.agenda.calendar_fingerprint`) and what else
    the body is made of (its name, the host in the UIDs, the language of the kinds'
    names). Times are written in the events' own zones, so the site's zone plays a part
    only through the rows the filters select, which the fingerprint holds."""
    parts = (FORMAT, fingerprint, name, host, language)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def calendar(rows: Iterable[AgendaRow], name: str, host: str) -> bytes:
    """The VCALENDAR of ``rows`` (soonest first), as bytes."""
    events = [(row, tz) for row in rows if (tz := _zone(row)) is not None]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             f"NAME:{escape_text(name)}", f"X-WR-CALNAME:{escape_text(name)}",
             f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}", f"X-PUBLISHED-TTL:{REFRESH}"]
    years: dict[str, tuple[ZoneInfo, int, int]] = {}
    for row, tz in events:
        if row.all_day:
            continue
        low, high = row.start_at.astimezone(tz).year, row.end_at.astimezone(tz).year
        known = years.get(tz.key)
        if known is not None:
            low, high = min(low, known[1]), max(high, known[2])
        years[tz.key] = (tz, low, high)
    for key in sorted(years):
        tz, low, high = years[key]
        # From the year before, so the first event has a rule in force before it.
        lines += vtimezone(tz, low - 1, high)
    for row, tz in events:
        lines += _event(row, tz, host)
    lines.append("END:VCALENDAR")
    return serialize(lines)
