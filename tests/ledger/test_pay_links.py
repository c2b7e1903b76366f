"""Pay and ask-to-be-paid where people meet: member and organisation profiles, listings."""

from __future__ import annotations

from typing import Any

from tests import factories
from tests.html import select_text
from tests.offers.conftest import make_listing


def test_member_profile_offers_pay_and_ask(client: Any, people: dict[str, Any],
                                           login_as: Any) -> None:
    other = people["other_org_member"]
    login_as("member")
    html = client.get(f"/members/{other.account_code}").get_data(as_text=True)
    assert f'href="/ledger/pay?to={other.account_code}"' in html
    assert f'href="/ledger/requests/new?from={other.account_code}"' in html
    assert "Pay Otto Other" in select_text(html, "section.pay-links")
    # Not on one's own profile.
    own = client.get(f"/members/{people['member'].account_code}").get_data(as_text=True)
    assert "pay-links" not in own


def test_no_pay_links_for_visitors_or_inactive_members(client: Any, people: dict[str, Any],
                                                   login_as: Any) -> None:
    public = factories.make_member(profile_public=True)
    assert "pay-links" not in client.get(f"/members/{public.account_code}").get_data(
        as_text=True)
    gone = factories.make_member(status="inactive")
    login_as("admin")  # admins still see an inactive member's profile, without pay links
    page = client.get(f"/members/{gone.account_code}")
    assert page.status_code == 200
    assert "pay-links" not in page.get_data(as_text=True)


def test_organisation_page_offers_pay_and_ask_but_not_to_its_intermediary(
        client: Any, people: dict[str, Any], login_as: Any, auth: Any) -> None:
    org = people["org"]
    login_as("member")
    html = client.get(f"/organisations/{org.slug}").get_data(as_text=True)
    assert f'href="/ledger/pay?to={org.account_code}"' in html
    assert f'href="/ledger/requests/new?from={org.account_code}"' in html
    auth.logout()
    login_as("intermediary")
    assert "pay-links" not in client.get(f"/organisations/{org.slug}").get_data(as_text=True)


def test_listing_page_pay_and_ask_with_title_and_link(client: Any, people: dict[str, Any],
                                                      login_as: Any) -> None:
    offer = make_listing(people["org"], "Kookhulp")
    want = make_listing(people["member"], "Vervoer", kind="want")
    login_as("other_org_member")
    links = select_text(client.get(f"/offers/{offer.id}"), "section.pay-links")
    assert links == "Pay for this Ask to be paid for this"
    html = client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert (f'class="button" href="/ledger/pay?to={people["org"].account_code}'
            f'&amp;listing={offer.id}&amp;for=Kookhulp"') in html
    html = client.get(f"/offers/{want.id}").get_data(as_text=True)
    # For a want, asking to be paid comes first.
    assert (f'class="button" href="/ledger/requests/new?from={people["member"].account_code}'
            f'&amp;listing={want.id}&amp;for=Vervoer"') in html
    form = client.get(f"/ledger/requests/new?from={people['member'].account_code}"
                      f"&listing={want.id}&for=Vervoer").get_data(as_text=True)
    assert f'name="listing" type="hidden" value="{want.id}"' in form


def test_own_listing_has_no_pay_links(client: Any, people: dict[str, Any],
                                      login_as: Any) -> None:
    offer = make_listing(people["org"], "Kookhulp")
    login_as("intermediary")
    assert "pay-links" not in client.get(f"/offers/{offer.id}").get_data(as_text=True)
