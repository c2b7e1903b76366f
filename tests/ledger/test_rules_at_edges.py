"""The ledger's money rules at their edges, as a member or an admin meets them: paying
exactly to a limit and one unit past it, an admin booking past a limit, replays, who sees
what in a refusal. Each test here kills mutants that the rest of the suite let live
(scripts/mutation ledger-booking; docs/testing.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from lets_site.audit.models import AuditEntry
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import Transfer
from lets_site.members.models import Status
from tests import factories

KEY = "k" * 20


@pytest.fixture(autouse=True)
def _request(app: Any) -> Any:
    """Messages are translated lazily, for the locale of a request."""
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


def _stored(transfer: Transfer) -> Transfer:
    """The row as the database has it, not as the session remembers it."""
    db.session.expire_all()
    row = db.session.get(Transfer, transfer.id)
    assert row is not None
    return row


def test_pay_exactly_down_to_the_minimum_is_accepted(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    t = services.pay(member, member.account_code, other.account_code, "300", "Tot op de grens",
                     None).transfer
    assert _stored(t).payer_balance_after == -300
    assert services.find_account(member.account_code).balance == -300
    assert services.find_account(other.account_code).balance == 300


def test_pay_one_unit_past_the_minimum_is_refused_and_says_how_much_is_left(
        people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    factories.make_transfer(member, people["admin"], "290")
    with pytest.raises(services.LimitExceeded) as info:
        services.pay(member, member.account_code, other.account_code, "11", "x", None)
    assert info.value.field == "amount"
    assert str(info.value) == (
        f"Refused: this would take the balance of {member.account_code} below its minimum "
        "of -300 hours. The balance is -290 hours, so at most 10 hours can be paid.")
    assert services.find_account(member.account_code).balance == -290
    services.pay(member, member.account_code, other.account_code, "10", "x", None)


def test_refusal_below_the_minimum_never_offers_a_negative_room(
        people: dict[str, Any]) -> None:
    """An account already past its minimum (an admin booked it there) may pay nothing."""
    member, admin = people["member"], people["admin"]
    factories.make_transfer(member, admin, "350", admin=admin, over_limit=True)
    with pytest.raises(services.LimitExceeded, match="at most 0 hours can be paid"):
        services.pay(member, member.account_code, admin.account_code, "1", "x", None)


def test_payee_may_be_paid_exactly_up_to_the_maximum(people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    factories.make_transfer(admin, other, "200")
    t = services.pay(member, member.account_code, other.account_code, "100", "x", None).transfer
    assert _stored(t).payee_balance_after == 300
    with pytest.raises(services.LimitExceeded):
        services.pay(member, member.account_code, other.account_code, "1", "x", None)


def test_refusal_above_the_payees_maximum_hides_their_balance_from_the_payer(
        people: dict[str, Any]) -> None:
    """A member may not learn another member's balance from a refused payment."""
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    factories.make_transfer(admin, other, "295")
    with pytest.raises(services.LimitExceeded) as info:
        services.pay(member, member.account_code, other.account_code, "6", "x", None)
    assert info.value.field == "amount"
    assert str(info.value) == (
        f"Refused: this would take the balance of {other.account_code} above its maximum of "
        "300 hours. Ask them for a smaller amount or try again later.")


def test_refusal_above_the_maximum_tells_an_admin_the_room_left(
        people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    factories.make_transfer(admin, other, "295")
    with pytest.raises(services.LimitExceeded) as info:
        services.admin_book(admin, member.account_code, other.account_code, "6", "x", None)
    assert info.value.field == "amount"
    assert str(info.value) == (
        f"Refused: this would take the balance of {other.account_code} above its maximum of "
        "300 hours. The balance is 295 hours, so at most 5 hours can be received.")


def test_admin_booking_past_a_limit_is_refused_without_the_override(
        people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    with pytest.raises(services.LimitExceeded):
        services.admin_book(admin, member.account_code, other.account_code, "301", "x", None)
    assert db.session.scalar(select(Transfer.id)) is None


def test_admin_booking_past_a_limit_stores_over_limit_and_audits_it(
        people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    t = services.admin_book(admin, member.account_code, other.account_code, "301", "Herstel",
                            KEY, allow_over_limit=True).transfer
    db.session.commit()
    row = _stored(t)
    assert row.over_limit is True
    assert (row.payer_balance_after, row.payee_balance_after) == (-301, 301)
    assert (row.payer_min, row.payee_max) == (-300, 300)
    assert (row.kind, row.created_by_id, row.idempotency_key) == ("admin", admin.id, KEY)
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None
    assert (entry.action, entry.actor_id, entry.target_type, entry.target_id) == (
        "ledger.admin_booking", admin.id, "ledger_transfer", t.uid)
    assert entry.target_label == f"{member.account_code} → {other.account_code}"
    assert json.loads(entry.details) == {"amount": 301, "description": "Herstel",
                                         "over_limit": True, "override_ticked": True}
    assert services.check() == []


def test_admin_booking_within_the_limits_is_not_over_limit(people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    t = services.admin_book(admin, member.account_code, other.account_code, "300", "x", None,
                            allow_over_limit=True).transfer
    assert _stored(t).over_limit is False
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None
    assert json.loads(entry.details)["over_limit"] is False


def test_a_payment_is_never_over_limit(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    t = services.pay(member, member.account_code, other.account_code, "300", "x", None).transfer
    row = _stored(t)
    assert row.over_limit is False and row.kind == "payment"
    assert row.created_by_id == member.id and row.description == "x"


def test_only_admins_book_between_other_accounts(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    with pytest.raises(PermissionDenied):
        services.admin_book(member, member.account_code, other.account_code, "1", "x", None)


def test_admin_booking_refuses_one_account_on_both_sides(people: dict[str, Any]) -> None:
    member, admin = people["member"], people["admin"]
    with pytest.raises(DomainError) as info:
        services.admin_book(admin, member.account_code, member.account_code, "1", "x", None)
    assert info.value.field == "payee"


def test_admin_booking_refuses_an_inactive_account(people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    other.status = Status.INACTIVE
    db.session.commit()
    with pytest.raises(DomainError) as info:
        services.admin_book(admin, member.account_code, other.account_code, "1", "x", None)
    assert info.value.field == "payee"
    with pytest.raises(DomainError) as info:
        services.admin_book(admin, other.account_code, member.account_code, "1", "x", None)
    assert info.value.field == "payer"


def test_pay_refuses_an_inactive_payer_or_payee(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    org = people["org"]
    org.status = "inactive"
    db.session.commit()
    with pytest.raises(DomainError) as info:
        services.pay(member, member.account_code, org.account_code, "1", "x", None)
    assert info.value.field == "payee"
    with pytest.raises(DomainError) as info:
        services.pay(people["intermediary"], org.account_code, other.account_code, "1", "x",
                     None)
    assert info.value.field == "from_account"


def test_pay_refuses_an_unknown_payee_next_to_its_field(people: dict[str, Any]) -> None:
    member = people["member"]
    with pytest.raises(DomainError) as info:
        services.pay(member, member.account_code, "ZZ-999", "1", "x", None)
    assert info.value.field == "payee"


def test_pay_from_no_account_is_refused(people: dict[str, Any]) -> None:
    member = people["member"]
    with pytest.raises(PermissionDenied, match="cannot pay from account"):
        services.pay(member, "", people["other_org_member"].account_code, "1", "x", None)


def test_pay_to_own_account_is_refused_next_to_the_payee(people: dict[str, Any]) -> None:
    member = people["member"]
    with pytest.raises(DomainError) as info:
        services.pay(member, member.account_code, member.account_code, "1", "x", None)
    assert info.value.field == "payee"


def test_book_refuses_nothing_and_the_same_account(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    payer = services._stored_account(member.account_code)
    payee = services._stored_account(other.account_code)
    with pytest.raises(DomainError) as info:
        services._book(member, payer, payee, 0, "x", kind="payment")
    assert info.value.field == "amount"
    services._book(member, payer, payee, 1, "x", kind="payment")
    with pytest.raises(DomainError) as info:
        services._book(member, payer, payer, 1, "x", kind="payment")
    assert info.value.field == "payee"


def test_book_refuses_an_account_not_yet_stored(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    stored = services._stored_account(member.account_code)
    unsaved = services.find_account(other.account_code)
    assert unsaved.id is None
    with pytest.raises(AssertionError, match=r"^accounts must be stored before booking$"):
        services._book(member, stored, unsaved, 1, "x", kind="payment")
    with pytest.raises(AssertionError, match=r"^accounts must be stored before booking$"):
        services._book(member, unsaved, stored, 1, "x", kind="payment")


def test_book_keeps_a_trimmed_description_and_reason(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    payer = services._stored_account(member.account_code)
    payee = services._stored_account(other.account_code)
    t = services._book(member, payer, payee, 1, "  " + "d" * 210 + " ", kind="payment",
                       reason="  waarom  ").transfer
    row = _stored(t)
    assert row.description == "d" * 200 and row.reason == "waarom"
    plain = services._book(None, payer, payee, 1, "x", kind="payment").transfer
    row = _stored(plain)
    assert row.reason == "" and row.created_by_id is None and row.reverses_id is None


def test_replay_with_the_same_key_books_once(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    first = services.pay(member, member.account_code, other.account_code, "5", "x", KEY)
    db.session.commit()
    again = services.pay(member, member.account_code, other.account_code, "5", "x", KEY)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.transfer.id == first.transfer.id
    assert services.find_account(member.account_code).balance == -5


@pytest.mark.parametrize("change", ["amount", "payee", "payer", "actor"])
def test_a_key_reused_for_another_booking_is_refused(people: dict[str, Any],
                                                     change: str) -> None:
    member, other, inter = people["member"], people["other_org_member"], people["intermediary"]
    org = people["org"]
    factories.make_transfer(other, org, "20")  # the org has money to pay with
    services.pay(inter, org.account_code, other.account_code, "5", "x", KEY)
    db.session.commit()
    actor, payer, payee, amount = inter, org.account_code, other.account_code, "5"
    if change == "amount":
        amount = "6"
    elif change == "payee":
        payee = member.account_code
    elif change == "payer":
        payer = inter.account_code
    else:
        org.intermediaries.append(factories.Intermediary(member_id=member.id))
        db.session.commit()
        actor = member
    with pytest.raises(DomainError, match="damaged"):
        services.pay(actor, payer, payee, amount, "x", KEY)


def test_a_payment_key_cannot_replay_as_an_admin_booking(people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    services.pay(admin, admin.account_code, other.account_code, "5", "x", KEY)
    db.session.commit()
    with pytest.raises(DomainError, match="damaged"):
        services.admin_book(admin, admin.account_code, other.account_code, "5", "x", KEY)
    assert member is not None


def test_an_admin_replay_is_not_audited_twice(people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    services.admin_book(admin, member.account_code, other.account_code, "5", "x", KEY)
    db.session.commit()
    again = services.admin_book(admin, member.account_code, other.account_code, "5", "x", KEY)
    assert again.replayed
    assert len(db.session.scalars(select(AuditEntry)).all()) == 1


@pytest.mark.parametrize("key", ["short", "k" * 65, "has space in it!!", "a:b" * 8])
def test_a_damaged_key_is_refused(people: dict[str, Any], key: str) -> None:
    member, other = people["member"], people["other_org_member"]
    with pytest.raises(DomainError, match="damaged"):
        services.pay(member, member.account_code, other.account_code, "5", "x", key)


@pytest.mark.parametrize("key", ["k" * 16, "k" * 64, "Ab_-09" * 3])
def test_a_key_of_the_allowed_form_is_taken(people: dict[str, Any], key: str) -> None:
    member, other = people["member"], people["other_org_member"]
    t = services.pay(member, member.account_code, other.account_code, "5", "x", key).transfer
    assert _stored(t).idempotency_key == key


def test_new_key_fits_the_form_rule(app: Any) -> None:
    key = services.new_key()
    assert len(key) == 24 and key != services.new_key()
    assert services.booking._clean_key(key) == key
    assert services.booking._clean_key("") is None


@pytest.mark.parametrize(("value", "expected"),
                         [("17", 17), (17, 17), ("", None), (None, None), ("x", None),
                          ("0", None), ("1", 1), (str(2**31 - 1), 2**31 - 1),
                          (str(2**31), None), ([], None)])
def test_listing_reference_is_kept_only_when_plausible(app: Any, value: Any,
                                                       expected: int | None) -> None:
    assert services.booking._listing(value) == expected


@pytest.mark.parametrize(("text", "ok"), [("", False), ("   ", False), ("d" * 200, True),
                                          ("d" * 201, False)])
def test_payment_description_is_required_and_short(people: dict[str, Any], text: str,
                                                   ok: bool) -> None:
    member, other = people["member"], people["other_org_member"]
    if ok:
        t = services.pay(member, member.account_code, other.account_code, "1", text, None)
        assert t.transfer.description == text
    else:
        with pytest.raises(DomainError) as info:
            services.pay(member, member.account_code, other.account_code, "1", text, None)
        assert info.value.field == "description"


def test_transfer_is_shown_to_its_parties_and_admins_only(people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    t = factories.make_transfer(member, people["org"], "5")
    for viewer in (member, people["intermediary"], admin):
        assert services.get_transfer(viewer, t.uid).id == t.id
    with pytest.raises(PermissionDenied):
        services.get_transfer(other, t.uid)
    with pytest.raises(NotFound):
        services.get_transfer(admin, "0" * 16)


@pytest.mark.parametrize(("reason", "ok"), [("abcd", False), ("  abcd  ", False),
                                            ("abcde", True)])
def test_a_correction_needs_a_reason_of_five_characters(people: dict[str, Any], reason: str,
                                                        ok: bool) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    t = factories.make_transfer(member, other, "5")
    if ok:
        assert services.reverse(admin, t.uid, reason, None).transfer.reason == reason
    else:
        with pytest.raises(DomainError) as info:
            services.reverse(admin, t.uid, reason, None)
        assert info.value.field == "reason"


def test_a_correction_may_pass_a_limit_and_says_so(people: dict[str, Any]) -> None:
    """Reversing a payment the payee has spent since takes them past their minimum."""
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    t = factories.make_transfer(member, other, "300")
    factories.make_transfer(other, member, "300")
    factories.make_transfer(other, admin, "300")
    correction = services.reverse(admin, t.uid, "Dubbel geboekt", KEY).transfer
    db.session.commit()
    row = _stored(correction)
    assert row.over_limit is True and row.payer_balance_after == -600
    assert row.kind == "correction" and row.reverses_id == t.id
    assert row.created_by_id == admin.id and row.idempotency_key == KEY
    assert row.description == f"Correction of {t.uid}"
    assert services.reversal_of(t) is not None and services.reversal_of(row) is None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ledger.correction"))
    assert entry is not None
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        admin.id, "ledger_transfer", t.uid)
    assert entry.target_label == f"{member.account_code} → {other.account_code}"
    assert json.loads(entry.details) == {"correction": row.uid, "amount": 300,
                                         "reason": "Dubbel geboekt", "over_limit": True}
    again = services.reverse(admin, t.uid, "Dubbel geboekt", KEY)
    assert again.replayed and again.transfer.id == row.id


def test_a_payment_replayed_after_the_payee_left_returns_the_first_booking(
        people: dict[str, Any]) -> None:
    """The form sent twice (a double click, a retry) while an admin closed the payee's
    account in between: the first booking stands; the second is not a new, refused one."""
    member, other = people["member"], people["other_org_member"]
    first = services.pay(member, member.account_code, other.account_code, "5", "x", KEY)
    other.status = Status.INACTIVE
    db.session.commit()
    again = services.pay(member, member.account_code, other.account_code, "5", "x", KEY)
    assert again.replayed and again.transfer.id == first.transfer.id
    with pytest.raises(DomainError, match="not active"):
        services.pay(member, member.account_code, other.account_code, "5", "x", None)


def test_an_admin_booking_replayed_after_the_payer_left_returns_the_first_booking(
        people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    first = services.admin_book(admin, member.account_code, other.account_code, "5", "x", KEY)
    member.status = Status.INACTIVE
    db.session.commit()
    again = services.admin_book(admin, member.account_code, other.account_code, "5", "x", KEY)
    assert again.replayed and again.transfer.id == first.transfer.id


def test_book_hides_the_payees_balance_unless_told_the_viewer_sees_it(
        people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    factories.make_transfer(admin, other, "295")
    payer = services._stored_account(member.account_code)
    payee = services._stored_account(other.account_code)
    with pytest.raises(services.LimitExceeded) as info:
        services._book(member, payer, payee, 6, "x", kind="payment")
    assert "295" not in str(info.value) and "Ask them for a smaller amount" in str(info.value)


def test_book_reads_the_balance_another_request_just_stored(people: dict[str, Any]) -> None:
    """The session may remember an old balance; the limit is checked on the stored one."""
    from sqlalchemy import update

    from lets_site.ledger.models import Account

    member, other = people["member"], people["other_org_member"]
    payer = services._stored_account(member.account_code)
    payee = services._stored_account(other.account_code)
    assert payer.balance == 0
    # What a concurrent payment leaves behind, unseen by this session's objects.
    db.session.execute(update(Account).where(Account.id == payer.id).values(balance=-295)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Account).where(Account.id == payee.id).values(balance=295)
                       .execution_options(synchronize_session=False))
    with pytest.raises(services.LimitExceeded, match="at most 5 hours can be paid"):
        services._book(member, payer, payee, 6, "x", kind="payment")
    t = services._book(member, payer, payee, 5, "x", kind="payment",
                       viewer_sees_payee=True).transfer
    assert (t.payer_balance_after, t.payee_balance_after) == (-300, 300)


def test_admin_booking_names_the_unknown_account_next_to_its_field(
        people: dict[str, Any]) -> None:
    member, admin = people["member"], people["admin"]
    with pytest.raises(DomainError, match="ZZ-1") as info:
        services.admin_book(admin, "ZZ-1", member.account_code, "1", "x", None)
    assert info.value.field == "payer"
    with pytest.raises(DomainError, match="ZZ-2") as info:
        services.admin_book(admin, member.account_code, "ZZ-2", "1", "x", None)
    assert info.value.field == "payee"


def test_a_payer_who_may_see_the_payees_account_is_told_the_room_left(
        people: dict[str, Any]) -> None:
    """An intermediary paying from the organisation into their own account sees both."""
    inter, org, admin = people["intermediary"], people["org"], people["admin"]
    factories.make_transfer(admin, inter, "295")
    factories.make_transfer(people["member"], org, "50")
    with pytest.raises(services.LimitExceeded) as info:
        services.pay(inter, org.account_code, inter.account_code, "6", "x", None)
    assert str(info.value).endswith("The balance is 295 hours, so at most 5 hours can be received.")


def test_a_payment_to_the_minimum_past_the_payees_maximum_blames_the_maximum(
        people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    factories.make_transfer(admin, other, "295")
    with pytest.raises(services.LimitExceeded, match="above its maximum of 300"):
        services.pay(member, member.account_code, other.account_code, "300", "x", None)


def test_a_refusal_shows_amounts_in_the_groups_decimals(people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    services.update_settings(admin, services.SettingsData(2, "-3", "3", False))
    with pytest.raises(services.LimitExceeded) as info:
        services.pay(member, member.account_code, other.account_code, "3,01", "x", None)
    assert "at most 3.00 hours can be paid" in str(info.value)


def test_every_booking_is_announced_with_its_actor(people: dict[str, Any]) -> None:
    from lets_site import signals

    member, other = people["member"], people["other_org_member"]
    seen: list[tuple[Any, Any]] = []

    def receiver(transfer: Any, actor: Any = None) -> None:
        seen.append((transfer, actor))

    signals.transfer_booked.connect(receiver)
    try:
        t = services.pay(member, member.account_code, other.account_code, "2", "x", None)
    finally:
        signals.transfer_booked.disconnect(receiver)
    assert seen == [(t.transfer, member)]


def test_only_a_key_the_form_made_is_taken_from_a_link() -> None:
    """A payment link may carry the form's key (the summary's Back keeps it); anything else
    in its place is ignored, so a made-up key cannot replay someone's payment."""
    assert services.is_form_key(services.new_key())
    assert not services.is_form_key(None)
    assert not services.is_form_key("")
    assert not services.is_form_key("not-a-key")
