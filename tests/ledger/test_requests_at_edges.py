"""Payment requests at their edges: who may ask, confirm, decline and withdraw, what a
second click does, what a confirmation past a limit leaves behind. Each test kills
mutants that the rest of the suite let live (scripts/mutation ledger-requests;
docs/testing.md)."""

from __future__ import annotations

from typing import Any

import pytest

from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import PaymentRequest, RequestStatus
from lets_site.members.models import Status
from tests import factories

KEY = "r" * 20


@pytest.fixture(autouse=True)
def _request(app: Any) -> Any:
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


def _ask(people: dict[str, Any], amount: str = "5", key: str | None = None,
         listing: str | None = None) -> PaymentRequest:
    """The member asks other_org_member to pay them."""
    member, other = people["member"], people["other_org_member"]
    req = services.request_payment(member, member.account_code, other.account_code, amount,
                                   "Soep", key, listing_id=listing)
    db.session.commit()
    return req


def test_a_request_is_stored_as_asked(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    req = _ask(people, "7", KEY, listing="12")
    db.session.expire_all()
    row = db.session.get(PaymentRequest, req.id)
    assert row is not None
    assert (row.payee.code, row.payer.code, row.amount, row.description) == (
        member.account_code, other.account_code, 7, "Soep")
    assert (row.listing_id, row.idempotency_key, row.created_by_id, row.status) == (
        12, KEY, member.id, RequestStatus.PENDING)
    assert row.created_at is not None and len(row.uid) == 16


def test_the_same_request_form_sent_twice_asks_once(people: dict[str, Any]) -> None:
    first = _ask(people, key=KEY)
    assert _ask(people, key=KEY).id == first.id
    assert _ask(people).id != first.id


def test_only_the_payee_side_may_ask(people: dict[str, Any]) -> None:
    member, other, inter = people["member"], people["other_org_member"], people["intermediary"]
    with pytest.raises(PermissionDenied, match="cannot ask payment for account"):
        services.request_payment(other, member.account_code, other.account_code, "5", "x",
                                 None)
    with pytest.raises(PermissionDenied):
        services.request_payment(member, "", other.account_code, "5", "x", None)
    req = services.request_payment(inter, people["org"].account_code, member.account_code,
                                   "5", "x", None)
    assert req.payee.code == people["org"].account_code


def test_a_request_refuses_own_account_closed_accounts_and_the_group(
        people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    with pytest.raises(DomainError) as info:
        services.request_payment(member, member.account_code, member.account_code, "5", "x",
                                 None)
    assert info.value.field == "payer"
    with pytest.raises(DomainError) as info:
        services.request_payment(member, member.account_code, "ZZ-404", "5", "x", None)
    assert info.value.field == "payer"
    group = services.group_account(create=True)
    assert group is not None
    with pytest.raises(DomainError, match="group account") as info:
        services.request_payment(member, member.account_code, group.code, "5", "x", None)
    assert info.value.field == "payer"
    org = people["org"]
    org.status = "inactive"
    db.session.commit()
    with pytest.raises(DomainError) as info:
        services.request_payment(member, member.account_code, org.account_code, "5", "x",
                                 None)
    assert info.value.field == "payer"
    with pytest.raises(DomainError) as info:
        services.request_payment(people["intermediary"], org.account_code,
                                 admin.account_code, "5", "x", None)
    assert info.value.field == "to_account"
    assert other is not None


def test_confirming_books_the_request_once(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    req = _ask(people, "7", listing="3")
    booked = services.confirm_request(other, req.uid)
    db.session.commit()
    t = booked.transfer
    assert (t.payer.code, t.payee.code, t.amount, t.description, t.kind) == (
        other.account_code, member.account_code, 7, "Soep", "request")
    assert (t.idempotency_key, t.listing_id, t.created_by_id) == (
        f"request:{req.uid}", 3, other.id)
    db.session.expire_all()
    row = db.session.get(PaymentRequest, req.id)
    assert row is not None
    assert (row.status, row.transfer_id, row.decided_by_id) == (
        RequestStatus.PAID, t.id, other.id)
    assert row.decided_at is not None
    again = services.confirm_request(other, req.uid)
    assert again.replayed and again.transfer.id == t.id
    assert services.find_account(other.account_code).balance == -7


@pytest.mark.parametrize("who", ["member", "admin", "intermediary"])
def test_only_the_payer_side_confirms_or_declines(people: dict[str, Any], who: str) -> None:
    req = _ask(people)
    with pytest.raises(PermissionDenied):
        services.confirm_request(people[who], req.uid)
    with pytest.raises(PermissionDenied):
        services.decline_request(people[who], req.uid)
    assert req.status == RequestStatus.PENDING


def test_an_intermediary_confirms_for_their_organisation(people: dict[str, Any]) -> None:
    member, inter, org = people["member"], people["intermediary"], people["org"]
    req = services.request_payment(member, member.account_code, org.account_code, "4", "x",
                                   None)
    booked = services.confirm_request(inter, req.uid)
    assert booked.transfer.payer.code == org.account_code


def test_a_confirmation_past_the_limit_leaves_the_request_pending(
        people: dict[str, Any]) -> None:
    other = people["other_org_member"]
    req = _ask(people, "301")
    with pytest.raises(services.LimitExceeded):
        services.confirm_request(other, req.uid)
    db.session.rollback()
    assert db.session.get(PaymentRequest, req.id).status == RequestStatus.PENDING  # type: ignore[union-attr]


def test_a_confirmation_after_the_asker_left_is_refused(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    req = _ask(people)
    member.status = Status.INACTIVE
    db.session.commit()
    with pytest.raises(DomainError) as info:
        services.confirm_request(other, req.uid)
    assert info.value.field == "payee"
    org = people["org"]
    asked_org = services.request_payment(other, other.account_code, org.account_code, "5",
                                         "x", None)
    org.status = "inactive"
    db.session.commit()
    with pytest.raises(DomainError) as info:
        services.confirm_request(people["intermediary"], asked_org.uid)
    assert info.value.field == "payer"


def test_decline_and_withdraw_close_a_pending_request_once(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    declined = _ask(people)
    assert services.decline_request(other, declined.uid).status == RequestStatus.DECLINED
    assert declined.decided_by_id == other.id and declined.decided_at is not None
    assert services.decline_request(other, declined.uid).status == RequestStatus.DECLINED
    with pytest.raises(DomainError, match="no longer pending"):
        services.confirm_request(other, declined.uid)
    with pytest.raises(DomainError, match="no longer pending"):
        services.cancel_request(member, declined.uid)
    withdrawn = _ask(people)
    with pytest.raises(PermissionDenied):
        services.cancel_request(other, withdrawn.uid)
    assert services.cancel_request(member, withdrawn.uid).status == RequestStatus.CANCELLED
    assert withdrawn.decided_by_id == member.id
    with pytest.raises(DomainError, match="no longer pending"):
        services.decline_request(other, withdrawn.uid)
    paid = _ask(people)
    services.confirm_request(other, paid.uid)
    with pytest.raises(DomainError, match="no longer pending"):
        services.cancel_request(member, paid.uid)
    with pytest.raises(NotFound):
        services.decline_request(other, "0" * 16)


def test_pending_for_lists_what_waits_for_the_member_oldest_first(
        people: dict[str, Any]) -> None:
    member, other, inter, org = (people["member"], people["other_org_member"],
                                 people["intermediary"], people["org"])
    first = _ask(people)
    second = _ask(people)
    for_org = services.request_payment(member, member.account_code, org.account_code, "2",
                                       "x", None)
    closed = _ask(people)
    services.decline_request(other, closed.uid)
    assert [r.id for r in services.pending_for(other)] == [first.id, second.id]
    assert [r.id for r in services.pending_for(inter)] == [for_org.id]
    assert services.pending_for(member) == []
    assert services.pending_for(factories.make_candidate()) == []


def test_asked_by_lists_what_the_member_asked_newest_first(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    made = [_ask(people) for _ in range(3)]
    assert [r.id for r in services.asked_by(member)] == [r.id for r in reversed(made)]
    assert [r.id for r in services.asked_by(member, limit=2)] == [made[2].id, made[1].id]
    assert services.asked_by(other) == []
    assert services.asked_by(factories.make_candidate()) == []


def test_requests_are_listed_by_when_they_were_asked(people: dict[str, Any]) -> None:
    from datetime import timedelta

    from lets_site.database import utcnow

    member, other = people["member"], people["other_org_member"]
    later, earlier = _ask(people), _ask(people)
    later.created_at = utcnow() + timedelta(minutes=5)  # asked first, stamped later
    earlier.created_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert [r.id for r in services.pending_for(other)] == [earlier.id, later.id]
    assert [r.id for r in services.asked_by(member)] == [later.id, earlier.id]


def test_asked_by_shows_the_newest_twenty(people: dict[str, Any]) -> None:
    member = people["member"]
    made = [_ask(people) for _ in range(21)]
    shown = services.asked_by(member)
    assert len(shown) == 20 and made[0].id not in {r.id for r in shown}


def test_a_replayed_request_form_returns_its_own_request(people: dict[str, Any]) -> None:
    other_first = _ask(people)
    mine = _ask(people, key=KEY)
    assert _ask(people, key=KEY).id == mine.id != other_first.id


def ask_past_own_maximum(people: dict[str, Any]) -> tuple[Any, Any]:
    """The intermediary (balance 295, maximum 300) asks their organisation for 6: the
    intermediary, who may see both accounts, and the request."""
    inter, org, admin = people["intermediary"], people["org"], people["admin"]
    factories.make_transfer(admin, inter, "295")
    req = services.request_payment(inter, inter.account_code, org.account_code, "6", "x",
                                   None)
    return inter, req


def test_confirming_into_an_account_the_payer_may_see_tells_the_room_left(
        people: dict[str, Any]) -> None:
    """An intermediary asks the organisation to pay them, then confirms for it."""
    inter, req = ask_past_own_maximum(people)
    with pytest.raises(services.LimitExceeded) as info:
        services.confirm_request(inter, req.uid)
    assert str(info.value).endswith("The balance is 295 hours, so at most 5 hours can be received.")


def test_a_request_is_announced_with_its_asker(people: dict[str, Any]) -> None:
    from lets_site import signals

    seen: list[tuple[Any, Any]] = []

    def receiver(req: Any, actor: Any = None) -> None:
        seen.append((req, actor))

    signals.payment_requested.connect(receiver)
    try:
        req = _ask(people)
    finally:
        signals.payment_requested.disconnect(receiver)
    assert seen == [(req, people["member"])]
