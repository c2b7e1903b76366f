"""Each notification: what arrives at a real SMTP server (content, language, links the
test client follows), and that the member's switch turns exactly that one off."""

from __future__ import annotations

from typing import Any

import pytest

from lets_site.extensions import db
from lets_site.ledger import services as ledger
from lets_site.members.models import Member
from lets_site.notifications import receivers, services
from tests import factories
from tests.notifications.conftest import Server, body, link


def switch_off(member: Member, key: str) -> None:
    on = [k for k, value in services.preferences(member).items() if value and k != key]
    services.save_preferences(member, member, on)
    db.session.commit()


def login(client: Any, member: Member) -> None:
    response = client.post_form("/login", {"identifier": member.account_code,
                                           "password": factories.PASSWORD})
    assert response.status_code == 303


# --- Payments -------------------------------------------------------------------------------


def test_payment_received_arrives_in_the_payees_language_with_a_working_link(
    app: Any, smtp: Server, make_member: Any, client: Any
) -> None:
    payer = make_member(display_name="Piet", locale="en")
    payee = make_member(display_name="Fanny", locale="fr")
    transfer = factories.make_transfer(payer, payee, 12, "Tuinwerk")
    (message,) = smtp.to(payee.email)
    assert message["From"] == "lets@example.org"
    assert message["Message-ID"]
    text = body(message)
    assert text.startswith("Bonjour ") and "heures" in text  # the payee's language
    assert "Piet" in message["Subject"] and "Tuinwerk" in text
    assert smtp.to(payer.email) == []  # the payer is not told of their own payment
    login(client, payee)
    page = client.get(link(message, "/ledger/transfers/"))
    assert page.status_code == 200 and transfer.uid in link(message, "/ledger/transfers/")


def test_payment_received_switched_off_sends_nothing_and_keeps_the_others(
    app: Any, smtp: Server, make_member: Any
) -> None:
    payer, payee = make_member(), make_member()
    switch_off(payee, receivers.PAYMENT_RECEIVED)
    factories.make_transfer(payer, payee, 12)
    assert smtp.to(payee.email) == []
    # Another kind for the same member still arrives.
    ledger.request_payment(payer, payer.account_code, payee.account_code, 5, "x", None)
    db.session.commit()
    assert len(smtp.to(payee.email)) == 1


def test_a_payment_request_waiting_links_to_confirm_and_decline_behind_login(
    app: Any, smtp: Server, make_member: Any, client: Any
) -> None:
    payee = make_member(display_name="Rita", locale="en")
    payer = make_member(display_name="Sam", locale="nl")
    req = ledger.request_payment(payee, payee.account_code, payer.account_code, 7,
                                 "Soep", None)
    db.session.commit()
    (message,) = smtp.to(payer.email)
    assert body(message).startswith("Dag ")
    confirm = link(message, "/confirm")
    decline = link(message, "/decline")
    assert req.uid in confirm and req.uid in decline
    # Behind login: a visitor is sent to the login page.
    answer = client.get(confirm)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    login(client, payer)
    assert client.get(confirm).status_code == 200
    assert client.get(decline).status_code == 200
    # Pay it through the link's page: the requester is told.
    client.post_form(confirm)
    (answered,) = smtp.to(payee.email)
    assert "paid" in answered["Subject"] and "Sam" in answered["Subject"]
    assert body(answered).startswith("Hello ")


def test_a_declined_request_tells_the_requester(
    app: Any, smtp: Server, make_member: Any
) -> None:
    payee = make_member(locale="en")
    payer = make_member()
    req = ledger.request_payment(payee, payee.account_code, payer.account_code, 7, "x", None)
    db.session.commit()
    ledger.decline_request(payer, req.uid)
    db.session.commit()
    (message,) = smtp.to(payee.email)
    assert "declined" in message["Subject"]


@pytest.mark.parametrize("key", [receivers.REQUEST_WAITING, receivers.REQUEST_ANSWERED])
def test_request_notifications_switch_off_one_by_one(
    app: Any, smtp: Server, make_member: Any, key: str
) -> None:
    payee, payer = make_member(), make_member()
    switch_off(payer if key == receivers.REQUEST_WAITING else payee, key)
    req = ledger.request_payment(payee, payee.account_code, payer.account_code, 7, "x", None)
    db.session.commit()
    ledger.decline_request(payer, req.uid)
    db.session.commit()
    if key == receivers.REQUEST_WAITING:
        assert smtp.to(payer.email) == [] and len(smtp.to(payee.email)) == 1
    else:
        assert smtp.to(payee.email) == [] and len(smtp.to(payer.email)) == 1


def test_near_the_limit_once_per_crossing_not_on_every_payment(
    app: Any, smtp: Server, make_member: Any
) -> None:
    """The default minimum is -300: the zone starts at -270 (a tenth above it)."""
    payer = make_member(locale="en")
    other = make_member()
    switch_off(other, receivers.PAYMENT_RECEIVED)
    assert receivers.near_limit_threshold(-300) == -270
    factories.make_transfer(payer, other, 269)  # -269: outside the zone
    assert smtp.to(payer.email) == []
    factories.make_transfer(payer, other, 1)  # -270: in it
    (message,) = smtp.to(payer.email)
    assert "minimum" in message["Subject"]
    assert "-270" in body(message).replace("\u2212", "-")
    factories.make_transfer(payer, other, 5)  # -275: still in it, no new mail
    assert len(smtp.to(payer.email)) == 1
    switch_off(payer, receivers.PAYMENT_RECEIVED)
    factories.make_transfer(other, payer, 50)  # -225: out again
    factories.make_transfer(payer, other, 45)  # -270: a second crossing
    assert len(smtp.to(payer.email)) == 2


def test_near_the_limit_switched_off(app: Any, smtp: Server, make_member: Any) -> None:
    payer, other = make_member(), make_member()
    switch_off(payer, receivers.NEAR_LIMIT)
    switch_off(other, receivers.PAYMENT_RECEIVED)
    factories.make_transfer(payer, other, 280)
    assert smtp.to(payer.email) == []


def test_the_group_default_applies_until_the_member_chooses(
    app: Any, smtp: Server, make_member: Any, make_admin: Any
) -> None:
    admin = make_admin()
    payer, payee = make_member(), make_member()
    on = [k.key for k in services.kinds() if k.key != receivers.PAYMENT_RECEIVED]
    services.save_defaults(admin, on)
    db.session.commit()
    factories.make_transfer(payer, payee, 3)
    assert smtp.to(payee.email) == []  # the group's default: off
    services.save_preferences(payee, payee, [receivers.PAYMENT_RECEIVED])
    db.session.commit()
    factories.make_transfer(payer, payee, 3)
    assert len(smtp.to(payee.email)) == 1  # the member's own choice wins


# --- Answers, candidates ---------------------------------------------------------------------


def test_an_answer_to_a_listing_arrives_and_its_switch_turns_it_off(
    app: Any, smtp: Server, make_member: Any
) -> None:
    from lets_site.offers import services as offers
    from tests.offers.conftest import make_listing

    owner, answerer = make_member(locale="en"), make_member()
    listing = make_listing(owner, "Bike repair")
    offers.respond(answerer, listing, "I need this")
    db.session.commit()
    (message,) = smtp.to(owner.email)
    assert "Bike repair" in message["Subject"] and "I need this" in body(message)
    switch_off(owner, offers.ANSWERED)
    offers.respond(make_member(), listing, "Me too")
    db.session.commit()
    assert len(smtp.to(owner.email)) == 1


def test_new_candidate_goes_to_admins_who_did_not_switch_it_off(
    app: Any, smtp: Server, make_admin: Any, make_member: Any
) -> None:
    from lets_site.members import services as members

    keen, quiet = make_admin(locale="en"), make_admin()
    assert members.NEW_CANDIDATE not in services.preferences(make_member())  # admins only
    switch_off(quiet, members.NEW_CANDIDATE)
    members.register_candidate(members.ProfileData(display_name="Nina", full_name="Nina N",
                                                   email="nina@example.org"),
                               "a good long password")
    db.session.commit()
    (message,) = smtp.to(keen.email)
    assert "Nina" in message["Subject"]
    assert smtp.to(quiet.email) == []


def test_a_paid_request_is_one_mail_to_the_requester_whatever_they_switched_off(
    app: Any, smtp: Server, make_member: Any
) -> None:
    """Answered on: "your request was paid". Answered off: the payment received mail
    (for who wants to hear of payments). Both off: nothing."""
    payer = make_member()
    for off, expected in (((), 1), ((receivers.REQUEST_ANSWERED,), 1),
                          ((receivers.REQUEST_ANSWERED, receivers.PAYMENT_RECEIVED), 0)):
        payee = make_member(locale="en")
        for key in off:
            switch_off(payee, key)
        req = ledger.request_payment(payee, payee.account_code, payer.account_code, 2, "x",
                                     None)
        db.session.commit()
        ledger.confirm_request(payer, req.uid)
        db.session.commit()
        assert len(smtp.to(payee.email)) == expected, off


def test_a_back_dated_transfer_the_demo_or_an_import_books_sends_nothing(
    app: Any, smtp: Server, make_member: Any
) -> None:
    from datetime import timedelta

    from lets_site.database import utcnow
    from lets_site.ledger.models import TransferKind
    from lets_site.ledger.services.accounts import _stored_account
    from lets_site.ledger.services.booking import _book

    payer, payee = make_member(), make_member()
    for days, amount in ((2, 280), (0, 1)):
        _book(None, _stored_account(payer.account_code),
              _stored_account(payee.account_code), amount, "x",
              kind=TransferKind.PAYMENT, at=utcnow() - timedelta(days=days))
        db.session.commit()
        # Two days back: no "payment received", no "near the limit" (-280).
        assert len(smtp.to(payee.email)) == (0 if days else 1)
        assert smtp.to(payer.email) == []
