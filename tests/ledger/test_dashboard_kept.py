"""The member's part of /ledger/ (accounts, waiting requests, latest transfers) is kept per
process and per member (lets_site/fragments.py), until a write in any process: a payment
shows at once, in this worker or another (a second app on the same database and instance
folder, as a second gunicorn worker), and no member ever gets another member's kept part."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from lets_site.extensions import db
from lets_site.ledger import services
from tests import factories
from tests.conftest import AuthActions, Client, logged_in
from tests.html import main_text, select_text
from tests.queries import counted


def _ledger_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if "ledger_transfer" in s or "ledger_request" in s
            or "ledger_account" in s]


def test_the_dashboard_is_kept_until_a_payment(client: Client, login_as: Any,
                                               people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    factories.make_transfer(other, member, 5, "Soep op zondag")
    login_as("member")
    assert "Soep op zondag" in main_text(client.get("/ledger/"))
    with counted() as statements:
        page = client.get("/ledger/")
    assert "Soep op zondag" in main_text(page)
    assert _ledger_reads(statements) == []  # kept: no account, request or line read again
    balance = select_text(page, "p.big")

    factories.make_transfer(other, member, 7, "Fietsherstelling")  # a write: commits
    with counted() as statements:
        page = client.get("/ledger/")
    assert "Fietsherstelling" in main_text(page) and "Soep op zondag" in main_text(page)
    assert select_text(page, "p.big") != balance
    assert _ledger_reads(statements)


def test_a_request_and_its_answer_show_at_once(client: Client, login_as: Any,
                                               people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    login_as("member")
    client.get("/ledger/")
    req = services.request_payment(other, other.account_code, member.account_code, 3,
                                   "Tuinwerk", None)
    db.session.commit()
    assert "Tuinwerk" in select_text(client.get("/ledger/"), "#pending-requests")
    services.decline_request(member, req.uid)
    db.session.commit()
    assert "Tuinwerk" not in main_text(client.get("/ledger/"))



def test_no_member_sees_another_member_s_kept_part(app: Flask,
                                                  people: dict[str, Any]) -> None:
    member, other, host = people["member"], people["other_org_member"], factories.make_member()
    factories.make_transfer(member, host, 4, "Alleen voor Mia")
    factories.make_transfer(other, host, 6, "Alleen voor Otto")
    services.request_payment(host, host.account_code, member.account_code, 2,
                             "Verzoek aan Mia", None)
    db.session.commit()
    # Both log in first (a login is a write, which would empty the kept parts).
    mia, otto = logged_in(app, member), logged_in(app, other)

    mine = main_text(mia.get("/ledger/"))
    assert "Alleen voor Mia" in mine and "Verzoek aan Mia" in mine
    assert "Alleen voor Otto" not in mine
    with counted() as statements:
        assert main_text(mia.get("/ledger/")) == mine
    assert _ledger_reads(statements) == []  # Mia's part is kept now

    for _ in range(2):  # Otto's first request, and his kept part
        theirs = main_text(otto.get("/ledger/"))
        assert "Alleen voor Otto" in theirs and other.account_code in theirs
        assert "Alleen voor Mia" not in theirs and "Verzoek aan Mia" not in theirs
        assert member.account_code not in theirs
    assert main_text(mia.get("/ledger/")) == mine


def test_an_intermediary_s_kept_part_is_not_a_plain_member_s(
        app: Flask, people: dict[str, Any]) -> None:
    org, intermediary = people["org"], people["intermediary"]
    factories.make_transfer(people["member"], org, 2, "Soep bij Hedera")
    ivo, mia = logged_in(app, intermediary), logged_in(app, people["member"])
    for _ in range(2):  # the first request and the kept one: their own and Hedera's
        page = ivo.get("/ledger/").get_data(as_text=True)
        assert page.count('class="account-summary"') == 2 and org.account_code in page
    for _ in range(2):
        page = mia.get("/ledger/").get_data(as_text=True)
        assert page.count('class="account-summary"') == 1
        assert intermediary.account_code not in page



@pytest.mark.real_commits
def test_a_payment_in_another_worker_shows_at_once(app: Flask,
                                                   second_worker: Flask) -> None:
    assert second_worker.instance_path == app.instance_path
    member = factories.make_member(display_name="Mia Member")
    other = factories.make_member(display_name="Otto Other")
    factories.make_transfer(other, member, 5, "Soep op zondag")
    db.session.commit()
    worker = second_worker.test_client()
    assert AuthActions(worker).login(member.account_code).status_code == 303  # type: ignore[arg-type]
    first = worker.get("/ledger/")
    assert "Soep op zondag" in main_text(first)
    assert main_text(worker.get("/ledger/")) == main_text(first)  # kept there now

    factories.make_transfer(db.session.merge(other), db.session.merge(member), 7,
                            "Fietsherstelling")  # booked and committed in the first worker
    page = worker.get("/ledger/")
    assert "Fietsherstelling" in main_text(page)
    assert select_text(page, "p.big") != select_text(first, "p.big")
