"""The main pages of every feature, per role, read from the gathered route table.

The quality checks (axe-core, the HTML validator, the security headers) walk the same
table as tests/test_routes.py: a new feature's pages join them by being listed in its
``tests/<feature>/access.py``. A page is a GET route the role may see (200) that answers
with HTML; CSV statements and photos are routes too, but not pages.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests import factories
from tests.test_routes import TABLE, fill

# The roles the checks look through: a visitor, a member, an organisation's intermediary
# and an admin (the member of another organisation sees what a member sees).
ROLES = ("anonymous", "member", "intermediary", "admin")


def make_people() -> dict[str, Any]:
    """The same people as the ``people`` fixture of tests/conftest.py, for tests that seed
    a live server's database instead of the test app's."""
    member = factories.make_member(display_name="Mia Member")
    intermediary = factories.make_member(display_name="Ivo Intermediary")
    admin = factories.make_admin(display_name="Ada Admin")
    other = factories.make_member(display_name="Otto Other")
    org = factories.make_organisation(intermediaries=[intermediary], name="Hedera",
                                      slug="hedera")
    other_org = factories.make_organisation(intermediaries=[other], name="Vondels",
                                            slug="vondels")
    return {"member": member, "intermediary": intermediary, "admin": admin,
            "other_org_member": other, "org": org, "other_org": other_org}


def routes_for(role: str, people: dict[str, Any]) -> list[str]:
    """Paths of the GET routes the role may see, in the table's order (sorted)."""
    return [fill(TABLE, template, people) for template in sorted(TABLE.routes)
            if TABLE.routes[template][role] == 200]


def login_client(app: Flask, role: str, people: dict[str, Any]) -> Any:
    """A test client of ``app`` logged in as the role (none for the visitor)."""
    from tests.conftest import Client

    app.test_client_class = Client
    client = app.test_client()
    if role != "anonymous":
        response = client.post_form("/login", {"identifier": people[role].account_code,
                                               "password": factories.PASSWORD})
        assert response.status_code == 303, (role, response.status_code)
    return client


def pages_for(app: Flask, role: str, people: dict[str, Any]) -> dict[str, str]:
    """{path: HTML} of the role's main pages, fetched with the test client."""
    client = login_client(app, role, people)
    pages: dict[str, str] = {}
    for path in routes_for(role, people):
        response = client.get(path)
        assert response.status_code == 200, (role, path, response.status_code)
        if response.mimetype == "text/html":
            pages[path] = response.get_data(as_text=True)
    return pages
