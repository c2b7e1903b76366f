"""The feature contract (lets_site/features.py) and the signals (lets_site/signals.py).

tests/sample/ shows a test-only feature appearing everywhere once registered; here the site
runs without it, and it appears nowhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from blinker import Signal
from flask import Flask

from lets_site import codes, features, signals, wiring
from lets_site.domain import DomainError
from lets_site.members import services as members
from tests import factories
from tests.sample.feature import FEATURE as SAMPLE


def text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# --- Without the sample feature, nothing of it shows ----------------------------------------


def test_sample_feature_appears_nowhere_when_not_registered(client: Any, auth: Any,
                                                           app: Flask) -> None:
    assert "sample" not in features.registry(app).names()
    assert client.get("/sample/").status_code == 404
    admin = factories.make_admin()
    factories.make_organisation(name="Hedera", slug="hedera")
    for path in ("/", "/organisations/hedera"):
        assert "Sample" not in text(client.get(path))
    auth.login(admin.account_code)
    for path in ("/", "/admin/", "/organisations/hedera", f"/members/{admin.account_code}"):
        assert "Sample" not in text(client.get(path))
    data = json.loads(text(client.get(f"/members/{admin.account_code}/export")))
    assert "sample" not in data and {"ledger", "listings"} <= set(data)
    assert not [i for i in features.items(admin) if i.kind == "sample"]
    assert SAMPLE.demo not in features.demo_steps()


def test_the_site_lists_its_features_in_order(app: Flask) -> None:
    assert features.registry(app).names() == [
        "site", "members", "organisations", "audit", "ledger", "offers", "partners",
        "events", "books", "content", "feed", "digests", "federation", "notifications",
        "moving"]
    assert len(wiring.FEATURES) == 15


def test_a_feature_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        features.Registry([SAMPLE, SAMPLE])


def test_a_menu_link_needs_a_known_audience() -> None:
    with pytest.raises(ValueError, match="audience"):
        features.MenuLink("x.y", "X", audience="friends")


# --- Menu and admin links per viewer -------------------------------------------------------


def _nav(page: str) -> str:
    return page[page.index("<nav"):page.index("</nav>")]


def test_menu_links_per_audience(client: Any, auth: Any) -> None:
    visitor = _nav(text(client.get("/")))
    assert '"/join"' in visitor and '"/login"' in visitor
    assert "/members/" not in visitor and "/ledger/" not in visitor and "/admin/" not in visitor
    member = factories.make_member()
    auth.login(member.account_code)
    nav = _nav(text(client.get("/")))
    assert '"/join"' not in nav and '"/login"' not in nav
    assert "/members/" in nav and "/ledger/" in nav and "/admin/" not in nav
    assert 'action="/logout"' in nav  # a form, not a link
    assert nav.index("/offers/") < nav.index("/organisations/") < nav.index("/members/")


def test_admin_links_only_for_admins(app: Flask) -> None:
    member = factories.make_member()
    admin = factories.make_admin()
    factories.make_candidate()
    assert features.admin_links(None) == []
    assert features.admin_links(member) == []
    links = features.admin_links(admin)
    orders = [link.order for link, _count in links]
    assert orders == sorted(orders)
    candidates = [count for link, count in links if link.values.get("status") == "candidate"]
    assert candidates == [1]


def test_admin_index_shows_every_features_link(client: Any, auth: Any) -> None:
    auth.login(factories.make_admin().account_code)
    page = text(client.get("/admin/"))
    for path in ("/admin/members/?status=candidate", "/admin/organisations/new",
                 "/admin/ledger", "/admin/offers/categories", "/admin/settings",
                 "/admin/audit"):
        assert f'href="{path}"' in page, path


# --- Panels -------------------------------------------------------------------------------


def test_home_panels_for_a_visitor(client: Any) -> None:
    member = factories.make_member()
    public = _listing(member, "Publieke fietshulp", visibility="public")
    _listing(member, "Enkel voor leden", visibility="members")
    page = text(client.get("/"))
    listings = page[page.index('id="home-listings"'):]
    listings = listings[:listings.index("</section>")]
    assert f'id="listing-{public.id}"' in listings and "Enkel voor leden" not in page
    assert 'id="home-ledger"' not in page and 'id="ledger-balance"' not in page
    assert 'href="/join"' in page[page.index("<main"):]


def test_home_panels_for_a_member(client: Any, auth: Any, people: dict[str, Any]) -> None:
    from lets_site.ledger import services as ledger

    member, other = people["member"], people["other_org_member"]
    with _request():
        ledger.request_payment(other, other.account_code, member.account_code, "7",
                               "Soep", None)
    from lets_site.extensions import db

    db.session.commit()
    _listing(other, "Enkel voor leden", visibility="members")
    auth.login(member.account_code)
    page = text(client.get("/"))
    home = page[page.index('id="home-ledger"'):]
    home = home[:home.index("</section>")]
    assert "Soep" in home and "/ledger/requests" in home
    assert "Enkel voor leden" in page[page.index('id="home-listings"'):]
    assert f"({member.account_code})" in page


def test_panels_skip_what_has_nothing_to_show(app: Flask) -> None:
    places = {template for template, _data in features.panels(features.HOME, None, None)}
    assert "ledger/_home.html" not in places  # a visitor has no account
    assert "site/_new.html" not in places  # nothing is on the site yet
    assert features.panels("no-such-place", None, None) == []


# --- Items --------------------------------------------------------------------------------


def _listing(owner: Any, title: str, **values: Any) -> Any:
    from tests.offers.conftest import make_listing

    return make_listing(owner, title, **values)


def test_items_newest_first_public_for_visitors_and_limited(app: Flask) -> None:
    member = factories.make_member()
    org = factories.make_organisation(name="Vondels", slug="vondels")
    now = datetime.now(UTC)
    old = _listing(member, "Oud", visibility="public", created_at=now - timedelta(days=3))
    new = _listing(member, "Nieuw", visibility="public", created_at=now + timedelta(days=1))
    hidden = _listing(member, "Leden", visibility="members", created_at=now + timedelta(days=2))
    public = features.items(None)
    ids = [i.id for i in public]
    assert ids[:1] == [new.urn] and old.urn in ids and hidden.urn not in ids
    assert f"urn:lets-site:organisation:{org.id}" in ids
    assert all(i.visibility == features.PUBLIC for i in public)
    created = [i.created for i in public]
    assert created == sorted(created, reverse=True)
    assert [i.id for i in features.items(member)][:1] == [hidden.urn]
    assert len(features.items(member, limit=2)) == 2
    assert features.items(None, limit=0) == []
    item = next(i for i in public if i.id == new.urn)
    assert (item.kind, item.title, item.visibility) == ("offer", "Nieuw", features.PUBLIC)
    assert item.url.endswith(f"/offers/{new.id}")  # absolute outside a request (a digest)


def test_new_on_the_site_panel_reads_items(client: Any) -> None:
    factories.make_organisation(name="Westhoek Vrijetijd Anders", slug="wva")
    page = text(client.get("/"))
    new = page[page.index('id="new-on-the-site"'):]
    assert 'href="/organisations/wva"' in new[:new.index("</section>")]


# --- Account codes through the contract --------------------------------------------------


def test_account_codes_are_checked_by_every_feature_that_owns_some(app: Flask) -> None:
    member = factories.make_member()
    org = factories.make_organisation()
    assert codes.is_taken(member.account_code) and codes.is_taken(org.account_code)
    assert not codes.is_taken("ZZ-999")
    with pytest.raises(DomainError):
        codes.check_new(org.account_code)


# --- Signals --------------------------------------------------------------------------------


@contextmanager
def _request() -> Iterator[None]:
    from flask import current_app

    with current_app.test_request_context("/"):
        yield


@contextmanager
def _caught(signal: Signal) -> Iterator[list[tuple[Any, dict[str, Any]]]]:
    seen: list[tuple[Any, dict[str, Any]]] = []

    def receiver(sender: Any, **data: Any) -> None:
        seen.append((sender, data))

    signal.connect(receiver)
    try:
        yield seen
    finally:
        signal.disconnect(receiver)


def test_transfer_booked_and_payment_requested(people: dict[str, Any]) -> None:
    from lets_site.ledger import services as ledger

    member, other = people["member"], people["other_org_member"]
    with _request(), _caught(signals.transfer_booked) as booked, \
            _caught(signals.payment_requested) as requested:
        transfer = ledger.pay(member, member.account_code, other.account_code, "4", "Les",
                              None).transfer
        req = ledger.request_payment(other, other.account_code, member.account_code, "3",
                                     "Soep", None)
        assert transfer.id is not None and req.id is not None  # flushed before the signal
    assert booked == [(transfer, {"actor": member})]
    assert requested == [(req, {"actor": other})]


def test_listing_published_and_expiring(app: Flask) -> None:
    from lets_site.offers import services as offers
    from lets_site.offers.models import State

    member = factories.make_member()
    draft = _listing(member, "Klusje", state=State.DRAFT)
    with _request(), _caught(signals.listing_published) as published:
        offers.publish(member, draft)
    assert published == [(draft, {"actor": member})]
    overdue = _listing(member, "Te laat", valid_until=datetime.now(UTC) - timedelta(days=1))
    with _caught(signals.listing_expiring) as expiring:
        assert offers.expire_overdue() == 1
    assert [listing.id for listing, _data in expiring] == [overdue.id]
    assert expiring[0][0].state == State.EXPIRED


def test_member_applied(app: Flask) -> None:
    data = members.ProfileData(display_name="Nieuw", full_name="Nieuw Lid",
                               email="nieuw@example.org")
    with _request(), _caught(signals.member_applied) as applied:
        candidate = members.register_candidate(data, "a long enough password")
    assert applied == [(candidate, {})]
