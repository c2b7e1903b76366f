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
from tests.browser.conftest import ARTIFACTS, LiveServer
from tests.browser.test_foundation import MODES, log_in

pytestmark = pytest.mark.browser
# Fixtures from the foundation's browser tests: tabs that collect script and CSP errors,
# and w3m in a tmux window.
tabs = test_foundation.tabs
tmux = test_text_browser.tmux


# The big button of a summary page ("Confirm: pay ..."), not its "Back".
CONFIRM = "form.confirm button.big-button"


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
    # The summary first; nothing is booked until it is confirmed.
    expect(payer.locator("#payment-summary")).to_contain_text(payee_code)
    assert _balance(live_server, payee_code) == 0
    payer.click(CONFIRM)
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
    pending.locator('a[href$="/confirm"]').click()
    expect(payer.locator("#payment-summary")).to_contain_text("Soep gemaakt")
    payer.click(CONFIRM)
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
    page.click(CONFIRM)
    expect(page).to_have_url(re.compile(r"/ledger/transfers/"))
    first = page.url
    # The same form sent again from this browser session (a double click, a retry after
    # a slow answer): it carries the key of the first form, which the confirmation kept,
    # so it answers with the same transfer and books nothing new.
    again = page.request.post("/ledger/pay", form=form, max_redirects=0)
    assert again.status == 303
    assert first.endswith(again.headers["location"])
    count = live_server.run(lambda: db.session.scalar(select(func.count(Transfer.id))))
    assert count == 1
    assert live_server.run(services.check) == []


def label(live_server: LiveServer, text: str, lang: str = "en", **values: Any) -> str:
    """A button's label as the site says it to w3m in ``lang``."""
    from flask_babel import force_locale, gettext

    def say() -> str:
        with force_locale(lang):
            if "amount" in values:
                values["amount"] = services.format_units(values["amount"])
            return gettext(text, **values)

    return str(live_server.run(say))


def confirm_in_w3m(live_server: LiveServer, tmux: Any, amount: int) -> None:
    """On the summary page: Tab to the Confirm button and press it."""
    # w3m asks for English in some tasks and for Dutch in others.
    labels = [label(live_server, "Confirm: pay %(amount)s", lang=lang, amount=amount)
              for lang in ("en", "nl")]
    tmux.wait(lambda: any(one in "\n".join(tmux.lines()) for one in labels),
              "the summary page")
    screen = "\n".join(tmux.lines())
    confirm = next(one for one in labels if one in screen)
    tmux.tab_to_label(confirm[:12])
    tmux.keys("Enter")


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
    confirm_in_w3m(live_server, tmux, 4)
    tmux.wait(lambda: "Tekst Ontvanger" in "\n".join(tmux.lines())
              and "/ledger/pay" not in tmux.lines()[-1], "the transfer page")
    assert _balance(live_server, payee_code) == 4
    assert _balance(live_server, payer_code) == -4


@pytest.mark.parametrize("javascript", MODES)
def test_pay_by_name(live_server: LiveServer, tabs: Any, javascript: bool) -> None:
    """A member pays someone whose code they do not know: with JavaScript the field
    suggests names as they type and a pick fills it; without, the form answers with the
    matches and a pick opens the form again with what was typed. Then the summary, then
    Confirm. At 360 px, as on the members' phones; the screenshots go to test-artifacts/."""
    from playwright.sync_api import expect

    def seed() -> tuple[str, str]:
        factories.make_member(display_name="Jean-Luc M.", full_name="Jean-Luc Maes")
        return (factories.make_member(display_name="Pia P.").account_code,
                factories.make_member(display_name="Jean-Pierre L.",
                                      full_name="Jean-Pierre Lemaître").account_code)

    payer_code, payee_code = live_server.run(seed)
    tab = tabs(javascript)
    page = tab.page
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, payer_code)
    page.goto("/ledger/pay")
    mode = "js" if javascript else "nojs"
    if javascript:
        page.locator("#payee").press_sequentially("lemaitre", delay=30)
        suggestion = page.locator("#payee-suggestions a", has_text="Jean-Pierre Lemaître")
        expect(suggestion).to_have_count(1)
        expect(page.locator("#payee-suggestions a")).to_have_count(1)  # not Jean-Luc
        suggestion.focus()
        page.keyboard.press("Enter")  # keyboard: the suggestion is a link
        expect(page.locator("#payee")).to_have_value(payee_code)
        expect(page.locator("#payee-field .chosen")).to_contain_text("Jean-Pierre Lemaître")
        page.fill("#amount", "2")
        page.fill("#description", "Soep")
    else:
        page.fill("#payee", "jean")
        page.fill("#amount", "2")
        page.fill("#description", "Soep")
        page.click('form[action="/ledger/pay"] button[type=submit]')
        matches = page.locator("#payee-matches a")
        expect(matches).to_have_count(2)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "pay-matches-360-nojs.png"), full_page=True)
        page.click('#payee-matches a:has-text("Jean-Pierre Lemaître")')
        expect(page.locator("#payee")).to_have_value(payee_code)
        expect(page.locator("#amount")).to_have_value("2")
        expect(page.locator("#description")).to_have_value("Soep")
    page.click('form[action="/ledger/pay"] button[type=submit]')
    summary = page.locator("#payment-summary")
    expect(summary).to_contain_text("Jean-Pierre Lemaître")
    expect(summary).to_contain_text("-2")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"pay-summary-360-{mode}.png"), full_page=True)
    page.click(CONFIRM)
    expect(page).to_have_url(re.compile(r"/ledger/transfers/[0-9a-f]{16}$"))
    expect(page.locator("h1")).to_contain_text("Jean-Pierre Lemaître")
    assert _balance(live_server, payee_code) == 2
    assert not tab.problems, "\n".join(tab.problems)


def test_w3m_pays_by_name(live_server: LiveServer, w3m: str, tmux: Any) -> None:
    """In w3m: a name typed in the payee field gives the list of matches; the match's
    link opens the form with the payee filled in and the rest kept; then the summary and
    Confirm."""
    from tests.browser.test_text_browser import session_cookie

    def seed() -> tuple[str, str]:
        return (factories.make_member(display_name="Tekst Betaler").account_code,
                factories.make_member(display_name="Inge P.",
                                      full_name="Inge Peeters").account_code)

    payer_code, payee_code = live_server.run(seed)
    cookie = session_cookie(live_server, payer_code)
    tmux("new-session", "-d", "-s", "w", "-x", "120", "-y", "50",
         f"{w3m} -o confirm_qq=0 -o display_charset=UTF-8 -header 'Cookie: {cookie}' "
         f"{live_server.url}/ledger/pay")
    tmux.wait(lambda: any("[" in line for line in tmux.lines()), "the pay form")
    tmux.tab_to_field()  # pay to: a name
    tmux.fill("peeters", "peeters")
    tmux.tab_to_field()  # amount
    tmux.fill("3", "3")
    tmux.tab_to_field()  # what for
    tmux.fill("Per naam", "Per naam")
    tmux.tab()  # the submit button
    tmux.keys("Enter")
    tmux.wait(lambda: "Inge Peeters" in "\n".join(tmux.lines()), "the list of matches")
    tmux.tab_to_label("Inge Peeters")
    tmux.keys("Enter")
    tmux.wait(lambda: f"to={payee_code}" in tmux.current_url(), "the form filled in")
    assert any(payee_code in line for line in tmux.lines())
    assert any("Per naam" in line for line in tmux.lines())
    tmux.tab_to_label(label(live_server, "Next: check the payment")[:12])
    tmux.keys("Enter")
    confirm_in_w3m(live_server, tmux, 3)
    tmux.wait(lambda: "/ledger/transfers/" in tmux.current_url(), "the transfer page")
    assert _balance(live_server, payee_code) == 3
    assert _balance(live_server, payer_code) == -3
