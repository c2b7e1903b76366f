"""The ledger through the web: pay, requests, statements, admin pages, bad input."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from lets_site.domain import DomainError
from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import Account, PaymentRequest, Transfer
from tests import factories
from tests.html import main_text, select_text

KEY_RE = re.compile(r'name="key"[^>]*value="([^"]+)"')


def _key(client: Any, path: str = "/ledger/pay") -> str:
    match = KEY_RE.search(client.get(path).get_data(as_text=True))
    assert match
    return match.group(1)


def _pay(client: Any, people: dict[str, Any], to: str, amount: str, **extra: Any) -> Any:
    data = {"from_account": extra.pop("from_account", None) or people["member"].account_code,
            "payee": to, "amount": amount, "description": "Soep gemaakt",
            "key": extra.pop("key", None) or _key(client)}
    data.update(extra)
    return client.post_form("/ledger/pay", data)


def _balance(code: str) -> int:
    return db.session.scalar(select(Account.balance).where(Account.code == code)) or 0


def _transfers() -> int:
    return db.session.scalar(select(func.count(Transfer.id))) or 0


def test_pay_books_and_shows_transfer(client: Any, people: dict[str, Any], login_as: Any) -> None:
    login_as("member")
    other = people["other_org_member"].account_code
    response = _pay(client, people, other, "25")
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    facts = select_text(page, "dl.facts")
    assert "Amount 25 hours What for Soep gemaakt" in facts
    assert f"Balance of {people['member'].account_code} after this transfer: -25 hours" \
        in main_text(page)
    assert _balance(people["member"].account_code) == -25
    assert _balance(other) == 25
    # The header shows the new balance on every page, the account page in its summary.
    assert select_text(client.get("/"), "#ledger-balance") == "Balance: -25 hours"
    summary = select_text(client.get("/ledger/"), "section.account-summary")
    assert "Balance: -25 hours" in summary


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "more than zero"),
        ("-5", "more than zero"),
        ("twelve", "as a number"),
        ("1e9", "as a number"),
        ("1000000000", "too large"),
        ("12.5", "whole units"),
        ("", "Fill in an amount"),
    ],
)
def test_pay_refuses_bad_amounts(client: Any, people: dict[str, Any], login_as: Any,
                                 amount: str, message: str) -> None:
    login_as("member")
    response = _pay(client, people, people["other_org_member"].account_code, amount)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _transfers() == 0


def test_pay_too_many_decimals_with_two_decimal_group(client: Any, people: dict[str, Any],
                                                      login_as: Any) -> None:
    services.update_settings(people["admin"], services.SettingsData(2, "-300", "300", False))
    db.session.commit()
    login_as("member")
    response = _pay(client, people, people["other_org_member"].account_code, "1,234")
    assert "At most two decimals" in response.get_data(as_text=True)
    response = _pay(client, people, people["other_org_member"].account_code, "12,5")
    assert response.status_code == 303
    assert _balance(people["member"].account_code) == -1250


@pytest.mark.parametrize(
    ("payee", "message"),
    [("XX-999", "no account with code XX-999"), ("own", "your own account")],
)
def test_pay_refuses_bad_payee(client: Any, people: dict[str, Any], login_as: Any,
                               payee: str, message: str) -> None:
    login_as("member")
    code = people["member"].account_code if payee == "own" else payee
    response = _pay(client, people, code, "5")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _transfers() == 0


def test_pay_over_limit_states_limit_and_balance(client: Any, people: dict[str, Any],
                                                 login_as: Any) -> None:
    login_as("member")
    other = people["other_org_member"].account_code
    assert _pay(client, people, other, "280").status_code == 303
    response = _pay(client, people, other, "30")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "below its minimum of -300" in text and "The balance is -280" in text
    assert "at most 20" in text
    assert _balance(people["member"].account_code) == -280


def test_pay_refuses_payee_above_maximum_without_showing_balance(
        client: Any, people: dict[str, Any], login_as: Any) -> None:
    rich = people["other_org_member"]
    factories.make_transfer(people["admin"], rich, "290", "start", admin=people["admin"],
                            over_limit=True)
    login_as("member")
    text = _pay(client, people, rich.account_code, "20").get_data(as_text=True)
    assert "above its maximum of 300" in text
    # The payee's balance stays private (an account code such as TE-2909 may hold the
    # digits: only the number standing on its own counts).
    assert not re.search(r"(?<![\w-])290(?!\w)", text)


def test_replayed_pay_form_books_once(client: Any, people: dict[str, Any], login_as: Any) -> None:
    login_as("member")
    key = _key(client)
    first = _pay(client, people, people["other_org_member"].account_code, "7", key=key)
    second = _pay(client, people, people["other_org_member"].account_code, "7", key=key)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert _transfers() == 1
    assert "already booked" in client.get(second.headers["Location"]).get_data(as_text=True)


def test_inactive_account_cannot_be_paid(client: Any, people: dict[str, Any],
                                         login_as: Any) -> None:
    gone = factories.make_member(status="inactive")
    login_as("member")
    text = _pay(client, people, gone.account_code, "5").get_data(as_text=True)
    assert "is not active" in text
    assert _transfers() == 0


def test_intermediary_pays_for_own_organisation_only(client: Any, people: dict[str, Any],
                                                     login_as: Any) -> None:
    login_as("intermediary")
    org, other_org = people["org"], people["other_org"]
    form = client.get("/ledger/pay").get_data(as_text=True)
    assert org.account_code in form and other_org.account_code not in form
    ok = _pay(client, people, people["member"].account_code, "10",
              from_account=org.account_code)
    assert ok.status_code == 303
    assert _balance(org.account_code) == -10
    refused = _pay(client, people, people["member"].account_code, "10",
                   from_account=other_org.account_code)
    assert refused.status_code == 200
    assert _balance(other_org.account_code) == 0
    assert _transfers() == 1


def test_payment_request_confirmed_by_payer(client: Any, people: dict[str, Any],
                                            login_as: Any, auth: Any) -> None:
    login_as("member")
    response = client.post_form("/ledger/requests/new", {
        "to_account": people["member"].account_code,
        "payer": people["other_org_member"].account_code, "amount": "12",
        "description": "Fiets hersteld", "key": _key(client, "/ledger/requests/new")})
    assert response.status_code == 303
    auth.logout()
    auth.login(people["other_org_member"].account_code)
    dashboard = client.get("/ledger/").get_data(as_text=True)
    assert "Fiets hersteld" in select_text(dashboard, "#pending-requests")
    assert 'hx-get="/ledger/requests"' in dashboard
    partial = client.get("/ledger/requests", headers={"HX-Request": "true"})
    assert partial.get_data(as_text=True).lstrip().startswith('<section id="pending-requests"')
    assert "HX-Request" in partial.headers["Vary"]
    uid = db.session.scalar(select(PaymentRequest.uid))
    confirmed = client.post_form(f"/ledger/requests/{uid}/confirm")
    assert confirmed.status_code == 303
    assert _balance(people["member"].account_code) == 12
    # Confirming twice books once.
    client.post_form(f"/ledger/requests/{uid}/confirm")
    assert _transfers() == 1


def test_someone_elses_request_is_refused(client: Any, people: dict[str, Any],
                                          login_as: Any) -> None:
    req = services.request_payment(people["member"], people["member"].account_code,
                                   people["other_org_member"].account_code, "5", "Les",
                                   None)
    db.session.commit()
    login_as("intermediary")
    response = client.post_form(f"/ledger/requests/{req.uid}/confirm", follow_redirects=True)
    assert response.status_code == 200
    assert "not addressed to you" in response.get_data(as_text=True)
    assert _transfers() == 0
    assert client.post_form("/ledger/requests/nope/confirm").status_code == 404


def test_decline_and_cancel(client: Any, people: dict[str, Any], login_as: Any) -> None:
    member, other = people["member"], people["other_org_member"]
    first = services.request_payment(member, member.account_code, other.account_code, "5",
                                     "A", None)
    second = services.request_payment(member, member.account_code, other.account_code, "6",
                                      "B", None)
    db.session.commit()
    login_as("member")
    client.post_form(f"/ledger/requests/{second.uid}/cancel")
    text = client.post_form(f"/ledger/requests/{first.uid}/decline",
                            follow_redirects=True).get_data(as_text=True)
    assert "not addressed to you" in text
    db.session.expire_all()
    assert db.session.get(PaymentRequest, second.id).status == "cancelled"
    assert db.session.get(PaymentRequest, first.id).status == "pending"


def test_statement_privacy_csv_and_print(client: Any, people: dict[str, Any],
                                         login_as: Any, auth: Any) -> None:
    member, other = people["member"], people["other_org_member"]
    for n in range(1, 4):
        factories.make_transfer(member, other, str(n), f"Klus {n}")
    factories.make_transfer(member, other, "1", '=HYPERLINK("http://x")')
    login_as("member")
    page = client.get(f"/ledger/accounts/{member.account_code}")
    assert select_text(page, "dd.big") == "-7 hours"
    statement = select_text(page, "#statement")
    assert "Klus 3" in statement and "-3 hours -6 hours" in statement  # amount, balance after
    assert client.get(f"/ledger/accounts/{other.account_code}").status_code == 403
    csv_plain = client.get(f"/ledger/accounts/{member.account_code}/statement.csv")
    body = csv_plain.get_data(as_text=True)
    assert csv_plain.mimetype == "text/csv"
    assert body.splitlines()[0].startswith("\ufeffDate,Transfer,Account code")
    assert "Klus 2" in body and ",-3," in body
    assert "'=HYPERLINK" in body  # kept as text, not run as a formula
    printed = client.get(f"/ledger/accounts/{member.account_code}/print")
    assert "Klus 1" in printed.get_data(as_text=True)
    assert "ledger.css" in printed.get_data(as_text=True)
    auth.logout()
    auth.login(people["admin"].account_code)
    assert client.get(f"/ledger/accounts/{other.account_code}").status_code == 200


def test_statement_period_filter_and_pagination(client: Any, people: dict[str, Any],
                                                login_as: Any) -> None:
    member, other = people["member"], people["other_org_member"]
    for n in range(services.STATEMENT_PAGE_SIZE + 5):
        factories.make_transfer(other, member, "1", f"Item {n}")
    login_as("member")
    first = client.get(f"/ledger/accounts/{member.account_code}").get_data(as_text=True)
    assert "Item 54" in first and "Item 0<" not in first and 'rel="next"' in first
    second = client.get(f"/ledger/accounts/{member.account_code}?page=2",
                        headers={"HX-Request": "true"}).get_data(as_text=True)
    assert second.lstrip().startswith('<section id="statement">') and "Item 0<" in second
    empty = client.get(f"/ledger/accounts/{member.account_code}?start=2001-01-01&end=2001-12-31")
    assert "No transfers in this period" in empty.get_data(as_text=True)


def test_group_page_hides_balances_by_default(client: Any, people: dict[str, Any],
                                              login_as: Any) -> None:
    factories.make_transfer(people["member"], people["other_org_member"], "17")
    login_as("intermediary")
    text = client.get("/ledger/group").get_data(as_text=True)
    assert "Individual balances are private" in text
    assert people["other_org_member"].display_name not in text
    settings = services.get_settings()
    settings.balances_visible = True
    db.session.add(settings)
    db.session.commit()
    text = main_text(client.get("/ledger/group"))
    assert f"{people['other_org_member'].display_name} " \
        f"{people['other_org_member'].account_code} 17 hours" in text


def test_admin_booking_over_limit_needs_checkbox(client: Any, people: dict[str, Any],
                                                 login_as: Any) -> None:
    login_as("admin")
    data = {"payer": people["member"].account_code,
            "payee": people["other_org_member"].account_code,
            "amount": "400", "description": "Correctie"}
    refused = client.post_form("/admin/ledger/book", dict(data, key=_key(client,
                                                                          "/admin/ledger/book")))
    assert refused.status_code == 200 and "below its minimum" in refused.get_data(as_text=True)
    booked = client.post_form("/admin/ledger/book",
                              dict(data, key=_key(client, "/admin/ledger/book"),
                                   allow_over_limit="y"))
    assert booked.status_code == 303
    assert _balance(people["member"].account_code) == -400
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "Booked a transfer between members" in audit


def test_admin_correction_reverses_and_is_audited(client: Any, people: dict[str, Any],
                                                  login_as: Any) -> None:
    t = factories.make_transfer(people["member"], people["other_org_member"], "9", "Vergissing")
    login_as("admin")
    form = client.get(f"/admin/ledger/transfers/{t.uid}/reverse").get_data(as_text=True)
    key = KEY_RE.search(form).group(1)
    no_reason = client.post_form(f"/admin/ledger/transfers/{t.uid}/reverse", {"key": key})
    assert no_reason.status_code == 200
    done = client.post_form(f"/admin/ledger/transfers/{t.uid}/reverse",
                            {"key": key, "reason": "Verkeerde rekening"})
    assert done.status_code == 303
    assert _balance(people["member"].account_code) == 0
    again = client.post_form(f"/admin/ledger/transfers/{t.uid}/reverse",
                             {"key": services.new_key(), "reason": "Nog eens"})
    assert "already corrected by" in again.get_data(as_text=True)
    assert _transfers() == 2
    assert "Booked a correction" in client.get("/admin/audit").get_data(as_text=True)


def test_mass_contribution_preview_then_book(client: Any, people: dict[str, Any],
                                             login_as: Any) -> None:
    login_as("admin")
    data = {"kind": "contribution", "amount": "2", "description": "Bijdrage januari",
            "key": _key(client, "/admin/ledger/mass"), "step": "preview"}
    preview = client.post_form("/admin/ledger/mass", data)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Book all" in text
    assert _transfers() == 0
    fingerprint = re.search(r'name="fingerprint"[^>]*value="([^"]+)"', text).group(1)
    booked = client.post_form("/admin/ledger/mass", dict(data, step="book",
                                                         fingerprint=fingerprint))
    assert booked.status_code == 303
    holders = 4 + 2  # four active members, two organisations
    assert _transfers() == holders
    group = services.group_account()
    assert group is not None and group.balance == 2 * holders
    # A replay books nothing more, and says so.
    again = client.post_form("/admin/ledger/mass", dict(data, step="book",
                                                        fingerprint=fingerprint),
                             follow_redirects=True)
    assert "already booked (6 transfers); it is not booked twice" in again.get_data(as_text=True)
    assert _transfers() == holders


def test_mass_transfer_is_all_or_nothing(client: Any, people: dict[str, Any],
                                         login_as: Any) -> None:
    factories.make_transfer(people["member"], people["admin"], "299", admin=people["admin"])
    login_as("admin")
    data = {"kind": "contribution", "amount": "2", "description": "Bijdrage",
            "key": _key(client, "/admin/ledger/mass"), "step": "preview"}
    text = client.post_form("/admin/ledger/mass", data).get_data(as_text=True)
    assert "past the limit" in text
    fingerprint = re.search(r'name="fingerprint"[^>]*value="([^"]+)"', text).group(1)
    refused = client.post_form("/admin/ledger/mass", dict(data, step="book",
                                                          fingerprint=fingerprint))
    assert refused.status_code == 200 and "below its minimum" in refused.get_data(as_text=True)
    assert _transfers() == 1


def test_admin_limits_history(client: Any, people: dict[str, Any], login_as: Any) -> None:
    login_as("admin")
    code = people["member"].account_code
    response = client.post_form(f"/admin/ledger/accounts/{code}/limits",
                                {"min_balance": "-50", "max_balance": ""})
    assert response.status_code == 303
    page = client.get(f"/ledger/accounts/{code}")
    assert "from -50 hours to 300 hours" in select_text(page, "dl.facts")
    # The history names who changed it (the header names the admin who is reading).
    assert "Ada Admin default / default -50 hours / default" in main_text(page)
    bad = client.post_form(f"/admin/ledger/accounts/{code}/limits", {"min_balance": "10"})
    assert "cannot be above zero" in bad.get_data(as_text=True)


def test_admin_overview_and_settings(client: Any, people: dict[str, Any],
                                     login_as: Any) -> None:
    factories.make_transfer(people["member"], people["other_org_member"], "290", "Groot werk")
    login_as("admin")
    text = main_text(client.get("/admin/ledger"))
    assert "Accounts near their limits" in text and people["member"].display_name in text
    saved = client.post_form("/admin/ledger/settings", {
        "decimals": "0", "default_min": "-100", "default_max": "200"})
    assert saved.status_code == 303
    assert services.get_settings().default_min == -100
    refused = client.post_form("/admin/ledger/settings", {
        "decimals": "2", "default_min": "-100", "default_max": "200"})
    assert "cannot change once transfers" in refused.get_data(as_text=True)


@pytest.mark.real_commits  # the command sets its own transaction's isolation level
def test_check_command_passes_and_fails(runner: Any, people: dict[str, Any]) -> None:
    factories.make_transfer(people["member"], people["other_org_member"], "5")
    ok = runner.invoke(args=["ledger", "check"])
    assert ok.exit_code == 0, ok.output
    assert "Ledger OK" in ok.output
    account = db.session.scalar(select(Account).where(
        Account.code == people["member"].account_code))
    account.balance += 1
    db.session.commit()
    bad = runner.invoke(args=["ledger", "check"])
    assert bad.exit_code == 1
    assert "sum of all balances is 1" in bad.output


def test_transfer_page_only_for_parties_and_admins(client: Any, people: dict[str, Any],
                                                   login_as: Any, auth: Any) -> None:
    t = factories.make_transfer(people["member"], people["other_org_member"], "2", "Privé")
    login_as("intermediary")
    assert client.get(f"/ledger/transfers/{t.uid}").status_code == 403
    auth.logout()
    auth.login(people["other_org_member"].account_code)
    page = client.get(f"/ledger/transfers/{t.uid}").get_data(as_text=True)
    assert "Privé" in page
    # The payee sees their own balance after the transfer, not the payer's.
    assert f"Balance of {people['other_org_member'].account_code} after" in page
    assert f"Balance of {people['member'].account_code} after" not in page


def test_intermediary_confirms_request_to_organisation(client: Any, people: dict[str, Any],
                                                      login_as: Any) -> None:
    org = people["org"]
    req = services.request_payment(people["member"], people["member"].account_code,
                                   org.account_code, "8", "Wandeling", None)
    db.session.commit()
    login_as("intermediary")
    assert "Wandeling" in select_text(client.get("/ledger/"), "#pending-requests")
    response = client.post_form(f"/ledger/requests/{req.uid}/confirm")
    assert response.status_code == 303
    assert _balance(org.account_code) == -8
    assert _balance(people["member"].account_code) == 8


def test_confirming_request_over_limit_is_refused_with_message(
        client: Any, people: dict[str, Any], login_as: Any) -> None:
    member, other = people["member"], people["other_org_member"]
    req = services.request_payment(other, other.account_code, member.account_code, "301",
                                   "Te veel", None)
    db.session.commit()
    login_as("member")
    response = client.post_form(f"/ledger/requests/{req.uid}/confirm", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "below its minimum of -300" in text and "at most 300" in text
    assert _transfers() == 0
    db.session.expire_all()
    assert db.session.get(PaymentRequest, req.id).status == "pending"


def test_admin_sees_every_balance_on_group_page(client: Any, people: dict[str, Any],
                                                login_as: Any) -> None:
    factories.make_transfer(people["member"], people["other_org_member"], "17")
    login_as("admin")
    text = main_text(client.get("/ledger/group"))
    assert f"{people['other_org_member'].display_name} " \
        f"{people['other_org_member'].account_code} 17 hours" in text
    assert "Individual balances are private" not in text


def test_transfer_links_to_its_listing(client: Any, people: dict[str, Any],
                                       login_as: Any) -> None:
    t = factories.make_transfer(people["member"], people["other_org_member"], "2", "Fiets",
                                listing_id="17")
    login_as("member")
    page = client.get(f"/ledger/transfers/{t.uid}").get_data(as_text=True)
    assert 'href="/offers/17"' in page


def test_a_request_cannot_be_settled_by_a_payment_that_reuses_its_key(
        client: Any, people: dict[str, Any], login_as: Any) -> None:
    """The payer may not forge the request's own booking key on an unrelated small payment
    and then have the request count as paid."""
    requester, payer = people["intermediary"], people["member"]
    req = services.request_payment(requester, requester.account_code, payer.account_code,
                                   "50", "Verhuis", None)
    db.session.commit()
    login_as("member")
    for forged in (f"request-{req.uid}", f"request:{req.uid}"):
        response = _pay(client, people, people["admin"].account_code, "1", key=forged)
        assert response.status_code in (200, 303)
    client.post_form(f"/ledger/requests/{req.uid}/confirm")
    db.session.refresh(req)
    assert req.status == "paid"
    assert _balance(requester.account_code) == 50


def test_statement_survives_odd_periods_and_query_names(client: Any, people: dict[str, Any],
                                                        login_as: Any) -> None:
    login_as("member")
    code = people["member"].account_code
    for query in ("start=0001-01-01", "end=9999-12-31", "start=2026-13-45", "endpoint=x",
                  f"code={people['admin'].account_code}", "excel=1", "_external=1&page=1"):
        for path in (f"/ledger/accounts/{code}", f"/ledger/accounts/{code}/statement.csv",
                     f"/ledger/accounts/{code}/print"):
            response = client.get(f"{path}?{query}")
            assert response.status_code == 200, (path, query)
    page = client.get(f"/ledger/accounts/{code}?_external=1").get_data(as_text=True)
    assert 'href="http' not in page.split("<footer", 1)[0].split("</header>", 1)[1]


def test_decimals_cannot_change_while_single_account_limits_exist(
        client: Any, people: dict[str, Any]) -> None:
    admin = people["admin"]
    services.update_settings(admin, services.SettingsData(
        decimals=2, default_min="-300", default_max="300", balances_visible=False))
    services.set_limits(admin, people["member"].account_code, "-50", "80")
    db.session.commit()
    with pytest.raises(DomainError, match="decimals cannot change"):
        services.update_settings(admin, services.SettingsData(
            decimals=0, default_min="-300", default_max="300", balances_visible=False))


def test_admin_pays_from_an_organisation_only_through_the_audited_admin_booking(
        client: Any, people: dict[str, Any], login_as: Any) -> None:
    login_as("admin")
    response = _pay(client, people, people["member"].account_code, "5",
                    from_account=people["org"].account_code)
    assert response.status_code in (200, 403)
    assert _transfers() == 0
