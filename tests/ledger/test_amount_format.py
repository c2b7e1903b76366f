"""The ledger's own number formatter (``amounts.number_formatter``) writes every amount as
babel's pattern does in each of the site's languages, and ``units_formatter`` as
``format_units`` does: the pages format 50 to 100 amounts each, so they skip babel's
general machinery, and these tests hold the short way to the long one."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel import Locale
from babel.numbers import parse_pattern
from flask import Flask
from flask_babel import force_locale

from lets_site.ledger import services
from lets_site.ledger.services.amounts import number_formatter, units_formatter

EDGES = [0, 1, -1, 9, 10, 99, 100, 101, 999, 1000, 1001, -999, -1000, -1001, 12345,
         99999, 100000, -100000, 999999, 1000000, 1234567, -1234567, 10**12, -(10**12) - 7]


@pytest.mark.parametrize("locale", ["nl", "fr", "en", "nl_BE", "fr_BE", "en_GB"])
@pytest.mark.parametrize("decimals", [0, 2])
def test_number_formatter_writes_what_babel_writes(locale: str, decimals: int) -> None:
    pattern = parse_pattern("#,##0" if decimals == 0 else "#,##0.00")
    parsed = Locale.parse(locale)
    fmt = number_formatter(locale, decimals)
    for value in EDGES:
        number = value if decimals == 0 else Decimal(value).scaleb(-decimals)
        assert fmt(value) == pattern.apply(number, parsed), (locale, decimals, value)


def test_number_formatter_groups_thousands_in_each_language() -> None:
    assert number_formatter("nl", 2)(-123456) == "-1.234,56"
    assert number_formatter("fr", 2)(123456) == "1\u202f234,56"
    assert number_formatter("en", 0)(-1234) == "-1,234"
    with pytest.raises(ValueError):
        number_formatter("nl", 1)


@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
@pytest.mark.parametrize("decimals", [0, 2])
def test_units_formatter_matches_format_units(app: Flask, lang: str, decimals: int) -> None:
    with app.test_request_context("/"), force_locale(lang):
        fmt = units_formatter(decimals)
        for value in [None, *EDGES, 150, -150, 199, 200, -200, 201]:
            assert fmt(value) == services.format_units(value, decimals), (lang, value)
