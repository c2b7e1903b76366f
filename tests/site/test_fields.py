"""The number and date fields people type into (lets_site/web/fields.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from lets_site.extensions import db
from lets_site.offers.models import Listing
from lets_site.web.fields import parse_date, parse_decimal


@pytest.mark.parametrize(("typed", "read"), [
    ("1,5", Decimal("1.5")), ("1.5", Decimal("1.5")), (" 12 ", Decimal("12")),
    ("0,25", Decimal("0.25")), (",5", Decimal("0.5")), ("2,", Decimal("2")),
    ("1 000", Decimal("1000")),
])
def test_decimal_reads_a_comma_or_a_point(typed: str, read: Decimal) -> None:
    assert parse_decimal(typed) == read


@pytest.mark.parametrize("typed", ["1.234,5", "1,2,3", "abc", "1e5", "", "--1", "1,5 uur"])
def test_decimal_refuses_what_it_cannot_read_for_sure(typed: str) -> None:
    assert parse_decimal(typed) is None


@pytest.mark.parametrize("typed", ["31/12/2027", "31-12-2027", "31.12.2027", "2027-12-31",
                                   " 31/12/2027 "])
def test_date_reads_the_belgian_ways_and_iso(typed: str) -> None:
    assert parse_date(typed) == date(2027, 12, 31)


@pytest.mark.parametrize("typed", ["12/31/2027", "31/02/2027", "2027/12/31", "31/12/27",
                                   "tomorrow", "31 12 2027"])
def test_date_refuses_impossible_or_unclear_dates(typed: str) -> None:
    assert parse_date(typed) is None


def _listing_form(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"kind": "offer", "title": "Soep maken", "description": "",
                              "category_id": "", "price": "2", "price_basis": "hour",
                              "valid_until": "", "visibility": "members",
                              "publish": "Publish"}
    values.update(overrides)
    return values


@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
def test_a_price_with_a_comma_is_kept_in_every_language(client: Any, login_as: Any,
                                                         lang: str) -> None:
    login_as("member")
    page = client.get("/offers/new", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert 'type="number"' not in page and 'inputmode="decimal"' in page
    response = client.post_form("/offers/new", _listing_form(price="1,5"),
                                headers={"Accept-Language": lang})
    assert response.status_code == 303
    listing = db.session.scalar(select(Listing))
    assert listing is not None
    assert listing.price_amount == 150  # hundredths of the unit


def test_an_unreadable_price_is_refused_and_the_form_kept(client: Any, login_as: Any) -> None:
    login_as("member")
    response = client.post_form("/offers/new", _listing_form(price="1.234,5",
                                                             title="Mijn titel"))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Write a number such as 1,5 or 2." in text
    assert 'value="1.234,5"' in text and "Mijn titel" in text
    assert db.session.scalar(select(Listing)) is None


@pytest.mark.parametrize("typed", ["31/12/2027", "31-12-2027", "31.12.2027", "2027-12-31"])
def test_valid_until_accepts_the_common_date_formats(client: Any, login_as: Any,
                                                     typed: str) -> None:
    login_as("member")
    response = client.post_form("/offers/new", _listing_form(valid_until=typed))
    assert response.status_code == 303
    listing = db.session.scalar(select(Listing))
    assert listing is not None and listing.valid_until is not None
    assert listing.valid_until.year == 2027 and listing.valid_until.month == 12


def test_a_price_with_hundreds_of_digits_is_refused_not_an_error(client: Any,
                                                                  login_as: Any) -> None:
    login_as("member")
    response = client.post_form("/offers/new", _listing_form(price="9" * 400))
    assert response.status_code == 200
    assert "This number is too long." in response.get_data(as_text=True)


def test_an_unreadable_date_says_which_format_it_wants(client: Any, login_as: Any) -> None:
    login_as("member")
    response = client.post_form("/offers/new", _listing_form(valid_until="12/31/2027"))
    assert response.status_code == 200
    assert "for example 31/12/2027" in response.get_data(as_text=True)
    assert db.session.scalar(select(Listing)) is None
