"""Every GET route, for every role, answers with the status that role should get.

Each feature adds its routes to ROUTES. A route the app has but this table lacks fails
``test_every_route_is_listed``, so a new page cannot ship without its access rules.
Statuses: 200 shown; 302 sent to the login page; 403 refused; 404 hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.conftest import ROLES

LOGIN = 302
A, M, I, AD, O = ROLES  # noqa: E741 - anonymous, member, intermediary, admin, other org


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


MEMBERS_ONLY = {A: LOGIN, M: 200, I: 200, AD: 200, O: 200}
ADMINS_ONLY = {A: LOGIN, M: 403, I: 403, AD: 200, O: 403}

# path template -> expected status per role. {member}, {org} etc. are filled from `people`.
ROUTES: dict[str, dict[str, int]] = {
    "/": everyone(200),
    "/login": {A: 200, M: 303, I: 303, AD: 303, O: 303},
    "/join": everyone(200),
    "/join/thanks": everyone(200),
    "/language": everyone(200),
    "/password/forgot": everyone(200),
    "/password/reset/{token}": everyone(400),
    "/invitation/{token}": everyone(400),
    "/members/": MEMBERS_ONLY,
    "/members/me": {A: LOGIN, M: 303, I: 303, AD: 303, O: 303},
    "/members/me/password": MEMBERS_ONLY,
    "/members/me/close": MEMBERS_ONLY,
    "/members/{member}": MEMBERS_ONLY,
    "/members/{member}/edit": {A: LOGIN, M: 200, I: 403, AD: 200, O: 403},
    "/members/{member}/export": {A: LOGIN, M: 200, I: 403, AD: 200, O: 403},
    "/organisations/": everyone(200),
    "/organisations/{org}": everyone(200),
    "/organisations/{org}/edit": {A: LOGIN, M: 403, I: 200, AD: 200, O: 403},
    "/admin/": ADMINS_ONLY,
    "/admin/settings": ADMINS_ONLY,
    "/admin/audit": ADMINS_ONLY,
    "/admin/members/": ADMINS_ONLY,
    "/admin/members/new": ADMINS_ONLY,
    "/admin/members/{member_id}": ADMINS_ONLY,
    "/admin/organisations/new": ADMINS_ONLY,
    "/admin/organisations/{org}": ADMINS_ONLY,
    "/ledger/": MEMBERS_ONLY,
    "/ledger/pay": MEMBERS_ONLY,
    "/ledger/requests": MEMBERS_ONLY,
    "/ledger/requests/new": MEMBERS_ONLY,
    "/ledger/group": MEMBERS_ONLY,
    "/ledger/transfers/{token}": {A: LOGIN, M: 404, I: 404, AD: 404, O: 404},
    "/ledger/accounts/{member}": {A: LOGIN, M: 200, I: 403, AD: 200, O: 403},
    "/ledger/accounts/{org_code}": {A: LOGIN, M: 403, I: 200, AD: 200, O: 403},
    "/ledger/accounts/{member}/statement.csv": {A: LOGIN, M: 200, I: 403, AD: 200, O: 403},
    "/ledger/accounts/{member}/print": {A: LOGIN, M: 200, I: 403, AD: 200, O: 403},
    "/admin/ledger": ADMINS_ONLY,
    "/admin/ledger/settings": ADMINS_ONLY,
    "/admin/ledger/book": ADMINS_ONLY,
    "/admin/ledger/mass": ADMINS_ONLY,
    "/admin/ledger/transfers/{token}/reverse": {A: LOGIN, M: 403, I: 403, AD: 404, O: 403},
    "/admin/ledger/accounts/{member}/limits": ADMINS_ONLY,
    "/offers/": everyone(200),
    "/offers/mine": MEMBERS_ONLY,
    "/offers/new": MEMBERS_ONLY,
    "/offers/{listing}": everyone(200),
    "/offers/{listing}/edit": {A: LOGIN, M: 200, I: 403, AD: 200, O: 403},
    "/offers/{org_listing}/edit": {A: LOGIN, M: 403, I: 200, AD: 200, O: 403},
    "/offers/{members_listing}": {A: LOGIN, M: 200, I: 200, AD: 200, O: 200},
    "/offers/photos/{photo}": everyone(200),
    "/admin/offers/categories": ADMINS_ONLY,
    "/admin/offers/categories/{category_id}": ADMINS_ONLY,
}

# Routes that only accept POST are walked by their feature's tests; GET gives 405.
POST_ONLY = {
    "/logout",
    "/admin/members/<int:member_id>/approve",
    "/admin/members/<int:member_id>/status",
    "/admin/members/<int:member_id>/roles",
    "/admin/members/<int:member_id>/invite",
    "/admin/organisations/<slug>/remove",
    "/ledger/requests/<uid>/confirm",
    "/ledger/requests/<uid>/decline",
    "/ledger/requests/<uid>/cancel",
    "/offers/acting-for",
    "/offers/<int:listing_id>/publish",
    "/offers/<int:listing_id>/withdraw",
    "/offers/<int:listing_id>/renew",
}

RULE_TO_TEMPLATE = {
    "/members/<code>": "/members/{member}",
    "/members/<code>/edit": "/members/{member}/edit",
    "/members/<code>/export": "/members/{member}/export",
    "/organisations/<slug>": "/organisations/{org}",
    "/organisations/<slug>/edit": "/organisations/{org}/edit",
    "/admin/members/<int:member_id>": "/admin/members/{member_id}",
    "/admin/organisations/<slug>": "/admin/organisations/{org}",
    "/password/reset/<token>": "/password/reset/{token}",
    "/invitation/<token>": "/invitation/{token}",
    "/ledger/transfers/<uid>": "/ledger/transfers/{token}",
    "/ledger/accounts/<code>": "/ledger/accounts/{member}",
    "/ledger/accounts/<code>/statement.csv": "/ledger/accounts/{member}/statement.csv",
    "/ledger/accounts/<code>/print": "/ledger/accounts/{member}/print",
    "/admin/ledger/transfers/<uid>/reverse": "/admin/ledger/transfers/{token}/reverse",
    "/admin/ledger/accounts/<code>/limits": "/admin/ledger/accounts/{member}/limits",
    "/offers/<int:listing_id>": "/offers/{listing}",
    "/offers/<int:listing_id>/edit": "/offers/{listing}/edit",
    "/offers/photos/<name>": "/offers/photos/{photo}",
    "/admin/offers/categories/<int:category_id>": "/admin/offers/categories/{category_id}",
}

# Features that need objects in their paths add a function here: people -> {name: value}.
EXTRA_VALUES: list[Callable[[dict[str, Any]], dict[str, Any]]] = []


def _offers_values(people: dict[str, Any]) -> dict[str, Any]:
    from tests.offers.test_views import route_objects

    return route_objects(people)


EXTRA_VALUES.append(_offers_values)


def _fill(template: str, people: dict[str, Any]) -> str:
    extra: dict[str, Any] = {}
    if "{" in template:
        for values in EXTRA_VALUES:
            extra.update(values(people))
    return template.format(
        **extra,
        member=people["member"].account_code,
        member_id=people["member"].id,
        org=people["org"].slug,
        org_code=people["org"].account_code,
        token="not-a-valid-token",
    )


def test_every_route_is_listed(app: Flask) -> None:
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = RULE_TO_TEMPLATE.get(rule.rule, rule.rule)
        if path not in ROUTES and rule.rule not in POST_ONLY:
            missing.append(rule.rule)
    assert not missing, f"routes without access expectations: {missing}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("template", sorted(ROUTES))
def test_route_status_per_role(client: Any, people: dict[str, Any], login_as: Any,
                               template: str, role: str) -> None:
    login_as(role)
    response = client.get(_fill(template, people))
    expected = ROUTES[template][role]
    assert response.status_code == expected, (template, role, response.status_code)
    if expected == LOGIN:
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("rule", sorted(POST_ONLY))
def test_post_only_routes_refuse_get(client: Any, people: dict[str, Any], rule: str) -> None:
    path = (rule.replace("<int:member_id>", str(people["member"].id))
            .replace("<slug>", people["org"].slug).replace("<uid>", "not-a-uid")
            .replace("<int:listing_id>", "1"))
    assert client.get(path).status_code == 405
