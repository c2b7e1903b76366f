"""The events feature: the events board, registration, calendar feeds."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.events import demo, models, services
from lets_site.events.models import Kind
from lets_site.events.views import bp
from lets_site.settings import zone

HOME_EVENTS = 4


def _item(event: Any, tz: str) -> f.Item:
    return f.Item(id=event.urn, kind="event", title=event.title,
                  url=f.item_url("events.detail", event_id=event.id),
                  visibility=f.PUBLIC if event.is_public else f.MEMBERS_ONLY,
                  created=event.created_at, updated=event.updated_at, start=event.starts_at,
                  details={"timezone": tz, "end": event.ends_at.isoformat(),
                           "all_day": event.all_day, "status": event.status,
                           "venue": event.venue_name, "address": event.venue_address,
                           "partners": event.partner_list(), "revision": event.revision,
                           "kind": event.kind, "text": event.description,
                           "online_url": event.online_url, "series": event.series,
                           "open_to_non_members": event.open_to_non_members})


def items(viewer: Any, limit: int) -> list[f.Item]:
    """Events as items: public ones for the public feed (the federation reads them), with
    their start, and in ``details`` the group's time zone, the end, all-day, status,
    venue, partners and revision."""
    tz = zone().key
    return [_item(event, tz) for event in services.newest(viewer, limit)]


def _link_choices(viewer: Any, limit: int) -> list[tuple[int, f.Item]]:
    """Events another feature may name (a partner's collaboration): latest start first."""
    tz = zone().key
    return [(event.id, _item(event, tz)) for event in services.by_start(viewer, limit)]


def _linked(ids: Any, viewer: Any) -> dict[int, f.Item]:
    tz = zone().key
    return {event.id: _item(event, tz) for event in services.visible_by_id(ids, viewer)}


def _home(_subject: Any, viewer: Any) -> dict[str, Any] | None:
    events = services.next_events(viewer, HOME_EVENTS)
    intro = services.next_of_kind(viewer, Kind.INTRO_EVENING)
    if not events and intro is None:
        return None
    return {"events": events, "intro": intro}


def _profile(member: Any, viewer: Any) -> dict[str, Any] | None:
    """On a member's own profile (or for an admin): their coming registrations."""
    if viewer is None or not (viewer.id == member.id or viewer.is_admin):
        return None
    registrations = services.my_registrations(member)
    return {"registrations": registrations, "member": member} if registrations else None


def _partner(partner: Any, viewer: Any) -> dict[str, Any] | None:
    """On a partner's page: the events it co-organises, coming and past."""
    upcoming, past = services.events_with_partner(partner, viewer)
    if not upcoming and not past:
        return None
    return {"upcoming": upcoming, "past": past, "partner": partner}


def _demo(ctx: f.DemoContext) -> None:
    demo.seed(ctx.rng, ctx.made["members"], ctx.made.get("organisations", []), ctx.group)


FEATURE = f.Feature(
    name="events",
    blueprint=bp,
    menu=[f.MenuLink("events.index", _l("Events"), order=15)],
    panels=[
        f.Panel(f.HOME, "events/_home.html", _home, order=20, shared=True),
        f.Panel(f.PROFILE, "events/_profile.html", _profile, order=60),
        f.Panel(f.PARTNER, "events/_partner.html", _partner, order=40),
    ],
    demo=f.DemoStep(70, _demo),
    export=f.ExportSection("event_registrations", services.export_section),
    items=items,
    linkables=[f.Linkable(f.EVENT, _link_choices, _linked, subject=services.by_urn,
                          coming=services.coming_of_kind)],
    item_kinds={"event": _l("Events")},
    notifications=(
        # Off unless a member or the group turns it on: the page confirms it already.
        f.NotificationKind("events.registered", _l("I register for an event"),
                           default=False),
        f.NotificationKind("events.promoted",
                           _l("I move up from an event's waiting list")),
        f.NotificationKind("events.cancelled", _l("An event I registered for is cancelled")),
        f.NotificationKind("events.changed",
                           _l("An event I registered for moves or is postponed")),
    ),
    lapses=services.next_change,
    portable=f.Portable(
        tables=(models.Event, models.EventHost, models.EventPartner,
                models.Registration),
        # The tokens of mailed links (confirm, unregister) stay with the old site.
        secret_columns={"event_registration": ("token_hash", "token_expires_at")},
        left_out={"event_feed_key": "private calendar addresses are secrets; members "
                                    "make a new one on the new site"},
    ),
)
