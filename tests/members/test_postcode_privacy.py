"""The postcode is part of the address: it follows the address's visibility on the
profile, in the directory (shown and searched) and in the offers postcode filter."""

from __future__ import annotations

from typing import Any

import pytest

from lets_site.members.models import Visibility
from lets_site.offers.models import ListingVisibility
from tests import factories
from tests.offers.conftest import make_listing

POSTCODE = "8957"
NAME = "Hana Hofman"
TITLE = "Kippenhok bouwen"
# Who may see the postcode, per address visibility.
SEES = {
    Visibility.HIDDEN: {"self", "admin"},
    Visibility.MEMBERS: {"self", "admin", "member"},
    Visibility.PUBLIC: {"self", "admin", "member", "visitor"},
}


@pytest.mark.parametrize("role", ["visitor", "member", "self", "admin"])
@pytest.mark.parametrize("visibility", list(SEES))
def test_postcode_follows_the_address_visibility(client: Any, auth: Any, app: Any,
                                                 visibility: Visibility, role: str) -> None:
    subject = factories.make_member(display_name=NAME, postcode=POSTCODE,
                                    address_visibility=visibility, profile_public=True)
    code = subject.account_code
    listing_id = make_listing(subject, TITLE, visibility=ListingVisibility.PUBLIC).id
    other = factories.make_member(postcode="1000")
    admin = factories.make_admin(postcode="1000")
    login = {"member": other, "self": subject, "admin": admin}.get(role)
    if login is not None:
        assert auth.login(login.account_code).status_code == 303
    sees = role in SEES[visibility]

    profile = client.get(f"/members/{code}")
    assert profile.status_code == 200
    assert (POSTCODE in profile.get_data(as_text=True)) is sees

    found = client.get(f"/offers/?postcode={POSTCODE}").get_data(as_text=True)
    assert (TITLE in found) is sees
    # The filter still finds nothing of a postcode nobody has.
    assert TITLE not in client.get("/offers/?postcode=8958").get_data(as_text=True)

    detail = client.get(f"/offers/{listing_id}").get_data(as_text=True)
    assert TITLE in detail
    # Visitors never see a listing's postcode on its page; members as the contact allows.
    assert (POSTCODE in detail) is (sees and role != "visitor")

    if role == "visitor":
        assert client.get(f"/members/?q={POSTCODE}").status_code in (302, 303)
        return
    by_postcode = client.get(f"/members/?q={POSTCODE}").get_data(as_text=True)
    assert (NAME in by_postcode) is sees
    by_name = client.get("/members/?q=Hofman").get_data(as_text=True)
    assert NAME in by_name
    assert (POSTCODE in by_name) is sees
