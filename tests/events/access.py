from __future__ import annotations

from typing import Any

from tests.access import AD, LOGIN, MEMBERS_ONLY, A, I, M, O, Table, everyone

# The test event's organiser is the admin and its co-organiser the intermediary; plain
# members have no organiser role.
ORGANISERS = {A: LOGIN, M: 403, I: 200, AD: 200, O: 403}


def _values(people: dict[str, Any]) -> dict[str, Any]:
    from tests.events.test_views import route_objects

    return route_objects(people)


TABLE = Table(
    routes={
        "/events/": everyone(200),
        "/events/past": everyone(200),
        "/events/month": everyone(303),
        "/events/month/2027-03": everyone(200),
        "/events/mine": MEMBERS_ONLY,
        "/events/new": {A: LOGIN, M: 403, I: 403, AD: 200, O: 403},
        "/events/{event}": everyone(200),
        "/events/{members_event}": MEMBERS_ONLY,
        "/events/{event}/edit": ORGANISERS,
        "/events/{event}/registrants": ORGANISERS,
        "/events/{event}/sign-in": ORGANISERS,
        "/events/{event}/registrants.csv": ORGANISERS,
        "/events/{event}.ics": everyone(200),
        "/events/{members_event}.ics": MEMBERS_ONLY,
        "/events.ics": everyone(200),
        "/events/feed/{feed_token}.ics": everyone(200),
        "/events/feed/not-a-token.ics": everyone(404),
        "/events/{event}/guest/sent": everyone(200),
        "/events/confirm/{guest_token}": everyone(200),
        "/events/cancel/{guest_token}": everyone(200),
    },
    post_only={
        "/events/feed",
        "/events/<int:event_id>/register",
        "/events/<int:event_id>/unregister",
        "/events/<int:event_id>/guest",
        "/events/<int:event_id>/status",
        "/events/<int:event_id>/attendance",
        "/events/<int:event_id>/registrants/<int:registration_id>/remove",
    },
    rules={
        "/events/month/<int(fixed_digits=4):year>-<int(fixed_digits=2):month>":
            "/events/month/2027-03",
        "/events/<int:event_id>": "/events/{event}",
        "/events/<int:event_id>/edit": "/events/{event}/edit",
        "/events/<int:event_id>/registrants": "/events/{event}/registrants",
        "/events/<int:event_id>/sign-in": "/events/{event}/sign-in",
        "/events/<int:event_id>/registrants.csv": "/events/{event}/registrants.csv",
        "/events/<int:event_id>.ics": "/events/{event}.ics",
        "/events/feed/<token>.ics": "/events/feed/{feed_token}.ics",
        "/events/<int:event_id>/guest/sent": "/events/{event}/guest/sent",
        "/events/confirm/<token>": "/events/confirm/{guest_token}",
        "/events/cancel/<token>": "/events/cancel/{guest_token}",
    },
    values=_values,
)
