"""The header's balance (the ledger's header panel) is written out once per process,
language and amount: a warm logged-in page formats no amount for the header, and a
transfer or another language shows at once."""

from __future__ import annotations

from typing import Any

import pytest

from lets_site.ledger import services as ledger
from tests import factories
from tests.html import select_text


@pytest.fixture
def formatted(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    calls: list[int | None] = []
    original = ledger.format_units

    def counted(value: int | None, decimals: int | None = None) -> str:
        calls.append(value)
        return original(value, decimals)

    monkeypatch.setattr(ledger, "format_units", counted)
    return calls


def test_a_warm_page_formats_no_header_balance(client: Any, login_as: Any,
                                               formatted: list[int | None]) -> None:
    login_as("member")
    assert select_text(client.get("/language"), "#ledger-balance") == "Balance: 0 hours"
    formatted.clear()
    page = client.get("/language")
    assert select_text(page, "#ledger-balance") == "Balance: 0 hours"
    assert formatted == []


def test_a_transfer_and_the_language_show_at_once(client: Any, login_as: Any,
                                                  people: dict[str, Any]) -> None:
    member = login_as("member")
    assert select_text(client.get("/language"), "#ledger-balance") == "Balance: 0 hours"
    factories.make_transfer(member, people["other_org_member"], 7)
    assert select_text(client.get("/language"), "#ledger-balance") == "Balance: -7 hours"
    dutch = client.get("/language", headers={"Accept-Language": "nl"})
    assert select_text(dutch, "#ledger-balance") == "Saldo: -7 uren"
    assert select_text(client.get("/language"), "#ledger-balance") == "Balance: -7 hours"
