"""Ledger rules without HTTP: amounts, limits, permissions, corrections, the check."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from lets_site.domain import DomainError, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import Account, LimitChange, MassBatch, Transfer
from tests import factories


@pytest.fixture(autouse=True)
def _request(app: Any) -> Any:
    """Messages are translated lazily, for the locale of a request."""
    with app.test_request_context("/"):
        yield


@pytest.mark.parametrize(
    ("text", "decimals", "expected"),
    [("12", 0, 12), (" 7 ", 0, 7), ("12,50", 2, 1250), ("12.5", 2, 1250), ("3", 2, 300),
     ("0,01", 2, 1), ("12.0", 0, 12)],
)
def test_parse_amount_accepts(app: Any, text: str, decimals: int, expected: int) -> None:
    assert services.parse_amount(text, decimals) == expected


@pytest.mark.parametrize(
    "text", ["0", "-1", "abc", "1e9", "12.5", "", "1,2,3", "100001", "0x10", "½"]
)
def test_parse_amount_refuses(app: Any, text: str) -> None:
    with pytest.raises(DomainError) as info:
        services.parse_amount(text, 0)
    assert info.value.field == "amount"


def test_parse_amount_refuses_three_decimals(app: Any) -> None:
    with pytest.raises(DomainError, match="two decimals"):
        services.parse_amount("1.234", 2)


def test_pay_moves_both_balances_and_keeps_sum_zero(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    booked = services.pay(member, member.account_code, other.account_code, "40", "Tuin", None)
    db.session.commit()
    t = booked.transfer
    assert (t.payer_balance_after, t.payee_balance_after) == (-40, 40)
    assert (t.payer_min, t.payee_max) == (-300, 300)
    assert len(t.uid) == 16
    assert services.check() == []


def test_pay_with_listing_keeps_listing_id(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    t = services.pay(member, member.account_code, other.account_code, "4", "Les", None,
                     listing_id="17").transfer
    assert t.listing_id == 17


def test_member_cannot_pay_from_someone_elses_account(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    with pytest.raises(PermissionDenied):
        services.pay(member, other.account_code, member.account_code, "5", "x", None)


def test_intermediary_of_one_org_cannot_use_another(people: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        services.pay(people["intermediary"], people["other_org"].account_code,
                     people["member"].account_code, "5", "x", None)
    booked = services.pay(people["intermediary"], people["org"].account_code,
                          people["member"].account_code, "5", "x", None)
    assert booked.transfer.payer.code == people["org"].account_code


def test_account_limit_overrides_default_and_is_kept_as_history(
        people: dict[str, Any]) -> None:
    admin, member = people["admin"], people["member"]
    services.set_limits(admin, member.account_code, "-20", "")
    services.set_limits(admin, member.account_code, "-30", "50")
    db.session.commit()
    with pytest.raises(services.LimitExceeded):
        services.pay(member, member.account_code, admin.account_code, "31", "x", None)
    changes = db.session.scalars(select(LimitChange).order_by(LimitChange.id)).all()
    assert [(c.old_min, c.new_min, c.new_max) for c in changes] == [
        (None, -20, None), (-20, -30, 50)]
    assert all(c.actor_id == admin.id for c in changes)


def test_only_admins_set_limits(people: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        services.set_limits(people["member"], people["member"].account_code, "-1000", "")


def test_reverse_books_mirror_and_refuses_twice(people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    t = factories.make_transfer(member, other, "10", "x")
    correction = services.reverse(admin, t.uid, "Dubbel geboekt", None).transfer
    assert (correction.payer_id, correction.payee_id, correction.amount) == (
        t.payee_id, t.payer_id, 10)
    assert correction.reverses_id == t.id and correction.reason == "Dubbel geboekt"
    with pytest.raises(DomainError, match="already"):
        services.reverse(admin, t.uid, "Nog eens", None)
    with pytest.raises(DomainError, match="not reversed"):
        services.reverse(admin, correction.uid, "Terug", None)
    with pytest.raises(PermissionDenied):
        services.reverse(member, t.uid, "Ik wil het terug", None)
    assert services.check() == []


def test_start_credit_only_once_per_member(people: dict[str, Any]) -> None:
    admin = people["admin"]
    plan = services.plan_mass(admin, "start_credit", "10", "Welkom")
    assert len(plan.lines) == 4
    services.book_mass(admin, "start_credit", "10", "Welkom", plan.fingerprint, None)
    newcomer = factories.make_member()
    again = services.plan_mass(admin, "start_credit", "10", "Welkom")
    assert [line.payee.code for line in again.lines] == [newcomer.account_code]
    group = services.group_account()
    assert group is not None and group.balance == -40 and group.code == "LE-GROUP"
    assert services.check() == []


def test_mass_transfer_refuses_stale_preview(people: dict[str, Any]) -> None:
    admin = people["admin"]
    plan = services.plan_mass(admin, "contribution", "1", "Bijdrage")
    factories.make_member()
    with pytest.raises(DomainError, match="changed since the preview"):
        services.book_mass(admin, "contribution", "1", "Bijdrage", plan.fingerprint, None)


def test_mass_transfer_key_books_once(people: dict[str, Any]) -> None:
    admin = people["admin"]
    plan = services.plan_mass(admin, "contribution", "1", "Bijdrage")
    key = services.new_key()
    first = services.book_mass(admin, "contribution", "1", "Bijdrage", plan.fingerprint, key)
    db.session.commit()
    again = services.book_mass(admin, "contribution", "1", "Bijdrage", plan.fingerprint, key)
    assert not first.replayed and again.replayed
    assert [t.id for t in again.transfers] == [t.id for t in first.transfers]
    assert db.session.scalar(select(func.count(Transfer.id))) == len(plan.lines)
    batch = db.session.scalar(select(MassBatch))
    assert batch is not None and (batch.key, batch.lines, batch.amount) == (
        key, len(plan.lines), 1)


def test_mass_batch_key_is_unique(people: dict[str, Any]) -> None:
    for _ in range(2):
        db.session.add(MassBatch(key="same-key-0123456789", kind="contribution", amount=1,
                                 lines=0))
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_ledger_check_finds_a_batch_booked_twice(people: dict[str, Any]) -> None:
    """What concurrent copies of one mass transfer form stored on PostgreSQL before its
    key was unique: every line twice under one batch key. The balances still add up."""
    admin = people["admin"]
    plan = services.plan_mass(admin, "contribution", "1", "Bijdrage")
    key = services.new_key()
    services.book_mass(admin, "contribution", "1", "Bijdrage", plan.fingerprint, key)
    db.session.commit()
    assert services.check() == []
    group = services.group_account()
    assert group is not None
    for line in services.plan_mass(admin, "contribution", "1", "Bijdrage").lines:
        services._book(admin, line.payer, line.payee, 1, "Bijdrage", kind="contribution",
                       batch=key)
    db.session.commit()
    problems = services.check()
    member = people["member"].account_code
    assert f"batch {key} books {member} -> {group.code} 2 times" in problems
    assert f"batch {key} booked {len(plan.lines)} transfers but {2 * len(plan.lines)} carry " \
        "its key" in problems
    assert not any("sum of all balances" in p or "entries sum" in p for p in problems)


def test_ledger_check_finds_tampering(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    factories.make_transfer(member, other, "10", "x")
    t = factories.make_transfer(member, other, "5", "y")
    assert services.check() == []
    # A row that claims a balance below the limit it was checked against, not overridden.
    db.session.execute(update(Transfer).where(Transfer.id == t.id).values(payer_min=-12))
    db.session.commit()
    problems = services.check()
    assert any("below its minimum -12 without an override" in p for p in problems)
    # Money created from nothing on one side.
    db.session.execute(update(Transfer).where(Transfer.id == t.id).values(payer_min=-300))
    db.session.execute(update(Account).where(Account.code == other.account_code)
                       .values(balance=Account.balance + 3))
    db.session.commit()
    problems = services.check()
    assert any("sum of all balances is 3" in p for p in problems)
    assert any(f"{other.account_code}: balance 18 but its entries sum to 15" in p
               for p in problems)


def test_settings_only_by_admin_and_limits_sane(people: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        services.update_settings(people["member"], services.SettingsData(0, "-1", "1", True))
    with pytest.raises(DomainError, match="above zero"):
        services.update_settings(people["admin"], services.SettingsData(0, "10", "20", False))


def test_export_section_lists_own_transfers(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    factories.make_transfer(member, other, "3", "Brood")
    section = services.export_section(member)
    assert section["balance"] == "-3"
    assert section["transfers"][0]["description"] == "Brood"


def test_statement_period_has_opening_and_closing_balance(people: dict[str, Any]) -> None:
    from datetime import UTC, date, datetime, timedelta

    member, other = people["member"], people["other_org_member"]
    payer = services._stored_account(member.account_code)
    payee = services._stored_account(other.account_code)
    for day, amount in ((5, 10), (20, 7), (40, 3)):  # 5 Jan, 20 Jan, 9 Feb 2025
        at = datetime(2025, 1, 1, 12, tzinfo=UTC) + timedelta(days=day - 1)
        services._book(member, payer, payee, amount, f"d{day}", kind="payment", at=at)
    db.session.commit()
    st = services.statement(member, member.account_code, date(2025, 1, 10), date(2025, 1, 31))
    assert [e.transfer.description for e in st.entries] == ["d20"]
    assert (st.opening, st.closing, st.total_in, st.total_out) == (-10, -17, 0, 7)
    whole = services.statement(member, member.account_code)
    assert whole.page.total == 3 and whole.closing == -20
    assert [e.balance_after for e in whole.entries] == [-20, -17, -10]
    _acc, opening, rows = services.statement_rows(member, member.account_code,
                                                  date(2025, 1, 10), None)
    assert opening == -10 and [e.amount for e in rows] == [-7, -3]


@pytest.mark.parametrize(
    ("low", "high", "unit", "edges"),
    [(-300, 300, 1, [-300, -200, -100, 0, 100, 200, 300]),
     (-5000, 5000, 100, [-5000, -2500, 0, 2500, 5000]),
     (-100, 200, 1, [-100, -50, 0, 50, 100, 150, 200])],
)
def test_distribution_buckets_are_round(app: Any, low: int, high: int, unit: int,
                                        edges: list[int]) -> None:
    assert services._bucket_edges(low, high, unit) == edges
