"""Payment requests, the edges the first edge tests left: a form sent again after its
accounts changed, a copy another request stored meanwhile, requests of the same instant.
Each test kills mutants the mutation runs had listed as equivalent (scripts/mutation
ledger-requests; docs/testing.md)."""

from __future__ import annotations

from typing import Any

import pytest

from lets_site.database import utcnow
from lets_site.domain import DomainError
from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import PaymentRequest, RequestStatus
from lets_site.ledger.services import payment_requests

KEY = "q" * 20


@pytest.fixture(autouse=True)
def _request(app: Any) -> Any:
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


def _ask(people: dict[str, Any], key: str | None = None) -> PaymentRequest:
    """The member asks the organisation Vondels (other_org) to pay them."""
    member = people["member"]
    req = services.request_payment(member, member.account_code,
                                   people["other_org"].account_code, "5", "Soep", key)
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
