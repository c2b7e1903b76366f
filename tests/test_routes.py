"""Every GET route, for every role, answers with the status that role should get.

Each feature keeps its routes in its own table, ``tests/<feature>/access.py`` (see
tests/access.py); this matrix gathers the tables of the features the site lists. A route
the app has but no table lists fails ``test_every_route_is_listed``, so a new page cannot
ship without its access rules.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from lets_site import wiring
from tests.access import LOGIN, Table, gather
from tests.conftest import ROLES

TABLE = gather(feature.name for feature in wiring.features())


def fill(table: Table, template: str, people: dict[str, Any]) -> str:
    extra: dict[str, Any] = {}
    if "{" in template and table.values is not None:
        extra.update(table.values(people))
    return template.format(
        **extra,
        member=people["member"].account_code,
        member_id=people["member"].id,
        org=people["org"].slug,
        org_code=people["org"].account_code,
        token="not-a-valid-token",
    )


def unlisted_routes(app: Flask, table: Table) -> list[str]:
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = table.rules.get(rule.rule, rule.rule)
        if path not in table.routes and rule.rule not in table.post_only:
            missing.append(rule.rule)
    return missing


def check_route(table: Table, client: Any, people: dict[str, Any], login_as: Any,
                template: str, role: str) -> None:
    login_as(role)
    response = client.get(fill(table, template, people))
    expected = table.routes[template][role]
    assert response.status_code == expected, (template, role, response.status_code)
    if expected == LOGIN:
        assert "/login" in response.headers["Location"]


def test_every_route_is_listed(app: Flask) -> None:
    missing = unlisted_routes(app, TABLE)
    assert not missing, f"routes without access expectations: {missing}"


def test_every_post_only_rule_exists(app: Flask) -> None:
    assert not TABLE.post_only - {rule.rule for rule in app.url_map.iter_rules()}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("template", sorted(TABLE.routes))
def test_route_status_per_role(client: Any, people: dict[str, Any], login_as: Any,
                               template: str, role: str) -> None:
    check_route(TABLE, client, people, login_as, template, role)


@pytest.mark.parametrize("rule", sorted(TABLE.post_only))
def test_post_only_routes_refuse_get(client: Any, people: dict[str, Any], rule: str) -> None:
    path = (rule.replace("<int:member_id>", str(people["member"].id))
            .replace("<slug>", people["org"].slug).replace("<uid>", "not-a-uid")
            .replace("<int:listing_id>", "1"))
    path = re.sub(r"<int:\w+>", "1", path)  # any other feature's numeric id
    assert client.get(path).status_code == 405
