"""Accounts and settings, the edges ledger-accounts' first full run found untested: the
first settings an admin saves after amounts are stored, and the header's balance of two
members one after the other (scripts/mutation ledger-accounts; docs/testing.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from lets_site.audit.models import AuditEntry
from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import LedgerSettings
from tests import factories


@pytest.fixture(autouse=True)
def _request(app: Any) -> Any:
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


def test_the_first_settings_saved_after_a_transfer_keep_whole_units(
        people: dict[str, Any]) -> None:
    """No settings were ever saved (the defaults: whole units) and members have traded:
    saving whole units is no change of decimals, so it is not refused."""
    admin, member, other = people["admin"], people["member"], people["other_org_member"]
    factories.make_transfer(member, other, "1")
    assert db.session.scalar(select(LedgerSettings)) is None
    saved = services.update_settings(admin, services.SettingsData(0, "-30", "30", False))
    assert (saved.decimals, saved.default_min, saved.default_max) == (0, -30, 30)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ledger.settings"))
    assert entry is not None
    assert json.loads(entry.details) == {"default_min": {"old": -300, "new": -30},
                                         "default_max": {"old": 300, "new": 30}}


def test_each_member_sees_their_own_balance_in_the_header(
        app: Any, people: dict[str, Any]) -> None:
    """One member's page, then another's: each header shows its reader's balance, not the
    balance the process kept for the first."""
    member, other = people["member"], people["other_org_member"]
    factories.make_transfer(member, other, "7")
    with app.test_request_context("/"):
        assert services.header_balance(member) == -7
    with app.test_request_context("/"):
        assert services.header_balance(other) == 7
        assert services.header_balance(people["intermediary"]) == 0
