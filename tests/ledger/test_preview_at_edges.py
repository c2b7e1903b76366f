"""The payment summary (the step before a payment is confirmed) at its edges, at the
service: it checks everything :func:`pay` checks, refuses what ``pay`` would refuse with
the same message next to the same field, and writes nothing. The page tests
(tests/ledger/test_confirmation.py) show the summary; these pin down its rules
(scripts/mutation ledger-booking; docs/testing.md)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from lets_site.domain import DomainError, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import Account, Transfer
from lets_site.members.models import Status
from tests import factories

KEY = "k" * 20


@pytest.fixture(autouse=True)
def _request(app: Any) -> Any:
    """Messages are translated lazily, for the locale of a request."""
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


def _nothing_written(*codes: str) -> None:
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Transfer.id))) == 0
    for code in codes:
        balance = db.session.scalar(select(Account.balance).where(Account.code == code))
        assert balance in (None, 0), (code, balance)


def test_summary_of_a_payment_exactly_down_to_the_minimum(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    preview = services.preview_payment(member, member.account_code, other.account_code,
                                       "300", "  Soep gemaakt ", KEY, "17")
    assert preview.payer.code == member.account_code
    assert preview.payee.code == other.account_code
    assert preview.amount == 300
    assert preview.description == "Soep gemaakt"
    assert preview.listing_id == 17
    assert (preview.balance_after, preview.minimum) == (-300, -300)
    assert preview.at_minimum
    _nothing_written(member.account_code, other.account_code)


def test_summary_one_unit_past_the_minimum_is_refused_as_pay_refuses_it(
        people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    factories.make_transfer(member, admin, "290")
    with pytest.raises(services.LimitExceeded) as info:
        services.preview_payment(member, member.account_code, other.account_code, 11, "x",
                                 None)
    assert info.value.field == "amount"
    assert str(info.value) == (
        f"Refused: this would take the balance of {member.account_code} below its minimum "
        "of -300 hours. The balance is -290 hours, so at most 10 hours can be paid.")
    preview = services.preview_payment(member, member.account_code, other.account_code, 10,
                                       "x", None)
    assert (preview.amount, preview.balance_after, preview.minimum) == (10, -300, -300)
    assert preview.listing_id is None


def test_summary_takes_the_amount_as_typed_or_as_a_number(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    typed = services.preview_payment(member, member.account_code, other.account_code, "12",
                                     "x", None)
    number = services.preview_payment(member, member.account_code, other.account_code, 12,
                                      "x", None)
    assert typed.amount == number.amount == 12
    assert typed.balance_after == number.balance_after == -12
    with pytest.raises(DomainError) as info:
        services.preview_payment(member, member.account_code, other.account_code, "twaalf",
                                 "x", None)
    assert info.value.field == "amount"


def test_summary_shows_the_payers_own_minimum(people: dict[str, Any]) -> None:
    """An account with a minimum of its own: the summary counts with it, not the default."""
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    services.set_limits(admin, member.account_code, "-50", "80")
    factories.make_transfer(member, other, "20")
    preview = services.preview_payment(member, member.account_code, other.account_code, "30",
                                       "x", None)
    assert (preview.balance_after, preview.minimum) == (-50, -50)
    assert preview.at_minimum
    below = services.preview_payment(member, member.account_code, other.account_code, "29",
                                     "x", None)
    assert (below.balance_after, below.minimum) == (-49, -50)
    assert not below.at_minimum
    with pytest.raises(services.LimitExceeded, match="below its minimum of -50"):
        services.preview_payment(member, member.account_code, other.account_code, "31", "x",
                                 None)


def test_summary_refuses_past_the_payees_maximum_and_hides_their_balance(
        people: dict[str, Any]) -> None:
    member, other, admin = people["member"], people["other_org_member"], people["admin"]
    factories.make_transfer(admin, other, "295")
    assert services.preview_payment(member, member.account_code, other.account_code, "5",
                                    "x", None).amount == 5
    with pytest.raises(services.LimitExceeded) as info:
        services.preview_payment(member, member.account_code, other.account_code, "6", "x",
                                 None)
    assert info.value.field == "amount"
    assert str(info.value) == (
        f"Refused: this would take the balance of {other.account_code} above its maximum of "
        "300 hours. Ask them for a smaller amount or try again later.")


def test_summary_tells_the_room_left_to_a_payer_who_sees_the_payees_account(
        people: dict[str, Any]) -> None:
    """An intermediary paying from the organisation into their own account sees both."""
    inter, org, admin = people["intermediary"], people["org"], people["admin"]
    factories.make_transfer(admin, inter, "295")
    factories.make_transfer(people["member"], org, "50")
    with pytest.raises(services.LimitExceeded) as info:
        services.preview_payment(inter, org.account_code, inter.account_code, "6", "x", None)
    assert str(info.value).endswith(
        "The balance is 295 hours, so at most 5 hours can be received.")
    preview = services.preview_payment(inter, org.account_code, inter.account_code, "5", "x",
                                       None)
    assert (preview.payer.code, preview.balance_after) == (org.account_code, 45)


def test_summary_needs_a_description_of_at_most_200_characters(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    for text in ("", "   ", "d" * 201):
        with pytest.raises(DomainError) as info:
            services.preview_payment(member, member.account_code, other.account_code, "1",
                                     text, None)
        assert info.value.field == "description"
    assert services.preview_payment(member, member.account_code, other.account_code, "1",
                                    "d" * 200, None).description == "d" * 200


@pytest.mark.parametrize("key", ["short", "has space in it!!"])
def test_summary_refuses_a_damaged_form_key(people: dict[str, Any], key: str) -> None:
    member, other = people["member"], people["other_org_member"]
    with pytest.raises(DomainError, match="damaged"):
        services.preview_payment(member, member.account_code, other.account_code, "1", "x",
                                 key)
    for fine in (None, "", KEY):
        assert services.preview_payment(member, member.account_code, other.account_code, "1",
                                        "x", fine).amount == 1


def test_summary_only_from_an_account_the_member_acts_for(people: dict[str, Any]) -> None:
    member, other, inter = people["member"], people["other_org_member"], people["intermediary"]
    org = people["org"]
    for actor, payer in ((member, other.account_code), (member, org.account_code),
                         (people["admin"], member.account_code), (member, "")):
        with pytest.raises(PermissionDenied, match="cannot pay from account"):
            services.preview_payment(actor, payer, inter.account_code, "1", "x", None)
    factories.make_transfer(member, org, "20")
    preview = services.preview_payment(inter, org.account_code, member.account_code, "1",
                                       "x", None)
    assert (preview.payer.code, preview.balance_after) == (org.account_code, 19)


def test_summary_refuses_an_unknown_payee_next_to_its_field(people: dict[str, Any]) -> None:
    member = people["member"]
    for code, message in (("ZZ-999", "There is no account with code ZZ-999."),
                          ("", "Fill in an account code.")):
        with pytest.raises(DomainError) as info:
            services.preview_payment(member, member.account_code, code, "1", "x", None)
        assert info.value.field == "payee"
        assert str(info.value) == message


def test_summary_refuses_paying_ones_own_account_next_to_the_payee(
        people: dict[str, Any]) -> None:
    member = people["member"]
    with pytest.raises(DomainError) as info:
        services.preview_payment(member, member.account_code, member.account_code.lower(), "1",
                                 "x", None)
    assert info.value.field == "payee"
    assert str(info.value) == "You cannot pay your own account."


def test_summary_refuses_an_inactive_payer_or_payee_next_to_its_field(
        people: dict[str, Any]) -> None:
    member, other, inter, org = (people["member"], people["other_org_member"],
                                 people["intermediary"], people["org"])
    other.status = Status.INACTIVE
    db.session.commit()
    with pytest.raises(DomainError, match="not active") as info:
        services.preview_payment(member, member.account_code, other.account_code, "1", "x",
                                 None)
    assert info.value.field == "payee"
    org.status = "inactive"
    db.session.commit()
    with pytest.raises(DomainError, match="not active") as info:
        services.preview_payment(inter, org.account_code, member.account_code, "1", "x", None)
    assert info.value.field == "from_account"


def test_summary_of_a_payment_from_an_account_that_never_traded_writes_nothing(
        people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    preview = services.preview_payment(member, member.account_code.lower(),
                                       other.account_code, "1", "x", None, "")
    assert preview.payer.id is None and preview.payee.id is None
    assert preview.listing_id is None
    _nothing_written(member.account_code, other.account_code)
    assert db.session.scalar(select(func.count(Account.id))) == 0
