"""Listing prices are written like every other amount: the number in the reader's language
(a decimal comma in Dutch and French), the group's unit in that language, singular for
exactly one unit."""

from __future__ import annotations

from typing import Any

import pytest

from lets_site.extensions import db
from lets_site.ledger import services as ledger
from tests.html import select_text
from tests.offers.conftest import make_listing


@pytest.mark.parametrize(("lang", "amount", "basis", "expected"), [
    ("nl", 50, "hour", "0,50 uren"),
    ("fr", 50, "hour", "0,50 heure"),
    ("en", 50, "hour", "0.50 hours per hour of work"),
    ("en", 150, "item", "1.50 hours per item"),
    ("en", 100, "hour", "1 hour per hour of work"),
    ("nl", 200, "item", "2 uren"),
])
def test_listing_price_is_formatted_like_the_ledgers_amounts(
    client: Any, auth: Any, make_member: Any, lang: str, amount: int, basis: str,
    expected: str
) -> None:
    owner = make_member()
    listing = make_listing(owner, "Soep", price_amount=amount, price_basis=basis)
    auth.login(make_member(locale=lang).account_code)
    page = client.get(f"/offers/{listing.id}")
    price = select_text(page, "dl")
    assert expected in price
    assert "0.5 " not in price  # the old format: a point, no decimals, in every language


def test_whole_prices_keep_two_decimals_in_a_group_that_counts_cents(
    client: Any, auth: Any, make_member: Any, make_admin: Any
) -> None:
    ledger.update_settings(make_admin(), ledger.SettingsData(
        decimals=2, default_min="-300", default_max="300", balances_visible=False))
    db.session.commit()
    listing = make_listing(make_member(), "Soep", price_amount=200, price_basis="item")
    auth.login(make_member(locale="en").account_code)
    assert "2.00 hours per item" in select_text(client.get(f"/offers/{listing.id}"), "dl")
