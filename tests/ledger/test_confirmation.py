"""Money moves only after a summary is confirmed: paying, paying a request, declining."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import Account, PaymentRequest, Transfer
from tests import factories
from tests.html import main_text, select_text

KEY_RE = re.compile(r'name="key"[^>]*value="([^"]+)"')
HIDDEN_RE = re.compile(r'<input[^>]*type="hidden"[^>]*>')


def _transfers() -> int:
    return db.session.scalar(select(func.count(Transfer.id))) or 0


def _balance(code: str) -> int:
    return db.session.scalar(select(Account.balance).where(Account.code == code)) or 0


def _hidden(html: str, form_start: str) -> dict[str, str]:
    """The hidden fields of the form whose opening tag contains ``form_start``."""
    form = html[html.index(form_start):]
    form = form[:form.index("</form>")]
    fields = {}
    for tag in HIDDEN_RE.findall(form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1).replace("&amp;", "&") if value else ""
    return fields


def _review(client: Any, people: dict[str, Any], payee: str, amount: str) -> tuple[Any, str]:
    form = client.get("/ledger/pay").get_data(as_text=True)
    key = KEY_RE.search(form)
    assert key
    response = client.post_form("/ledger/pay", {
        "from_account": people["member"].account_code, "payee": payee, "amount": amount,
        "description": "Soep gemaakt", "key": key.group(1), "review": "1"})
    return response, key.group(1)


def test_summary_states_amount_payee_and_balance_after(client: Any, people: dict[str, Any],
                                                      login_as: Any) -> None:
    login_as("member")
    other = people["other_org_member"]
    factories.make_transfer(people["member"], other, "5", "Eerder")
    response, _key = _review(client, people, other.account_code, "20")
    assert response.status_code == 200
    summary = select_text(response, "#payment-summary")
    assert f"You pay 20 hours to {other.full_name} for “Soep gemaakt”." in summary
    assert "Your balance becomes -25 hours" in summary
    assert "lowest balance allowed" not in summary
    assert _transfers() == 1  # nothing booked by the summary
    assert _balance(people["member"].account_code) == -5


def test_summary_at_the_minimum_warns_and_one_past_it_is_refused(
        client: Any, people: dict[str, Any], login_as: Any) -> None:
    login_as("member")
    other = people["other_org_member"].account_code
    at_edge, _key = _review(client, people, other, "300")  # the default minimum is -300
    summary = select_text(at_edge, "#payment-summary")
    assert "Your balance becomes -300 hours" in summary
    assert "lowest balance allowed (-300 hours)" in summary
    past, _key = _review(client, people, other, "301")
    assert past.status_code == 200
    assert "payment-summary" not in past.get_data(as_text=True)
    assert "below its minimum of -300" in select_text(past, "#amount-error")
    assert _transfers() == 0


def test_confirm_books_once_with_the_first_forms_key(client: Any, people: dict[str, Any],
                                                     login_as: Any) -> None:
    login_as("member")
    other = people["other_org_member"]
    summary, key = _review(client, people, other.account_code.lower(), "7")
    confirm = _hidden(summary.get_data(as_text=True), 'class="confirm"')
    assert confirm["key"] == key  # one key from the first form to the confirmation
    assert confirm["payee"] == other.account_code
    assert "review" not in confirm
    first = client.post_form("/ledger/pay", confirm)
    assert first.status_code == 303
    # A double confirmation (double tap, a retry after a slow answer) books nothing new.
    second = client.post_form("/ledger/pay", confirm)
    assert second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert _transfers() == 1
    assert _balance(other.account_code) == 7
    page = client.get(second.headers["Location"])
    assert "already booked" in page.get_data(as_text=True)
    # The page after paying is headed in words, not with the transfer's key.
    assert select_text(page, "h1") == f"Payment to {other.full_name}"


def test_back_keeps_what_was_typed_and_the_key(client: Any, people: dict[str, Any],
                                               login_as: Any) -> None:
    login_as("member")
    other = people["other_org_member"].account_code
    summary, key = _review(client, people, other, "12")
    fields = _hidden(summary.get_data(as_text=True), 'class="confirm"')
    back = client.post_form("/ledger/pay", dict(fields, back="1"))
    assert back.status_code == 200
    html = back.get_data(as_text=True)
    assert select_text(back, "h1") == "Pay"
    assert f'name="payee" required type="text" value="{other}"' in html
    assert 'value="12"' in html and 'value="Soep gemaakt"' in html
    assert KEY_RE.search(html).group(1) == key  # type: ignore[union-attr]
    assert "error" not in select_text(back, "form")
    assert _transfers() == 0


def _request(people: dict[str, Any], amount: str = "6", payer: str = "member") -> Any:
    asker = people["other_org_member"]
    req = services.request_payment(asker, asker.account_code, people[payer].account_code
                                   if payer != "org" else people["org"].account_code,
                                   amount, "Fiets hersteld", None)
    db.session.commit()
    return req


def test_paying_a_request_shows_a_summary_first(client: Any, people: dict[str, Any],
                                                login_as: Any) -> None:
    req = _request(people)
    login_as("member")
    dashboard = client.get("/ledger/")
    pending = select_text(dashboard, "#pending-requests")
    # No button pays at once from the dashboard: both answers open a page that asks.
    html = dashboard.get_data(as_text=True)
    assert f'action="/ledger/requests/{req.uid}/confirm"' not in html
    assert f'action="/ledger/requests/{req.uid}/decline"' not in html
    assert f'href="/ledger/requests/{req.uid}/confirm"' in html
    assert "Otto Other" in pending and "asks you 6 hours" in pending
    page = client.get(f"/ledger/requests/{req.uid}/confirm")
    assert page.status_code == 200
    summary = select_text(page, "#payment-summary")
    asker = people["other_org_member"].full_name
    assert f"You pay 6 hours to {asker} for “Fiets hersteld”." in summary
    assert "Your balance becomes -6 hours" in summary
    assert _transfers() == 0
    confirm = _hidden(page.get_data(as_text=True), 'class="confirm"')
    done = client.post_form(f"/ledger/requests/{req.uid}/confirm", confirm)
    assert done.status_code == 303 and "/ledger/transfers/" in done.headers["Location"]
    again = client.post_form(f"/ledger/requests/{req.uid}/confirm", confirm)
    assert again.headers["Location"] == done.headers["Location"]
    assert _transfers() == 1
    # Paid: the page no longer offers to pay it.
    gone = client.get(f"/ledger/requests/{req.uid}/confirm")
    assert "no longer pending" in main_text(gone)
    assert 'class="confirm"' not in gone.get_data(as_text=True)


def test_request_past_the_limit_is_refused_on_its_summary(client: Any, people: dict[str, Any],
                                                          login_as: Any) -> None:
    req = _request(people, "301")
    login_as("member")
    page = client.get(f"/ledger/requests/{req.uid}/confirm")
    assert "below its minimum of -300" in main_text(page)
    assert 'class="confirm"' not in page.get_data(as_text=True)
    edge = _request(people, "300")
    summary = select_text(client.get(f"/ledger/requests/{edge.uid}/confirm"),
                          "#payment-summary")
    assert "lowest balance allowed" in summary


def test_declining_asks_once(client: Any, people: dict[str, Any], login_as: Any) -> None:
    req = _request(people)
    login_as("member")
    page = client.get(f"/ledger/requests/{req.uid}/decline")
    assert select_text(page, "h1") == "Decline the payment request?"
    asker = people["other_org_member"].full_name
    assert f"{asker} asks 6 hours for “Fiets hersteld”." in main_text(page)
    db.session.expire_all()
    assert db.session.get(PaymentRequest, req.id).status == "pending"
    fields = _hidden(page.get_data(as_text=True), 'class="confirm"')
    declined = client.post_form(f"/ledger/requests/{req.uid}/decline", fields)
    assert declined.status_code == 303
    db.session.expire_all()
    assert db.session.get(PaymentRequest, req.id).status == "declined"
    assert _transfers() == 0


def test_answer_pages_only_for_the_payer(client: Any, people: dict[str, Any],
                                         login_as: Any) -> None:
    req = _request(people)
    login_as("intermediary")
    assert client.get(f"/ledger/requests/{req.uid}/confirm").status_code == 403
    assert client.get(f"/ledger/requests/{req.uid}/decline").status_code == 403


def test_dashboard_request_time_without_seconds_and_asks_an_organisation(
        client: Any, people: dict[str, Any], login_as: Any) -> None:
    _request(people, payer="org")
    login_as("intermediary")
    pending = select_text(client.get("/ledger/"), "#pending-requests")
    assert "asks Hedera 6 hours" in pending
    assert "asks you" not in pending
    when = re.search(r"\d{1,2}:\d{2}(:\d{2})?", pending)
    assert when and when.group(1) is None, pending
