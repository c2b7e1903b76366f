from __future__ import annotations

from typing import Any

from tests.access import AD, ADMINS_ONLY, LOGIN, MEMBERS_ONLY, A, I, M, O, Table, everyone


def _values(people: dict[str, Any]) -> dict[str, Any]:
    from tests.offers.test_views import route_objects

    return route_objects(people)


TABLE = Table(
    routes={
        "/offers/": everyone(200),
        "/offers/mine": MEMBERS_ONLY,
        "/offers/new": MEMBERS_ONLY,
        "/offers/{listing}": everyone(200),
        "/offers/{listing}/edit": {A: LOGIN, M: 200, I: 403, AD: 200, O: 403},
        "/offers/{org_listing}/edit": {A: LOGIN, M: 403, I: 200, AD: 200, O: 403},
        "/offers/{members_listing}": {A: LOGIN, M: 200, I: 200, AD: 200, O: 200},
        "/offers/photos/{photo}": everyone(200),
        # The expiry mail's renewal link: a bad token is no page (tests/notifications).
        "/offers/{listing}/renew/{token}": {A: LOGIN, M: 404, I: 404, AD: 404, O: 404},
        "/admin/offers/categories": ADMINS_ONLY,
        "/admin/offers/categories/{category_id}": ADMINS_ONLY,
    },
    post_only={
        "/offers/acting-for",
        "/offers/<int:listing_id>/publish",
        "/offers/<int:listing_id>/withdraw",
        "/offers/<int:listing_id>/renew",
    },
    rules={
        "/offers/<int:listing_id>": "/offers/{listing}",
        "/offers/<int:listing_id>/edit": "/offers/{listing}/edit",
        "/offers/photos/<name>": "/offers/photos/{photo}",
        "/offers/<int:listing_id>/renew/<token>": "/offers/{listing}/renew/{token}",
        "/admin/offers/categories/<int:category_id>": "/admin/offers/categories/{category_id}",
    },
    values=_values,
)
