"""Templates' ``_()`` keep the request's translations beside the locale Flask-Babel chose
(lets_site/locale.py ``install_page_gettext``): one lookup per page, and a mail rendered
in a member's language (``force_locale``) or a page after log-in (``refresh``) is in
the right language as before."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale, get_babel, refresh

from lets_site import locale

TEMPLATE = "{{ _('Balance') }}|{{ _('Log out') }}|{{ _('Members') }}"


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = locale.get_translations

    def counted() -> object:
        calls.append(1)
        return original()

    monkeypatch.setattr(locale, "get_translations", counted)
    return calls


def test_a_page_looks_its_translations_up_once(app: Flask, lookups: list[int]) -> None:
    with app.test_request_context(), force_locale("nl"):
        assert render_template_string(TEMPLATE) == "Saldo|Afmelden|Leden"
        assert render_template_string(TEMPLATE) == "Saldo|Afmelden|Leden"
    assert len(lookups) == 1


def test_force_locale_and_refresh_are_followed(app: Flask,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # (the test app runs in English: tests/conftest.py forces it)
    with app.test_request_context():
        assert render_template_string(TEMPLATE) == "Balance|Log out|Members"
        with force_locale("fr"):
            assert render_template_string("{{ _('Balance') }}") == "Solde"
            with force_locale("nl"):
                assert render_template_string("{{ _('Balance') }}") == "Saldo"
            assert render_template_string("{{ _('Balance') }}") == "Solde"
        assert render_template_string(TEMPLATE) == "Balance|Log out|Members"
        # What a log-in does: the choice changes, refresh() drops the chosen locale.
        monkeypatch.setattr(get_babel(app), "locale_selector", lambda: "nl")
        assert render_template_string("{{ _('Balance') }}") == "Balance"  # still chosen
        refresh()
        assert render_template_string("{{ _('Balance') }}") == "Saldo"


