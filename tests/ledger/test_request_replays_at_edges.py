"""Payment requests, the edges the first edge tests left: a form sent again after its
accounts changed, a copy another request stored meanwhile, requests of the same instant,
the pages that ask "pay this?" and "decline this?", the answer's announcement. Each test
kills mutants that the module's tests let live or that had been listed as equivalent
(scripts/mutation ledger-requests; docs/testing.md)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from lets_site import signals
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import PaymentRequest, RequestStatus
from lets_site.ledger.services import payment_requests
from tests.ledger.test_requests_at_edges import ask_past_own_maximum

KEY = "q" * 20


@pytest.fixture(autouse=True)
def _request(app: Any) -> Any:
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


def _ask(people: dict[str, Any], key: str | None = None, amount: str = "5",
         listing: str | None = None) -> PaymentRequest:
    """The member asks the organisation Vondels (other_org) to pay them."""
    member = people["member"]
    req = services.request_payment(member, member.account_code,
                                   people["other_org"].account_code, amount, "Soep", key,
                                   listing_id=listing)
    db.session.commit()
    return req


def test_a_request_form_sent_again_after_the_payer_closed_returns_its_request(
        people: dict[str, Any]) -> None:
    """The member's second click arrives after the paying organisation was closed: it
    is the same form, answered with the request it stored, not refused as a new one."""
    first = _ask(people, KEY)
    org = people["other_org"]
    org.status = "inactive"
    db.session.commit()
    assert _ask(people, KEY).id == first.id
    with pytest.raises(DomainError) as info:
        _ask(people, "p" * 20)
    assert info.value.field == "payer"


def test_a_copy_another_request_stored_meanwhile_is_the_one_returned(
        people: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two copies of the same form at once: the second read no request with its key, the
    first stored one in between. The second's insert meets the unique key and it answers
    with the request the first stored, as a replay."""
    member, org = people["member"], people["other_org"]
    payee = services._stored_account(member.account_code)
    payer = services._stored_account(org.account_code)
    stored: list[PaymentRequest] = []
    find = payment_requests.find_account

    def first_copy_stores_meanwhile(code: str) -> Any:
        if not stored:
            row = PaymentRequest(uid="f" * 16, payer_id=payer.id, payee_id=payee.id, amount=5,
                                 description="Soep", idempotency_key=KEY,
                                 created_by_id=member.id)
            db.session.add(row)
            db.session.flush()
            stored.append(row)
        return find(code)

    monkeypatch.setattr(payment_requests, "find_account", first_copy_stores_meanwhile)
    assert _ask(people, KEY).id == stored[0].id
    assert db.session.query(PaymentRequest).count() == 1


def test_requests_of_the_same_instant_are_listed_in_the_order_they_were_asked(
        people: dict[str, Any]) -> None:
    """The payer sees the first asked first; the asker sees the last asked first."""
    member, inter = people["member"], people["other_org_member"]
    made = [_ask(people) for _ in range(3)]
    now = utcnow()
    for req in made:
        req.created_at = now
    db.session.commit()
    ids = [r.id for r in made]
    assert [r.id for r in services.pending_for(inter)] == ids
    assert [r.id for r in services.asked_by(member)] == ids[::-1]
    assert {r.status for r in made} == {RequestStatus.PENDING}


def test_the_payer_side_sees_what_confirming_will_do(people: dict[str, Any]) -> None:
    """The "pay this?" page: Vondels' intermediary sees the request and the organisation's
    balance after paying it, and its minimum."""
    member, inter, org = people["member"], people["other_org_member"], people["other_org"]
    asked = _ask(people, amount="7", listing="3")
    req, preview = services.preview_request(inter, asked.uid)
    assert req.id == asked.id
    assert (preview.payer.code, preview.payee.code, preview.amount, preview.description,
            preview.listing_id) == (org.account_code, member.account_code, 7, "Soep", 3)
    assert (preview.balance_after, preview.minimum) == (-7, -300)
    assert req.status == RequestStatus.PENDING  # only shown: nothing is booked


@pytest.mark.parametrize("who", ["member", "admin", "intermediary"])
def test_only_the_payer_side_sees_the_pay_and_decline_pages(people: dict[str, Any],
                                                            who: str) -> None:
    req = _ask(people)
    with pytest.raises(PermissionDenied):
        services.preview_request(people[who], req.uid)
    with pytest.raises(PermissionDenied):
        services.pending_request(people[who], req.uid)


def test_the_pay_and_decline_pages_of_an_answered_or_unknown_request_are_refused(
        people: dict[str, Any]) -> None:
    inter = people["other_org_member"]
    req = _ask(people)
    assert services.pending_request(inter, req.uid).id == req.id
    services.decline_request(inter, req.uid)
    with pytest.raises(DomainError, match="no longer pending"):
        services.preview_request(inter, req.uid)
    with pytest.raises(DomainError, match="no longer pending"):
        services.pending_request(inter, req.uid)
    with pytest.raises(NotFound):
        services.preview_request(inter, "0" * 16)
    with pytest.raises(NotFound):
        services.pending_request(inter, "0" * 16)


def test_the_pay_page_refuses_closed_accounts_next_to_their_side(
        people: dict[str, Any]) -> None:
    member, inter, org = people["member"], people["other_org_member"], people["other_org"]
    req = _ask(people)
    member.status = "inactive"
    db.session.commit()
    with pytest.raises(DomainError) as info:
        services.preview_request(inter, req.uid)
    assert info.value.field == "payee"
    org.status = "inactive"
    db.session.commit()
    with pytest.raises(DomainError) as info:
        services.preview_request(inter, req.uid)
    assert info.value.field == "payer"


def test_the_pay_page_refuses_a_request_past_a_limit_as_confirming_would(
        people: dict[str, Any]) -> None:
    """Past the payer's minimum; and past the payee's maximum, told with the payee's balance
    to an intermediary who may see that account."""
    with pytest.raises(services.LimitExceeded):
        services.preview_request(people["other_org_member"], _ask(people, amount="301").uid)
    inter, req = ask_past_own_maximum(people)
    with pytest.raises(services.LimitExceeded) as info:
        services.preview_request(inter, req.uid)
    assert str(info.value).endswith(
        "The balance is 295 hours, so at most 5 hours can be received.")


@pytest.mark.parametrize("answer", ["confirm", "decline"])
def test_an_answer_is_announced_with_who_answered(people: dict[str, Any],
                                                  answer: str) -> None:
    inter = people["other_org_member"]
    req = _ask(people)
    seen: list[tuple[Any, Any]] = []

    def receiver(sender: Any, actor: Any = None) -> None:
        seen.append((sender, actor))

    signals.payment_request_answered.connect(receiver)
    try:
        if answer == "confirm":
            services.confirm_request(inter, req.uid)
        else:
            services.decline_request(inter, req.uid)
    finally:
        signals.payment_request_answered.disconnect(receiver)
    assert seen == [(req, inter)]


def test_pending_for_the_accounts_read_already_looks_up_no_account_again(
        people: dict[str, Any]) -> None:
    """The dashboard has read the member's accounts: the pending list reads the requests
    only."""
    inter = people["other_org_member"]
    asked = _ask(people)
    accounts = services.accounts_for(inter)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        pending = services.pending_for(inter, accounts)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [r.id for r in pending] == [asked.id]
    # The requests with their accounts (joined), and the organisations' intermediaries
    # they load; no account, member or organisation is looked up again.
    read = [statement.split()[1].split(".")[0] for statement in statements]
    assert read[0] == "ledger_request" and set(read) <= {"ledger_request", "intermediary"}
