"""Accounts and limits at their edges: who acts for and sees an account, which limit is in
force, limits of exactly zero, the settings that cannot change once amounts are stored.
Each test kills mutants that the rest of the suite let live (scripts/mutation
ledger-accounts; docs/testing.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from lets_site.audit.models import AuditEntry
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import Account, LimitChange
from lets_site.members.models import Status
from tests import factories


@pytest.fixture(autouse=True)
def _request(app: Any) -> Any:
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


def _account(holder: Any) -> Account:
    return services._stored_account(holder.account_code)


def test_who_acts_for_and_sees_an_account(people: dict[str, Any]) -> None:
    own, org = _account(people["member"]), _account(people["org"])
    group = services.group_account(create=True)
    assert group is not None
    table = {role: (services.can_act_for(people.get(role), own),
                    services.can_act_for(people.get(role), org),
                    services.can_act_for(people.get(role), group),
                    services.can_view(people.get(role), own),
                    services.can_view(people.get(role), org),
                    services.can_view(people.get(role), group))
             for role in ("anonymous", "member", "intermediary", "admin", "other_org_member")}
    assert table == {
        "anonymous": (False, False, False, False, False, False),
        "member": (True, False, False, True, False, False),
        "intermediary": (False, True, False, False, True, False),
        "admin": (False, False, False, True, True, True),
        "other_org_member": (False, False, False, False, False, False),
    }


def test_the_limit_in_force_is_the_accounts_own_or_the_groups(people: dict[str, Any]) -> None:
    admin, member = people["admin"], people["member"]
    account = _account(member)
    assert services.limits_of(account) == (-300, 300)
    services.set_limits(admin, member.account_code, "0", "")
    assert services.limits_of(account) == (0, 300)
    services.set_limits(admin, member.account_code, "", "0")
    assert services.limits_of(account) == (-300, 0)
    group = services.group_account(create=True)
    assert group is not None and services.limits_of(group) == (None, None)


def test_limits_of_exactly_zero_are_allowed_and_one_past_is_not(
        people: dict[str, Any]) -> None:
    admin, code = people["admin"], people["member"].account_code
    services.set_limits(admin, code, "0", "0")
    with pytest.raises(DomainError, match="above zero") as info:
        services.set_limits(admin, code, "1", "")
    assert info.value.field == "min_balance"
    with pytest.raises(DomainError, match="below zero"):
        services.set_limits(admin, code, "", "-1")


def test_setting_the_same_limits_again_changes_nothing(people: dict[str, Any]) -> None:
    admin, member = people["admin"], people["member"]
    change = services.set_limits(admin, member.account_code, "-50", "60")
    assert change is not None
    assert services.set_limits(admin, member.account_code, " -50 ", "60") is None
    assert len(db.session.scalars(select(LimitChange)).all()) == 1
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None
    assert (entry.action, entry.actor_id, entry.target_type, entry.target_id,
            entry.target_label) == ("ledger.limits", admin.id, "ledger_account",
                                    member.account_code, member.display_name)
    assert json.loads(entry.details) == {"old": [None, None], "new": [-50, 60]}
    account = _account(member)
    assert (change.account_id, change.actor_id, change.old_min, change.old_max) == (
        account.id, admin.id, None, None)
    services.set_limits(admin, member.account_code, "", "")
    history = services.limit_history(account)
    assert [(c.new_min, c.new_max) for c in history] == [(None, None), (-50, 60)]
    assert services.limit_history(services.find_account(people["org"].account_code)) == []


def test_the_group_account_has_no_limits_to_set(people: dict[str, Any]) -> None:
    group = services.group_account(create=True)
    assert group is not None
    with pytest.raises(DomainError, match="no limits"):
        services.set_limits(people["admin"], group.code, "-1", "1")


def test_the_group_account_is_made_once_with_a_free_code(people: dict[str, Any]) -> None:
    assert services.group_account() is None
    factories.make_member(account_code="LE-GROUP")
    group = services.group_account(create=True)
    assert group is not None and group.code == "LE-GRP" and group.balance == 0
    assert services.group_account(create=True).id == group.id  # type: ignore[union-attr]
    assert services.holder_name(group).endswith("(group account)")


def test_an_account_is_open_while_its_holder_is_active_or_leaving(
        people: dict[str, Any]) -> None:
    member, org = people["member"], people["org"]
    account, org_account = _account(member), _account(org)
    for status, open_ in ((Status.ACTIVE, True), (Status.LEAVING, True),
                          (Status.INACTIVE, False), (Status.CANDIDATE, False)):
        member.status = status
        assert services.is_open(account) is open_
    org.status = "inactive"
    assert services.is_open(org_account) is False
    org.status = "active"
    assert services.is_open(org_account) is True
    assert services.is_open(services.group_account(create=True)) is True  # type: ignore[arg-type]


def test_holder_names(people: dict[str, Any]) -> None:
    assert services.holder_name(_account(people["member"])) == "Mia Member"
    assert services.holder_name(_account(people["org"])) == "Hedera"


def test_finding_an_account_by_code(people: dict[str, Any]) -> None:
    member = people["member"]
    unsaved = services.find_account(member.account_code.lower())
    assert unsaved.id is None and unsaved.code == member.account_code
    assert (unsaved.kind, unsaved.member_id, unsaved.organisation_id, unsaved.balance) == (
        "member", member.id, None, 0)
    org = services.find_account(people["org"].account_code)
    assert (org.kind, org.member_id, org.organisation_id) == (
        "organisation", None, people["org"].id)
    stored = services._stored_account(member.account_code)
    assert stored.id is not None
    assert services._stored_account(member.account_code).id == stored.id
    for code in ("", "  "):
        with pytest.raises(NotFound):
            services.find_account(code)
    with pytest.raises(NotFound, match="ZZ-1"):
        services.find_account("zz-1")


def test_a_members_accounts_their_own_first(people: dict[str, Any]) -> None:
    inter = people["intermediary"]
    assert [a.code for a in services.accounts_for(inter)] == [
        inter.account_code, people["org"].account_code]
    candidate = factories.make_candidate()
    assert services.accounts_for(candidate) == []
    assert services.member_account(candidate) is None


def test_the_header_balance_is_the_members_own(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    assert services.header_balance(member) == 0
    factories.make_transfer(member, other, "7")
    assert services.header_balance(member) == -7
    assert services.header_balance(factories.make_candidate()) is None
    member.status = Status.INACTIVE
    assert services.header_balance(member) is None


def test_settings_change_and_are_audited(people: dict[str, Any]) -> None:
    admin = people["admin"]
    settings = services.update_settings(admin, services.SettingsData(2, "-5", "6", True))
    assert (settings.decimals, settings.default_min, settings.default_max,
            settings.balances_visible) == (2, -500, 600, True)
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None
    assert (entry.action, entry.target_type, entry.target_id, entry.target_label) == (
        "ledger.settings", "ledger", "settings", "ledger settings")
    assert json.loads(entry.details) == {
        "decimals": {"old": 0, "new": 2}, "default_min": {"old": -300, "new": -500},
        "default_max": {"old": 300, "new": 600}, "balances_visible": {"old": False,
                                                                      "new": True}}
    services.update_settings(admin, services.SettingsData(2, "-5", "6", True))
    assert len(db.session.scalars(select(AuditEntry)).all()) == 1
    with pytest.raises(DomainError) as info:
        services.update_settings(admin, services.SettingsData(1, "-5", "6", True))
    assert info.value.field == "decimals"
    with pytest.raises(DomainError) as info:
        services.update_settings(admin, services.SettingsData(2, "0,01", "6", True))
    assert info.value.field == "default_min"
    services.update_settings(admin, services.SettingsData(2, "0", "0", False))


@pytest.mark.parametrize("stored", ["transfer", "request", "own limit"])
def test_decimals_are_fixed_once_an_amount_is_stored(people: dict[str, Any],
                                                     stored: str) -> None:
    admin, member, other = people["admin"], people["member"], people["other_org_member"]
    if stored == "transfer":
        factories.make_transfer(member, other, "1")
    elif stored == "request":
        services.request_payment(member, member.account_code, other.account_code, "1", "x",
                                 None)
    else:
        services.set_limits(admin, member.account_code, "", "5")
    with pytest.raises(DomainError, match="decimals cannot change") as info:
        services.update_settings(admin, services.SettingsData(2, "-300", "300", False))
    assert info.value.field == "decimals"
    services.update_settings(admin, services.SettingsData(0, "-30", "30", False))


def test_only_admins_change_limits_and_settings(people: dict[str, Any]) -> None:
    member = people["member"]
    with pytest.raises(PermissionDenied):
        services.set_limits(member, member.account_code, "", "")
    with pytest.raises(PermissionDenied):
        services.update_settings(member, services.SettingsData(0, "-1", "1", False))


def test_new_settings_hold_for_the_rest_of_the_request(people: dict[str, Any]) -> None:
    admin = people["admin"]
    assert services.get_settings().default_min == -300  # read, and kept for the request
    saved = services.update_settings(admin, services.SettingsData(0, "-40", "50", False))
    assert saved.updated_at is not None
    assert (services.get_settings().default_min, services.get_settings().default_max) == (
        -40, 50)
    with pytest.raises(services.LimitExceeded):
        services.pay(people["member"], people["member"].account_code,
                     people["other_org_member"].account_code, "41", "x", None)


def test_settings_refuse_a_third_decimal_and_bad_defaults(people: dict[str, Any]) -> None:
    admin = people["admin"]
    with pytest.raises(DomainError) as info:
        services.update_settings(admin, services.SettingsData(3, "-1", "1", False))
    assert info.value.field == "decimals"
    with pytest.raises(DomainError) as info:
        services.update_settings(admin, services.SettingsData(0, "x", "1", False))
    assert info.value.field == "default_min"
    with pytest.raises(DomainError) as info:
        services.update_settings(admin, services.SettingsData(0, "-1", "x", False))
    assert info.value.field == "default_max"
    with pytest.raises(DomainError, match="below zero") as info:
        services.update_settings(admin, services.SettingsData(0, "-1", "-1", False))
    assert info.value.field == "default_min"


def test_an_own_minimum_alone_also_fixes_the_decimals(people: dict[str, Any]) -> None:
    admin = people["admin"]
    services.set_limits(admin, people["member"].account_code, "-5", "")
    with pytest.raises(DomainError, match="decimals cannot change"):
        services.update_settings(admin, services.SettingsData(2, "-300", "300", False))


def test_a_member_who_left_no_longer_acts_for_or_sees_their_account(
        people: dict[str, Any]) -> None:
    member = people["member"]
    account = _account(member)
    member.status = Status.INACTIVE
    assert not services.can_act_for(member, account)
    assert not services.can_view(member, account)


def test_only_a_group_account_takes_a_code_in_the_ledger(people: dict[str, Any]) -> None:
    member = people["member"]
    _account(member)
    group = services.group_account(create=True)
    assert group is not None
    assert services.account_code_taken(group.code) is True
    assert services.account_code_taken(member.account_code) is False
    assert services.account_code_taken("LE-NONE") is False


def test_the_group_account_code_follows_the_site_prefix(people: dict[str, Any]) -> None:
    from lets_site.settings import get_settings as site_settings

    site_settings().code_prefix = "ie"
    group = services.group_account(create=True)
    assert group is not None and group.code == "IE-GROUP"


def test_the_group_account_code_falls_back_to_le(people: dict[str, Any]) -> None:
    from lets_site.settings import get_settings as site_settings

    site_settings().code_prefix = ""
    group = services.group_account(create=True)
    assert group is not None and group.code == "LE-GROUP"


def test_the_group_account_gets_a_random_code_when_the_usual_ones_are_taken(
        people: dict[str, Any]) -> None:
    import re

    for suffix in services.GROUP_SUFFIXES:
        factories.make_member(account_code=f"LE-{suffix}")
    group = services.group_account(create=True)
    assert group is not None and re.fullmatch(r"LE-G\d{1,6}", group.code), group.code


def test_refusals_name_the_unknown_code_and_the_empty_field(people: dict[str, Any]) -> None:
    member = people["member"]
    with pytest.raises(DomainError, match="ZZ-999") as info:
        services.pay(member, member.account_code, "zz-999", "1", "x", None)
    assert info.value.field == "payee"
    with pytest.raises(NotFound, match="Fill in an account code"):
        services.find_account("")


def test_holder_names_of_an_account_not_yet_stored(people: dict[str, Any]) -> None:
    """A member or organisation that has not traded yet has an unsaved account whose
    holder is not loaded with it: the name is looked up by the holder's id."""
    member, org = people["member"], people["org"]
    unsaved = services.find_account(member.account_code)
    assert unsaved.id is None and unsaved.member is None
    assert services.holder_name(unsaved) == "Mia Member"
    assert services.full_holder_name(unsaved) == member.full_name != member.display_name
    org_account = services.find_account(org.account_code)
    assert org_account.id is None and org_account.organisation is None
    assert services.holder_name(org_account) == "Hedera"
    assert services.full_holder_name(org_account) == "Hedera"
    stored = _account(member)
    assert services.full_holder_name(stored) == member.full_name


def test_limit_changes_keep_the_old_limits_newest_first(people: dict[str, Any]) -> None:
    admin, member = people["admin"], people["member"]
    code = member.account_code
    first = services.set_limits(admin, code, "-50", "60")
    second = services.set_limits(admin, code, "-40", "")
    third = services.set_limits(admin, code, None, "70")  # type: ignore[arg-type]
    assert first and second and third
    assert (second.old_min, second.old_max, second.new_min, second.new_max) == (
        -50, 60, -40, None)
    assert (third.old_min, third.old_max, third.new_min, third.new_max) == (-40, None, None, 70)
    history = services.limit_history(_account(member))
    assert [c.id for c in history] == [third.id, second.id, first.id]
    assert all(c.actor_id == admin.id for c in history)
    details = [json.loads(e.details) for e in db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.id))]
    assert details[1:] == [{"old": [-50, 60], "new": [-40, None]},
                           {"old": [-40, None], "new": [None, 70]}]
    assert services.limits_of(_account(member)) == (-300, 70)


def test_unreadable_limits_are_refused_next_to_their_field(people: dict[str, Any]) -> None:
    admin, code = people["admin"], people["member"].account_code
    for low, high, field in (("x", "", "min_balance"), ("", "x", "max_balance"),
                             ("-1,5", "", "min_balance"), ("", "2,5", "max_balance")):
        with pytest.raises(DomainError) as info:
            services.set_limits(admin, code, low, high)
        assert info.value.field == field, (low, high)
    assert services.limit_history(_account(people["member"])) == []


def test_a_member_without_a_full_name_is_paid_under_their_display_name(
        people: dict[str, Any]) -> None:
    member = people["member"]
    member.full_name = ""
    assert services.full_holder_name(_account(member)) == "Mia Member"
    group = services.group_account(create=True)
    assert group is not None
    assert services.full_holder_name(group) == services.holder_name(group)


def test_limit_changes_of_the_same_instant_are_listed_newest_first(
        people: dict[str, Any]) -> None:
    """Two changes the clock cannot tell apart (a coarse clock, two admins at once)."""
    from sqlalchemy import update

    admin, member = people["admin"], people["member"]
    first = services.set_limits(admin, member.account_code, "-50", "")
    second = services.set_limits(admin, member.account_code, "-60", "")
    assert first and second
    db.session.execute(update(LimitChange).values(at=first.at))
    db.session.expire_all()
    history = services.limit_history(_account(member))
    assert [c.id for c in history] == [second.id, first.id]


def test_the_first_settings_saved_are_audited_against_the_defaults(
        people: dict[str, Any]) -> None:
    """No settings row yet (a new group): the audit compares with the defaults the group
    counted with until then (whole units, -300 to 300, balances hidden)."""
    admin = people["admin"]
    services.update_settings(admin, services.SettingsData(0, "-40", "300", False))
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None
    assert json.loads(entry.details) == {"default_min": {"old": -300, "new": -40}}
    assert (entry.action, entry.actor_id) == ("ledger.settings", admin.id)
    db.session.expire_all()
    saved = services.get_settings()
    assert (saved.id, saved.decimals, saved.default_min, saved.default_max,
            saved.balances_visible) == (services.SETTINGS_ID, 0, -40, 300, False)


def test_the_first_settings_saved_may_only_show_the_balances(people: dict[str, Any]) -> None:
    admin = people["admin"]
    services.update_settings(admin, services.SettingsData(0, "-300", "300", True))
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None
    assert json.loads(entry.details) == {"balances_visible": {"old": False, "new": True}}


def test_a_visitor_neither_acts_for_nor_sees_an_account(people: dict[str, Any]) -> None:
    """Pages ask with Flask-Login's anonymous user, not None."""
    from flask_login import AnonymousUserMixin

    visitor = AnonymousUserMixin()
    for account in (_account(people["member"]), _account(people["org"]),
                    services.group_account(create=True)):
        assert account is not None
        assert services.can_act_for(visitor, account) is False  # type: ignore[arg-type]
        assert services.can_view(visitor, account) is False  # type: ignore[arg-type]


def test_an_account_another_request_created_meanwhile_is_the_one_used(
        people: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two first payments of a new member at once: the second request read no account,
    the first stored it in between; the second books on the stored one."""
    from lets_site.ledger.services import accounts

    member = people["member"]
    services._stored_account(people["other_org_member"].account_code)  # someone else's
    stored = services._stored_account(member.account_code)
    stale = accounts._new_account("member", member)  # what the other request read
    monkeypatch.setattr(accounts, "find_account", lambda code: stale)
    account = services._stored_account(member.account_code)
    assert account.id == stored.id and account.code == member.account_code
    assert db.session.scalar(select(func.count(Account.id))) == 2


def test_new_accounts_are_created_in_code_order(people: dict[str, Any]) -> None:
    """The first booking between two members who never traded creates both accounts in
    code order, whichever pays: two such requests then wait for each other in the same
    order (no deadlock on PostgreSQL)."""
    low, high = sorted((people["member"].account_code,
                        people["other_org_member"].account_code))
    from lets_site.ledger.services import accounts

    payer, payee = accounts._resolve((high, "payer"), (low, "payee"))
    assert (payer.code, payee.code) == (high, low)
    assert payee.id is not None and payer.id is not None and payee.id < payer.id
