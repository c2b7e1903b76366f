"""A member's profile shows their live listings (the offers feature's profile panel)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lets_site.database import utcnow
from lets_site.offers.models import ListingVisibility, State
from tests import factories
from tests.html import select_text
from tests.offers.conftest import make_listing


def test_profile_lists_only_live_listings_the_viewer_may_see(
        client: Any, people: dict[str, Any], login_as: Any) -> None:
    owner = factories.make_member(profile_public=True)
    make_listing(owner, "Soep aan huis")
    make_listing(owner, "Publieke fietsles", visibility=ListingVisibility.PUBLIC)
    make_listing(owner, "Klad", state=State.DRAFT)
    make_listing(owner, "Ingetrokken", state=State.WITHDRAWN)
    make_listing(owner, "Verlopen", valid_until=utcnow() - timedelta(days=1))
    make_listing(people["member"], "Van iemand anders")
    login_as("member")
    panel = select_text(client.get(f"/members/{owner.account_code}"), "#profile-listings")
    assert "Soep aan huis" in panel and "Publieke fietsles" in panel
    for hidden in ("Klad", "Ingetrokken", "Verlopen", "Van iemand anders"):
        assert hidden not in panel


def test_visitors_see_only_public_listings_on_a_public_profile(
        client: Any, people: dict[str, Any]) -> None:
    owner = factories.make_member(profile_public=True)
    make_listing(owner, "Soep aan huis")  # members only
    make_listing(owner, "Publieke fietsles", visibility=ListingVisibility.PUBLIC)
    panel = select_text(client.get(f"/members/{owner.account_code}"), "#profile-listings")
    assert "Publieke fietsles" in panel and "Soep aan huis" not in panel


def test_directory_lines_show_what_members_offer_and_want(
        client: Any, people: dict[str, Any], login_as: Any) -> None:
    owner = factories.make_member(display_name="Zeno Z.")
    make_listing(owner, "Soep aan huis")
    make_listing(owner, "Ladder", kind="want")
    make_listing(owner, "Klad", state=State.DRAFT)
    login_as("member")
    page = client.get("/members/?q=Zeno")
    line = select_text(page, "p.line-listings")
    assert "Soep aan huis" in line and "Wants: Ladder" in line
    assert "Klad" not in line
    partial = client.get("/members/?q=Zeno", headers={"HX-Request": "true"})
    assert "Soep aan huis" in select_text(partial, "p.line-listings")
    assert "line-listings" not in client.get("/members/?q=Mia").get_data(as_text=True)
