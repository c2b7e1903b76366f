"""One amount format: ``format_units`` writes the number in the reader's language with the
group's unit in that language, singular for exactly one unit; the ``units`` filter, the
pages and the messages use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask_babel import force_locale

from lets_site.extensions import db
from lets_site.ledger.services import format_units
from lets_site.settings import SiteSettings, forget
from tests.html import select_text


@contextmanager
def reading(app: Any, lang: str) -> Iterator[None]:
    """Formatting for a reader of ``lang`` (the tests' app context reads English)."""
    with app.test_request_context(), force_locale(lang):
        yield


@pytest.mark.parametrize(("lang", "value", "decimals", "expected"), [
    ("nl", 200, 2, "2,00 uren"),
    ("nl", 100, 2, "1,00 uur"),
    ("nl", -100, 2, "-1,00 uur"),
    ("nl", 101, 2, "1,01 uren"),
    ("nl", 99, 2, "0,99 uren"),
    ("nl", 0, 2, "0,00 uren"),
    ("nl", 1, 0, "1 uur"),
    ("nl", 2, 0, "2 uren"),
    ("nl", 123456, 2, "1.234,56 uren"),
    ("fr", 200, 2, "2,00 heures"),
    ("fr", 100, 2, "1,00 heure"),
    # French writes the singular below two: "une heure et demie", "1,50 heure".
    ("fr", 150, 2, "1,50 heure"),
    ("fr", 199, 2, "1,99 heure"),
    ("fr", -50, 2, "-0,50 heure"),
    ("en", 100, 2, "1.00 hour"),
    ("en", -100, 2, "-1.00 hour"),
    ("en", 150, 2, "1.50 hours"),
    ("en", 50, 2, "0.50 hours"),
    ("en", 1, 0, "1 hour"),
])
def test_format_units_in_the_readers_language(app: Any, lang: str, value: int,
                                              decimals: int, expected: str) -> None:
    with reading(app, lang):
        assert format_units(value, decimals).replace("\u00a0", " ") == expected


def test_format_units_without_an_amount(app: Any) -> None:
    with reading(app, "nl"):
        assert format_units(None) == "—"


def test_format_units_uses_the_groups_words_with_fallback(app: Any) -> None:
    db.session.add(SiteSettings(
        id=1, group_name="LETS", default_language="nl",
        unit_singular_nl="Ieperlinck", unit_plural_nl="Ieperlincken",
        unit_singular_fr="", unit_plural_fr="", unit_singular_en="point",
        unit_plural_en="points", about_nl="", about_fr="", about_en=""))
    db.session.flush()
    forget()
    with reading(app, "fr"):
        assert format_units(300, 2) == "3,00 Ieperlincken"
        assert format_units(100, 2) == "1,00 Ieperlinck"
    with reading(app, "en"):
        assert format_units(300, 2) == "3.00 points"


def test_pages_show_amounts_with_the_unit_in_the_readers_language(
    client: Any, auth: Any, make_member: Any
) -> None:
    member = make_member(locale="fr")
    auth.login(member.account_code)
    page = client.get("/ledger/")
    assert select_text(page, "#ledger-balance").endswith(": 0 heure")
    assert "uur" not in page.get_data(as_text=True)
