"""The pieces of HTML kept per process (lets_site/fragments.py): the offers list's results
and the home page's shared panels are rendered once per audience, language and URL, and
never show anything stale or another audience's view.

Each test asks a page, changes something the way the site does (a commit, in this app or in
a second app on the same database and instance folder: another gunicorn worker), and asks
again."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lets_site import fragments
from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.members.models import Visibility
from lets_site.offers import services as offers
from lets_site.offers.models import ListingVisibility
from tests import factories
from tests.conftest import logged_in
from tests.html import main_text, select_text
from tests.offers.conftest import make_listing
from tests.queries import counted


def _listing_queries(statements: list[str]) -> list[str]:
    return [s for s in statements if "FROM listing" in s]


def test_the_offers_list_is_kept_and_a_new_listing_shows_at_once(
        client: FlaskClient, login_as: Any, people: dict[str, Any]) -> None:
    login_as("member")
    make_listing(people["other_org_member"], "Fietsherstelling")
    db.session.commit()
    assert "Fietsherstelling" in main_text(client.get("/offers/"))
    with counted() as statements:
        assert "Fietsherstelling" in main_text(client.get("/offers/"))
    assert _listing_queries(statements) == []  # kept: no listing read again

    make_listing(people["other_org_member"], "Soep op zondag")
    db.session.commit()
    with counted() as statements:
        text = main_text(client.get("/offers/"))
    assert "Soep op zondag" in text and "Fietsherstelling" in text
    assert _listing_queries(statements)  # the commit dropped the kept list


def test_a_withdrawn_listing_is_gone_at_once(client: FlaskClient, login_as: Any,
                                             people: dict[str, Any]) -> None:
    owner = people["other_org_member"]
    listing = make_listing(owner, "Fietsherstelling")
    make_listing(owner, "Soep op zondag")
    db.session.commit()
    login_as("member")
    assert "Fietsherstelling" in main_text(client.get("/offers/"))
    offers.withdraw(owner, listing)
    db.session.commit()
    text = main_text(client.get("/offers/"))
    assert "Fietsherstelling" not in text and "Soep op zondag" in text


def test_a_listing_that_lapses_leaves_the_kept_list_without_a_write(
        client: FlaskClient, login_as: Any, people: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    owner = people["other_org_member"]
    make_listing(owner, "Bijna voorbij", valid_until=utcnow() + timedelta(hours=1))
    make_listing(owner, "Nog lang", valid_until=utcnow() + timedelta(days=30))
    db.session.commit()
    login_as("member")
    assert "Bijna voorbij" in main_text(client.get("/offers/"))
    later = utcnow() + timedelta(hours=1, seconds=1)
    monkeypatch.setattr(offers, "utcnow", lambda: later)
    monkeypatch.setattr(fragments, "utcnow", lambda: later)
    text = main_text(client.get("/offers/"))
    assert "Bijna voorbij" not in text and "Nog lang" in text


def test_the_kept_list_lives_until_just_before_the_lapse(
        client: FlaskClient, login_as: Any, people: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    owner = people["other_org_member"]
    make_listing(owner, "Bijna voorbij", valid_until=utcnow() + timedelta(hours=1))
    db.session.commit()
    login_as("member")
    client.get("/offers/")
    sooner = utcnow() + timedelta(minutes=59)
    monkeypatch.setattr(offers, "utcnow", lambda: sooner)
    monkeypatch.setattr(fragments, "utcnow", lambda: sooner)
    with counted() as statements:
        assert "Bijna voorbij" in main_text(client.get("/offers/"))
    assert _listing_queries(statements) == []



def test_no_audience_sees_another_audience_s_list(
        app: Flask, client: FlaskClient, people: dict[str, Any]) -> None:
    """A members-only listing, and a member who shows their address to members only: a
    member sees both, then a visitor sees neither (the member's kept list is not theirs),
    then an admin sees a hidden postcode that a member's kept list leaves out. Everyone
    logs in first: a login is a write, which would drop the kept lists."""
    owner = factories.make_member(display_name="Olga Owner", postcode="8900",
                                  address_visibility=Visibility.MEMBERS)
    secret = factories.make_member(display_name="Sam Secret", postcode="8970",
                                   address_visibility=Visibility.HIDDEN)
    make_listing(owner, "Alleen voor leden")
    make_listing(owner, "Voor iedereen", visibility=ListingVisibility.PUBLIC)
    make_listing(secret, "Verborgen adres", visibility=ListingVisibility.PUBLIC)
    db.session.commit()
    member, admin = logged_in(app, people["member"]), logged_in(app, people["admin"])

    text = main_text(member.get("/offers/"))
    assert "Alleen voor leden" in text and "8900" in text and "8970" not in text
    text = main_text(client.get("/offers/"))
    assert "Alleen voor leden" not in text and "Voor iedereen" in text
    assert "8900" not in text and "Olga Owner" not in text  # visitors: no postcodes
    text = main_text(admin.get("/offers/"))
    assert "8970" in text and "8900" in text and "Alleen voor leden" in text
    assert "8970" not in main_text(member.get("/offers/"))
    assert "Alleen voor leden" not in main_text(client.get("/offers/"))


def test_the_owner_sees_their_own_hidden_postcode_in_the_shared_list(
        app: Flask, client: FlaskClient, auth: Any) -> None:
    secret = factories.make_member(display_name="Sam Secret", postcode="8970",
                                   address_visibility=Visibility.HIDDEN)
    reader = factories.make_member(display_name="Rita Reader")
    make_listing(secret, "Verborgen adres")
    db.session.commit()
    # Both logged in first (a login is a write: it would drop the kept lists).
    assert auth.login(reader.account_code).status_code == 303
    owner_client = logged_in(app, secret)

    assert "8970" not in main_text(client.get("/offers/"))
    with counted() as statements:
        text = main_text(owner_client.get("/offers/"))
    assert _listing_queries(statements) == []  # the reader's kept list, with the mark
    assert "8970" in text
    assert "8970" not in main_text(client.get("/offers/"))


def test_a_postcode_search_is_kept_per_member(app: Flask, client: FlaskClient) -> None:
    """A member's own hidden address matches their postcode search for them alone."""
    secret = factories.make_member(postcode="8970", address_visibility=Visibility.HIDDEN)
    reader = factories.make_member()
    make_listing(secret, "Verborgen adres")
    db.session.commit()
    owner_client, reader_client = logged_in(app, secret), logged_in(app, reader)
    assert "Verborgen adres" in main_text(owner_client.get("/offers/?postcode=8970"))
    assert "Verborgen adres" not in main_text(reader_client.get("/offers/?postcode=8970"))


def test_the_kept_lists_are_bounded_in_entries_and_size(
        app: Flask, client: FlaskClient, people: dict[str, Any]) -> None:
    make_listing(people["member"], "Voor iedereen", visibility=ListingVisibility.PUBLIC)
    db.session.commit()
    # Eight pieces: the layout's two (the menu, the footer's pages) and three queries'
    # two each (the list, the search form).
    app.config["FRAGMENT_CACHE_ENTRIES"] = 8
    for n in range(6):
        client.get(f"/offers/?q=x{n}")
    store = app.extensions["lets_fragment_cache"]
    assert len(store.pieces) == 8
    keys = [key[4] for key in store.pieces if key[0] == "offers.list"]
    assert keys == [(("q", "x3"),), (("q", "x4"),), (("q", "x5"),)]  # the newest stay
    forms = [key[4] for key in store.pieces if key[0] == "offers.search"]
    assert forms == keys
    app.config["FRAGMENT_CACHE_BYTES"] = store.size - 1
    client.get("/offers/?q=x6")
    assert len(store.pieces) < 8
    assert store.size <= app.config["FRAGMENT_CACHE_BYTES"]



@pytest.mark.real_commits
def test_a_write_in_another_worker_shows_at_once(app: Flask, second_worker: Flask) -> None:
    assert second_worker.instance_path == app.instance_path
    owner = factories.make_member(display_name="Olga Owner")
    make_listing(owner, "Fietsherstelling", visibility=ListingVisibility.PUBLIC)
    db.session.commit()
    other = second_worker.test_client()
    assert "Fietsherstelling" in main_text(other.get("/offers/"))
    assert "Fietsherstelling" in main_text(other.get("/offers/"))  # kept there now

    make_listing(db.session.merge(owner), "Soep op zondag", visibility=ListingVisibility.PUBLIC)
    db.session.commit()  # in the first worker
    assert "Soep op zondag" in main_text(other.get("/offers/"))


# --- The home page's shared panels -----------------------------------------------------------


def test_home_panels_are_kept_and_a_new_listing_shows_at_once(
        app: Flask, client: FlaskClient, people: dict[str, Any]) -> None:
    make_listing(people["other_org_member"], "Fietsherstelling")
    db.session.commit()
    member = logged_in(app, people["member"])
    assert "Fietsherstelling" in main_text(member.get("/"))
    with counted() as statements:
        assert "Fietsherstelling" in main_text(member.get("/"))
    assert _listing_queries(statements) == []
    make_listing(people["other_org_member"], "Soep op zondag")
    db.session.commit()
    text = main_text(member.get("/"))
    assert "Soep op zondag" in text and "Fietsherstelling" in text


def test_home_panels_per_audience_and_the_viewer_s_own_panels_per_viewer(
        app: Flask, client: FlaskClient, people: dict[str, Any]) -> None:
    make_listing(people["other_org_member"], "Alleen voor leden")
    make_listing(people["other_org_member"], "Voor iedereen",
                 visibility=ListingVisibility.PUBLIC)
    db.session.commit()
    mia, otto = logged_in(app, people["member"]), logged_in(app, people["intermediary"])
    text = main_text(mia.get("/"))
    assert "Alleen voor leden" in text and "Mia Member" in text
    text = main_text(otto.get("/"))  # the same roles: Mia's kept panels, Ivo's own name
    assert "Alleen voor leden" in text and "Ivo Intermediary" in text
    assert "Mia Member" not in text
    text = main_text(client.get("/"))
    assert "Alleen voor leden" not in text and "Voor iedereen" in text


def test_a_coming_event_leaves_the_kept_home_page_when_it_is_over(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from lets_site.events import services as events
    from tests.events.conftest import make_event, make_organiser

    app.config["PAGE_CACHE_SECONDS"] = 0  # what this test reads is the kept panel
    make_event(make_organiser(), days=1, title="Filmavond")
    make_event(make_organiser(), days=20, title="Repair café")
    assert "Filmavond" in select_text(client.get("/"), "#home-events")
    later = utcnow() + timedelta(days=3)
    monkeypatch.setattr(events, "utcnow", lambda: later)
    monkeypatch.setattr(offers, "utcnow", lambda: later)
    monkeypatch.setattr(fragments, "utcnow", lambda: later)
    text = select_text(client.get("/"), "#home-events")
    assert "Filmavond" not in text and "Repair café" in text


def test_the_items_alone_are_kept_apart_from_the_full_list(
        app: Flask, client: FlaskClient, people: dict[str, Any]) -> None:
    """htmx's "more" asks for the items alone (part=items); the same URL without htmx (a
    link opened in a new tab) is the whole page, whichever was kept first."""
    for n in range(25):
        make_listing(people["member"], f"Aanbod {n:02d}", visibility=ListingVisibility.PUBLIC)
    db.session.commit()
    app.config["PAGE_CACHE_SECONDS"] = 0
    url = "/offers/?part=items&page=2"
    items = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="listings"' not in items and "Aanbod 04" in items
    page = client.get(url).get_data(as_text=True)
    assert 'id="listings"' in page and "<main" in page and "Aanbod 04" in page
    again = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert again == items


def test_the_kept_menu_carries_each_session_s_own_token(app: Flask, client: FlaskClient,
                                                        people: dict[str, Any]) -> None:
    """The menu is kept per audience; its log-out form gets each request's own token."""
    mia, ivo = logged_in(app, people["member"]), logged_in(app, people["intermediary"])
    token_re = re.compile(r'action="/logout"[^>]*><input type="hidden" name="csrf_token" '
                          r'value="([^"]+)"')
    first = token_re.search(mia.get("/language").get_data(as_text=True))
    second = token_re.search(ivo.get("/language").get_data(as_text=True))
    assert first and second and first.group(1) != second.group(1)
    assert "\x00" not in ivo.get("/language").get_data(as_text=True)
    response = ivo.post("/logout", data={"csrf_token": second.group(1)})
    assert response.status_code == 303
    assert "Ivo Intermediary" not in main_text(ivo.get("/"))


def _search_renders(app: Flask) -> list[str]:
    """The names of the offers' search forms rendered from now on (a kept one is not)."""
    from flask import template_rendered

    rendered: list[str] = []

    def record(_sender: Any, template: Any, **_extra: Any) -> None:
        if template.name == "offers/_search.html":
            rendered.append(template.name)

    template_rendered.connect(record, app, weak=False)
    return rendered


def test_the_search_form_is_kept_per_query_and_audience(
        app: Flask, client: FlaskClient, people: dict[str, Any]) -> None:
    """The list's heading and search form are kept by audience, language and query: the
    same query again renders nothing; another query, another audience or another language
    is its own piece, and each shows what it was asked."""
    member = logged_in(app, people["member"])  # a login is a write: before the counting
    rendered = _search_renders(app)
    first = client.get("/offers/?q=fiets").get_data(as_text=True)
    assert 'name="q" type="search" maxlength="200" value="fiets"' in first
    assert client.get("/offers/?q=fiets").get_data(as_text=True) == first
    assert len(rendered) == 1  # the second request used the kept form
    other = client.get("/offers/?q=%3Cb%3Esoep").get_data(as_text=True)
    assert 'value="&lt;b&gt;soep"' in other and 'value="fiets"' not in other
    assert len(rendered) == 2
    assert "/offers/new" not in first  # a visitor is not offered to add one

    page = member.get("/offers/?q=fiets").get_data(as_text=True)
    assert 'href="/offers/new"' in page and 'value="fiets"' in page
    assert len(rendered) == 3
    assert "/offers/new" not in client.get("/offers/?q=fiets").get_data(as_text=True)
    assert len(rendered) == 3

    client.set_cookie("lang", "fr")
    assert "Offres et demandes" in select_text(client.get("/offers/?q=fiets"), "h1")
    assert len(rendered) == 4


def test_a_new_category_shows_in_the_kept_search_form_at_once(
        client: FlaskClient, people: dict[str, Any]) -> None:
    assert "Huisdieren" not in client.get("/offers/").get_data(as_text=True)
    offers.create_category(people["admin"], offers.CategoryData(name_nl="Huisdieren"))
    db.session.commit()
    assert '>Huisdieren</option>' in client.get("/offers/").get_data(as_text=True)
