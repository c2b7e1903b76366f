"""Mass transfers (contributions, start credits) at their edges: who is on the list, the
exact limit, the override, the preview's fingerprint, replays. Each test kills mutants
that the rest of the suite let live (scripts/mutation ledger-mass; docs/testing.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from lets_site.audit.models import AuditEntry
from lets_site.domain import DomainError, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import MassBatch, Transfer
from lets_site.members.models import Status
from tests import factories

KEY = "m" * 20


@pytest.fixture(autouse=True)
def _request(app: Any) -> Any:
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


def _codes(plan: services.MassPlan, side: str) -> list[str]:
    return [getattr(line, side).code for line in plan.lines]


def test_a_contribution_is_asked_of_every_active_member_and_organisation(
        people: dict[str, Any]) -> None:
    admin = people["admin"]
    factories.make_member(status=Status.LEAVING)
    factories.make_candidate()
    factories.make_organisation(status="inactive")
    plan = services.plan_mass(admin, "contribution", "3", "Bijdrage")
    active = sorted([p.account_code for k, p in people.items()])
    assert _codes(plan, "payer") == active
    assert set(_codes(plan, "payee")) == {plan.group.code}
    assert plan.total == 3 * len(active) and plan.over_limit_count == 0
    assert [line.payee_after for line in plan.lines] == [3 * (i + 1)
                                                         for i in range(len(active))]
    assert all(line.payer_after == -3 and line.amount == 3 for line in plan.lines)


def test_a_start_credit_goes_to_members_only_once(people: dict[str, Any]) -> None:
    admin = people["admin"]
    plan = services.plan_mass(admin, "start_credit", "10", "Welkom")
    members = sorted(p.account_code for k, p in people.items() if "org" not in k
                     or k == "other_org_member")
    assert _codes(plan, "payee") == members
    assert [line.payer_after for line in plan.lines] == [-10 * (i + 1)
                                                         for i in range(len(members))]
    assert all(line.payee_after == 10 for line in plan.lines)


def test_the_plan_flags_exactly_the_lines_past_a_limit(people: dict[str, Any]) -> None:
    admin, member, other = people["admin"], people["member"], people["other_org_member"]
    inter = people["intermediary"]
    factories.make_transfer(member, admin, "290")
    factories.make_transfer(other, inter, "291")
    plan = services.plan_mass(admin, "contribution", "10", "Bijdrage")
    flagged = {line.payer.code for line in plan.lines if line.over_limit}
    assert flagged == {other.account_code}  # -300 exactly is fine, -301 is not
    assert plan.over_limit_count == 1
    credit = services.plan_mass(admin, "start_credit", "10", "Welkom")
    by_code = {line.payee.code: line.over_limit for line in credit.lines}
    assert by_code[inter.account_code] is True  # 301: past the maximum of 300
    assert by_code[admin.account_code] is False  # 300 exactly


def test_a_mass_transfer_past_a_limit_needs_the_override(people: dict[str, Any]) -> None:
    admin, other = people["admin"], people["other_org_member"]
    factories.make_transfer(other, admin, "291")
    plan = services.plan_mass(admin, "contribution", "10", "Bijdrage")
    with pytest.raises(services.LimitExceeded):
        services.book_mass(admin, "contribution", "10", "Bijdrage", plan.fingerprint, None)
    db.session.rollback()
    # The rollback undid the accounts the preview created (new ids on PostgreSQL).
    plan = services.plan_mass(admin, "contribution", "10", "Bijdrage")
    booked = services.book_mass(admin, "contribution", "10", "Bijdrage", plan.fingerprint,
                                KEY, allow_over_limit=True)
    db.session.commit()
    assert [t.over_limit for t in booked.transfers].count(True) == 1
    assert all(t.kind == "contribution" and t.batch == KEY and t.created_by_id == admin.id
               and t.description == "Bijdrage" and t.amount == 10 for t in booked.transfers)
    batch = db.session.scalar(select(MassBatch))
    assert batch is not None
    assert (batch.key, batch.kind, batch.amount, batch.lines, batch.created_by_id) == (
        KEY, "contribution", 10, len(plan.lines), admin.id)
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None
    assert (entry.action, entry.actor_id, entry.target_type, entry.target_id,
            entry.target_label) == ("ledger.mass_contribution", admin.id, "ledger_batch", KEY,
                                    "Bijdrage")
    assert json.loads(entry.details) == {"count": len(plan.lines), "amount": 10,
                                         "over_limit": 1, "override_ticked": True}
    assert services.check() == []


def test_start_credits_are_booked_as_start_credits(people: dict[str, Any]) -> None:
    admin = people["admin"]
    plan = services.plan_mass(admin, "start_credit", "5", "Welkom")
    booked = services.book_mass(admin, "start_credit", "5", "Welkom", plan.fingerprint, None)
    assert {t.kind for t in booked.transfers} == {"start_credit"}
    assert not booked.replayed and len(booked.transfers[0].batch or "") == 16


def test_only_admins_plan_and_book_mass_transfers(people: dict[str, Any]) -> None:
    member = people["member"]
    with pytest.raises(PermissionDenied):
        services.plan_mass(member, "contribution", "1", "x")
    with pytest.raises(PermissionDenied):
        services.book_mass(member, "contribution", "1", "x", "0" * 16, None)
    with pytest.raises(DomainError) as info:
        services.plan_mass(people["admin"], "gift", "1", "x")
    assert info.value.field == "kind"


def test_the_fingerprint_follows_kind_amount_and_accounts(people: dict[str, Any]) -> None:
    admin = people["admin"]
    plan = services.plan_mass(admin, "contribution", "1", "x")
    assert len(plan.fingerprint) == 16
    assert services.plan_mass(admin, "contribution", "1", "other words").fingerprint == \
        plan.fingerprint
    assert services.plan_mass(admin, "contribution", "2", "x").fingerprint != plan.fingerprint
    assert services.plan_mass(admin, "start_credit", "1", "x").fingerprint != plan.fingerprint
    with pytest.raises(DomainError, match="changed since the preview"):
        services.book_mass(admin, "contribution", "2", "x", plan.fingerprint, None)


def test_nobody_left_to_credit_is_refused(people: dict[str, Any]) -> None:
    admin = people["admin"]
    plan = services.plan_mass(admin, "start_credit", "1", "x")
    services.book_mass(admin, "start_credit", "1", "x", plan.fingerprint, None)
    empty = services.plan_mass(admin, "start_credit", "1", "x")
    assert empty.lines == [] and empty.total == 0
    with pytest.raises(DomainError, match="no account"):
        services.book_mass(admin, "start_credit", "1", "x", empty.fingerprint, None)


def test_a_replayed_mass_transfer_books_nothing_new(people: dict[str, Any]) -> None:
    admin = people["admin"]
    plan = services.plan_mass(admin, "contribution", "1", "x")
    first = services.book_mass(admin, "contribution", "1", "x", plan.fingerprint, KEY)
    db.session.commit()
    again = services.book_mass(admin, "contribution", "1", "x", "stale", KEY)
    assert again.replayed and [t.id for t in again.transfers] == [
        t.id for t in first.transfers]
    assert len(db.session.scalars(select(Transfer)).all()) == len(plan.lines)


def test_a_long_form_key_is_cut_to_the_batch_keys_32_characters(people: dict[str, Any]) -> None:
    admin = people["admin"]
    key = "k" * 40
    plan = services.plan_mass(admin, "contribution", "1", "x")
    booked = services.book_mass(admin, "contribution", "1", "x", plan.fingerprint, key)
    assert {t.batch for t in booked.transfers} == {key[:32]}


def test_a_start_credit_past_a_maximum_tells_the_admin_the_members_balance(
        people: dict[str, Any]) -> None:
    admin, inter = people["admin"], people["intermediary"]
    factories.make_transfer(admin, inter, "295")
    plan = services.plan_mass(admin, "start_credit", "6", "Welkom")
    with pytest.raises(services.LimitExceeded) as info:
        services.book_mass(admin, "start_credit", "6", "Welkom", plan.fingerprint, None)
    # The admin sees every account: the refusal says how much the member can still receive.
    assert str(info.value).endswith("The balance is 295 hours, so at most 5 hours can be received.")


def test_members_and_organisations_are_listed_in_one_code_order(
        people: dict[str, Any]) -> None:
    admin = people["admin"]
    early = factories.make_organisation(account_code="TA-001", name="Aalscholver",
                                        slug="aalscholver")
    plan = services.plan_mass(admin, "contribution", "1", "x")
    codes = _codes(plan, "payer")
    assert codes[0] == early.account_code and codes == sorted(codes)


def test_a_start_credit_plan_names_its_kind_amount_and_total(people: dict[str, Any]) -> None:
    admin = people["admin"]
    plan = services.plan_mass(admin, "start_credit", "10", "Welkom")
    assert plan.kind == "start_credit" and plan.amount == 10
    assert all(line.amount == 10 for line in plan.lines)
    assert plan.total == 10 * len(plan.lines)
    assert services.plan_mass(admin, "contribution", "1", "x").kind == "contribution"


def test_the_fingerprint_changes_when_one_member_replaces_another(
        people: dict[str, Any]) -> None:
    admin, member = people["admin"], people["member"]
    plan = services.plan_mass(admin, "contribution", "1", "x")
    member.status = Status.LEAVING
    factories.make_member(display_name="Nina Nieuw")
    db.session.flush()
    again = services.plan_mass(admin, "contribution", "1", "x")
    assert len(again.lines) == len(plan.lines) and again.fingerprint != plan.fingerprint
    with pytest.raises(DomainError, match="changed since the preview"):
        services.book_mass(admin, "contribution", "1", "x", plan.fingerprint, None)
