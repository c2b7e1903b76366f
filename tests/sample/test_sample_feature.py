"""The feature contract, shown with a feature that lives only in the tests: registered with
one argument to create_app, it appears everywhere it should (menu, header, admin index,
home, organisation pages, demo, member data download, items, the route matrix) without an
edit of any central file. tests/test_features.py shows it nowhere when not registered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lets_site import features
from tests.access import gather
from tests.sample.feature import FEATURE
from tests.test_routes import check_route, unlisted_routes


def text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_menu_link_and_header_panel_on_every_page(client: Any) -> None:
    for path in ("/", "/offers/", "/organisations/"):
        page = text(client.get(path))
        assert '<a href="/sample/">Sample menu link</a>' in page
        assert '<p id="sample-header">Sample header panel</p>' in page


def test_menu_link_comes_in_its_order(client: Any) -> None:
    page = text(client.get("/"))
    nav = page[page.index("<nav"):page.index("</nav>")]
    # order 15: between offers (10) and organisations (20)
    assert nav.index("/offers/") < nav.index("/sample/") < nav.index("/organisations/")


def test_admin_link_with_its_count_on_the_admin_index(client: Any, auth: Any,
                                                     make_admin: Any) -> None:
    auth.login(make_admin().account_code)
    page = text(client.get("/admin/"))
    assert '<a href="/admin/sample">Sample admin link</a> (42)' in page
    assert text(client.get("/admin/sample"))


def test_home_panel_for_visitors_and_members(client: Any, auth: Any, make_member: Any) -> None:
    assert "Sample home panel for visitor" in text(client.get("/"))
    member = make_member(display_name="Mia Member")
    auth.login(member.account_code)
    assert "Sample home panel for Mia Member" in text(client.get("/"))


def test_panel_on_an_organisation_page(client: Any, make_organisation: Any) -> None:
    org = make_organisation(name="Hedera", slug="hedera")
    page = text(client.get(f"/organisations/{org.slug}"))
    assert '<section id="sample-organisation">Sample panel about Hedera</section>' in page


def test_panel_on_a_member_profile(client: Any, auth: Any, make_member: Any) -> None:
    member = make_member()
    auth.login(member.account_code)
    page = text(client.get(f"/members/{member.account_code}"))
    assert f'<p id="sample-profile">Sample panel about {member.account_code}</p>' in page


def test_items_on_the_home_page_and_for_a_viewer(client: Any, auth: Any, app: Flask,
                                                 make_member: Any) -> None:
    home = text(client.get("/"))
    new = home[home.index('id="new-on-the-site"'):]
    assert "Sample public item" in new and "Sample members item" not in new
    member = make_member()
    assert [i.id for i in features.items(None)][:1] == ["urn:sample:public"]
    assert {"urn:sample:public", "urn:sample:members"} <= {i.id for i in
                                                           features.items(member)}
    auth.login(member.account_code)
    home = text(client.get("/"))
    assert "Sample members item" in home[home.index('id="new-on-the-site"'):]


def test_export_section_in_the_member_data_download(client: Any, auth: Any,
                                                    make_member: Any) -> None:
    member = make_member()
    auth.login(member.account_code)
    data = json.loads(text(client.get(f"/members/{member.account_code}/export")))
    assert data["sample"] == {"code": member.account_code}


def test_demo_runs_its_step_after_the_others(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from lets_site import create_app
    from lets_site.demo import build_demo
    from lets_site.extensions import db

    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path))
    demo_app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3"},
                          features=[FEATURE])
    with demo_app.app_context():
        logins = build_demo()
        db.session.remove()
        db.engine.dispose()
    assert logins[-1] == ("sample", "SAMPLE", "sample@example.org", "-")
    assert [role for role, *_ in logins[:-1]] == ["admin", "admin", "member", "intermediary",
                                                   "coordinator"]


def test_its_own_route_table_is_gathered(app: Flask) -> None:
    table = gather(f.name for f in features.registry(app).features)
    assert "/sample/" in table.routes and "/admin/sample" in table.routes
    assert not unlisted_routes(app, table)


@pytest.mark.parametrize("role", ["anonymous", "member", "admin"])
@pytest.mark.parametrize("template", ["/sample/", "/admin/sample"])
def test_its_routes_per_role(client: Any, people: dict[str, Any], login_as: Any,
                             template: str, role: str, app: Flask) -> None:
    table = gather(f.name for f in features.registry(app).features)
    check_route(table, client, people, login_as, template, role)
