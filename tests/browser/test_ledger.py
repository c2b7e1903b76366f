"""The ledger in a real browser, with JavaScript on (htmx boosts, the pending-request list
refreshes in place) and off (plain forms): a member pays another, the header balance
follows; the payee asks for a payment and the payer pays it from the dashboard; a
double-submitted form books once.

Assertions use structure (URLs, ids, form actions) and the data the test typed, never
translated strings."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import Account, Transfer
from tests import factories
from tests.browser import test_foundation, test_text_browser
from tests.browser.conftest import LiveServer
from tests.browser.test_foundation import MODES, log_in

pytestmark = pytest.mark.browser
# Fixtures from the foundation's browser tests: tabs that collect script and CSP errors,
# and w3m in a tmux window.
tabs = test_foundation.tabs
tmux = test_text_browser.tmux
w3m_env = test_text_browser.w3m_env


def _balance(live_server: LiveServer, code: str) -> int:
    return live_server.run(lambda: db.session.scalar(
        select(Account.balance).where(Account.code == code)) or 0)


@pytest.mark.parametrize("javascript", MODES)
def test_pay_request_and_confirm(live_server: LiveServer, tabs: Any, javascript: bool) -> None:
    from playwright.sync_api import expect

    def seed() -> tuple[str, str]:
        return (factories.make_member(display_name="Piet Payer").account_code,
                factories.make_member(display_name="Rita Receiver").account_code)

    payer_code, payee_code = live_server.run(seed)

    payer = tabs(javascript).page
    log_in(payer, payer_code)
    expect(payer.locator("#ledger-balance .num")).to_have_text("0 hours")
    payer.click('header a[href="/ledger/"]')
    payer.click('main a[href^="/ledger/pay"]')
    payer.fill("#payee", payee_code)
    payer.fill("#amount", "12")
    payer.fill("#description", "Fiets hersteld")
    payer.click('form[action="/ledger/pay"] button[type=submit]')
    expect(payer).to_have_url(re.compile(r"/ledger/transfers/[0-9a-f]{16}$"))
    expect(payer.locator("main")).to_contain_text("Fiets hersteld")
    # The header balance follows the transfer.
    expect(payer.locator("#ledger-balance .num")).to_have_text("-12 hours")
    assert _balance(live_server, payee_code) == 12

    # The payee asks for a payment.
    payee = tabs(javascript).page
    log_in(payee, payee_code)
    payee.goto("/ledger/requests/new")
    payee.fill("#payer", payer_code)
    payee.fill("#amount", "5")
    payee.fill("#description", "Soep gemaakt")
    payee.click('form[action="/ledger/requests/new"] button[type=submit]')
    expect(payee).to_have_url(re.compile(r"/ledger/requests$"))

    # The payer sees it on the dashboard (with JavaScript: it appears without a reload,
    # through the list's own refresh link) and pays it.
    pending = payer.locator("#pending-requests")
    if javascript:
        payer.goto("/ledger/")
        payer.evaluate("window.__sameDocument = true")
        pending.locator('a[href="/ledger/requests"]').click()
        expect(pending).to_contain_text("Soep gemaakt")
        assert payer.evaluate("window.__sameDocument === true"), "the refresh reloaded the page"
    else:
        payer.goto("/ledger/")
        expect(pending).to_contain_text("Soep gemaakt")
    pending.locator('form[action$="/confirm"] button[type=submit]').click()
    expect(payer).to_have_url(re.compile(r"/ledger/transfers/[0-9a-f]{16}$"))
    expect(payer.locator("#ledger-balance .num")).to_have_text("-17 hours")
    assert _balance(live_server, payee_code) == 17

    # The statement lists both, newest first, with the running balance.
    payer.goto(f"/ledger/accounts/{payer_code}")
    rows = payer.locator("#statement tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Soep gemaakt")
    expect(rows.first.locator("td").last).to_contain_text("-17")


@pytest.mark.parametrize("javascript", MODES)
def test_double_submit_books_once(live_server: LiveServer, tabs: Any, javascript: bool) -> None:
    from playwright.sync_api import expect

    def seed() -> tuple[str, str]:
        return (factories.make_member().account_code, factories.make_member().account_code)

    payer_code, payee_code = live_server.run(seed)
    page = tabs(javascript).page
    log_in(page, payer_code)
    page.goto("/ledger/pay")
    page.fill("#payee", payee_code)
    page.fill("#amount", "3")
    page.fill("#description", "Twee keer geklikt")
    form = {name: page.input_value(f'form[action="/ledger/pay"] [name="{name}"]')
            for name in ("csrf_token", "key", "from_account", "payee", "amount",
                         "description")}
    page.click('form[action="/ledger/pay"] button[type=submit]')
    expect(page).to_have_url(re.compile(r"/ledger/transfers/"))
    first = page.url
    # The same form sent again from this browser session (a double click, a retry after
    # a slow answer): it answers with the same transfer and books nothing new.
    again = page.request.post("/ledger/pay", form=form, max_redirects=0)
    assert again.status == 303
    assert first.endswith(again.headers["location"])
    count = live_server.run(lambda: db.session.scalar(select(func.count(Transfer.id))))
    assert count == 1
    assert live_server.run(services.check) == []


def test_w3m_pay_form_submits(live_server: LiveServer, w3m: str, tmux: Any) -> None:
    """A member pays with the text browser w3m, typing into the form with w3m's own keys
    (see test_text_browser.test_w3m_login_form_submits for how tmux drives w3m)."""
    from tests.browser.test_text_browser import session_cookie

    def seed() -> tuple[str, str]:
        return (factories.make_member(display_name="Tekst Betaler").account_code,
                factories.make_member(display_name="Tekst Ontvanger").account_code)

    payer_code, payee_code = live_server.run(seed)
    cookie = session_cookie(live_server, payer_code)
    tmux("new-session", "-d", "-s", "w", "-x", "120", "-y", "50",
         f"{w3m} -o confirm_qq=0 -o display_charset=UTF-8 -header 'Cookie: {cookie}' "
         f"{live_server.url}/ledger/pay")
    tmux.wait(lambda: any("[" in line for line in tmux.lines()), "the pay form")
    tmux.tab_to_field()  # pay to (account code)
    tmux.fill(payee_code, payee_code)
    tmux.tab_to_field()  # amount
    tmux.fill("4", "4")
    tmux.tab_to_field()  # what for
    tmux.fill("Per tekstbrowser", "Per tekstbrowser")
    tmux.tab()  # the submit button
    tmux.keys("Enter")
    tmux.wait(lambda: "Tekst Ontvanger" in "\n".join(tmux.lines())
              and "/ledger/pay" not in tmux.lines()[-1], "the transfer page")
    assert _balance(live_server, payee_code) == 4
    assert _balance(live_server, payer_code) == -4
