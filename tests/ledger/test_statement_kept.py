"""A statement (/ledger/accounts/<code>) is kept per process under the account, the query
string and the language (lets_site/fragments.py): who may see it is still asked on every
request, a payment shows at once, and each page and period is its own piece."""

from __future__ import annotations

from typing import Any

from flask import Flask

from lets_site.ledger.services import STATEMENT_PAGE_SIZE
from tests import factories
from tests.conftest import AuthActions, Client
from tests.html import select_text
from tests.queries import counted


def _logged_in(app: Flask, member: Any) -> Client:
    app.test_client_class = Client
    browser: Client = app.test_client()  # type: ignore[assignment]
    assert AuthActions(browser).login(member.account_code).status_code == 303
    return browser


def _line_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if "ledger_transfer" in s]


def test_the_statement_is_kept_until_a_payment(app: Flask, people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    factories.make_transfer(other, member, 5, "Soep op zondag")
    mia = _logged_in(app, member)
    url = f"/ledger/accounts/{member.account_code}"
    first = select_text(mia.get(url), "#statement")
    with counted() as statements:
        kept = select_text(mia.get(url), "#statement")
    assert kept == first and "Soep op zondag" in kept
    assert _line_reads(statements) == []  # no count, no lines read again

    factories.make_transfer(other, member, 7, "Fietsherstelling")
    now = select_text(mia.get(url), "#statement")
    assert "Fietsherstelling" in now and "Soep op zondag" in now


def test_a_kept_statement_is_only_shown_to_who_may_see_it(
        app: Flask, people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    factories.make_transfer(member, other, 4, "Alleen voor Mia")
    mia, otto, ada = (_logged_in(app, m) for m in (member, other, admin))
    url = f"/ledger/accounts/{member.account_code}"
    for _ in range(2):  # the first request and the kept one
        assert "Alleen voor Mia" in select_text(mia.get(url), "#statement")
    for _ in range(2):
        refused = otto.get(url)
        assert refused.status_code == 403
        assert "Alleen voor Mia" not in refused.get_data(as_text=True)
    # An admin may: the same kept statement.
    assert "Alleen voor Mia" in select_text(ada.get(url), "#statement")


def test_each_page_and_period_is_its_own_piece(app: Flask, people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    for n in range(STATEMENT_PAGE_SIZE + 1):
        factories.make_transfer(other, member, 1, f"Klus {n:02d}")
    mia = _logged_in(app, member)
    url = f"/ledger/accounts/{member.account_code}"
    for _ in range(2):
        newest = select_text(mia.get(url), "#statement")
        oldest = select_text(mia.get(f"{url}?page=2"), "#statement")
        assert "Klus 50" in newest and "Klus 00" not in newest
        assert "Klus 00" in oldest and "Klus 50" not in oldest
        # htmx asks for the statement alone: the same kept piece.
        alone = mia.get(f"{url}?page=2", headers={"HX-Request": "true"})
        assert alone.get_data(as_text=True).startswith('<section id="statement">')
        assert select_text(alone, "#statement") == oldest
        empty = select_text(mia.get(f"{url}?start=2001-01-01&end=2001-12-31"), "#statement")
        assert "Klus" not in empty
