"""The foundation in a real browser, once with JavaScript on (htmx boosts links and forms)
and once with it off (plain HTML forms): join, approval by an admin through the admin
pages, login, profile edit, language switch, logout; and the member directory search.

Assertions use structure (URLs, form actions, ``<html lang>``, ``aria-current``) and the
data the test typed, never translated strings: the catalogs change independently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests import factories
from tests.browser.conftest import ARTIFACTS, LiveServer

pytestmark = pytest.mark.browser

MODES = [pytest.param(True, id="js"), pytest.param(False, id="nojs")]
CODE_RE = re.compile(r"^[A-Z]{2,}-\d{3,}$")


class Tab:
    """A browser context and page that records script errors and CSP violations."""

    def __init__(self, browser: Any, javascript: bool, base: str) -> None:
        self.context = browser.new_context(
            java_script_enabled=javascript, locale="en-GB", base_url=base
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        self.page.on("console", self._console)

    def _console(self, msg: Any) -> None:
        # Browsers ask for /favicon.ico on their own; the site has none (a 404 is fine).
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            self.problems.append(f"console: {msg.text} at {msg.location.get('url')}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tabs(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    opened: list[Tab] = []

    def open_tab(javascript: bool) -> Tab:
        tab = Tab(browser, javascript, live_server.url)
        opened.append(tab)
        return tab

    yield open_tab
    problems = [p for tab in opened for p in tab.problems]
    for tab in opened:
        tab.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def log_in(page: Any, identifier: str, password: str = factories.PASSWORD) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.fill("#identifier", identifier)
    page.fill("#password", password)
    page.click('form[action="/login"] button[type=submit]')
    expect(page.locator('form[action="/logout"]')).to_have_count(1)


@pytest.mark.parametrize("javascript", MODES)
def test_join_approve_login_edit_language_logout(
    live_server: LiveServer, tabs: Any, javascript: bool
) -> None:
    from playwright.sync_api import expect

    mode = "js" if javascript else "nojs"
    visitor = tabs(javascript).page
    email = f"nora.{mode}@example.org"
    password = "a long enough password"

    # A visitor finds the join form from the home page and applies.
    visitor.goto("/")
    ARTIFACTS.mkdir(exist_ok=True)
    visitor.screenshot(path=str(ARTIFACTS / f"home-{mode}.png"), full_page=True)
    visitor.click('header a[href="/join"]')
    expect(visitor).to_have_url(re.compile(r"/join$"))
    visitor.fill("#display_name", "Nora N.")
    visitor.fill("#full_name", "Nora Nieuwenhuys")
    visitor.fill("#email", email)
    visitor.fill("#phone", "+32 57 11 22 33")
    visitor.fill("#address", "Meensestraat 7")
    visitor.fill("#postcode", "8900")
    visitor.fill("#languages", "Nederlands, English")
    visitor.fill("#bio", "I repair bicycles.")
    visitor.fill("#password", password)
    visitor.fill("#password_confirm", password)
    visitor.check("#agree")
    visitor.click('form[action="/join"] button[type=submit]')
    expect(visitor).to_have_url(re.compile(r"/join/thanks$"))

    # A candidate cannot log in yet: the login form comes back with a message.
    visitor.goto("/login")
    visitor.fill("#identifier", email)
    visitor.fill("#password", password)
    visitor.click('form[action="/login"] button[type=submit]')
    expect(visitor.locator("main .error").first).to_be_visible()
    expect(visitor.locator("#identifier")).to_be_visible()
    expect(visitor.locator('form[action="/logout"]')).to_have_count(0)

    # An admin approves the candidate through the admin pages.
    admin = tabs(javascript).page
    log_in(admin, live_server.admin_code)
    admin.click('header a[href="/admin/"]')
    admin.click('a[href="/admin/members/?status=candidate"]')
    admin.get_by_role("link", name="Nora N.").click()
    expect(admin.locator("h1")).to_contain_text("Nora N.")
    admin.click('form[action$="/approve"] button[type=submit]')
    code_badge = admin.locator("h1 .code")
    expect(code_badge).to_have_text(CODE_RE)
    code = code_badge.inner_text().strip()

    # The new member logs in and opens their own profile.
    log_in(visitor, email, password)
    visitor.click('header a[href="/members/me"]')
    expect(visitor).to_have_url(re.compile(rf"/members/{code}$"))
    expect(visitor.locator("h1")).to_contain_text("Nora N.")

    # ... edits it, and sees the change on the profile page.
    visitor.click(f'a[href="/members/{code}/edit"]')
    visitor.fill("#display_name", "Nora the fixer")
    visitor.fill("#bio", "I repair bicycles **and** sewing machines.")
    visitor.click("main form button[type=submit]")
    expect(visitor).to_have_url(re.compile(rf"/members/{code}$"))
    expect(visitor.locator("h1")).to_contain_text("Nora the fixer")
    expect(visitor.locator(".bio strong")).to_have_text("and")

    # ... switches the language with the footer buttons: the page comes back in that
    # language, on the same URL.
    html = visitor.locator("html")
    for lang in ("fr", "nl", "en"):
        visitor.click(f'footer button[name="lang"][value="{lang}"]')
        expect(html).to_have_attribute("lang", lang)
        expect(visitor.locator(f'footer button[value="{lang}"]')).to_have_attribute(
            "aria-current", "true"
        )
        expect(visitor.locator('footer button[aria-current="true"]')).to_have_count(1)
        expect(visitor).to_have_url(re.compile(rf"/members/{code}$"))
        expect(visitor.locator("h1")).to_contain_text("Nora the fixer")

    # ... and logs out: the members-only links are gone and the directory asks for a login.
    visitor.click('header form[action="/logout"] button[type=submit]')
    expect(visitor.locator('header a[href="/login"]')).to_be_visible()
    expect(visitor.locator('header a[href="/members/"]')).to_have_count(0)
    visitor.goto("/members/")
    expect(visitor).to_have_url(re.compile(r"/login\?next="))


@pytest.mark.parametrize("javascript", MODES)
def test_directory_search(live_server: LiveServer, tabs: Any, javascript: bool) -> None:
    """With JavaScript, typing updates the list in place (no page load) and pushes the
    search URL; without, the search button submits the same GET form."""
    from playwright.sync_api import expect

    def seed() -> str:
        for n in range(24):
            factories.make_member(display_name=f"Member {n:02d}", postcode="8900")
        factories.make_member(display_name="Zoë Zonnebloem", postcode="8970")
        return factories.make_member(display_name="Mia Member").account_code

    member_code = live_server.run(seed)
    page = tabs(javascript).page
    log_in(page, member_code)
    page.click('header a[href="/members/"]')
    expect(page).to_have_url(re.compile(r"/members/$"))
    items = page.locator("#member-list ul.cards > li")
    expect(items).to_have_count(20)  # the first page of 27
    expect(page.locator("#member-list nav.pager a[rel=next]")).to_have_count(1)

    if javascript:
        page.evaluate("window.__sameDocument = true")
        page.locator("#q").press_sequentially("Zonne", delay=30)
    else:
        page.fill("#q", "Zonne")
        page.click("form.search button[type=submit]")

    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Zoë Zonnebloem")
    expect(page).to_have_url(re.compile(r"/members/\?(.*&)?q=Zonne"))
    if javascript:
        assert page.evaluate("window.__sameDocument === true"), "the search reloaded the page"

    # The pushed URL is a real page: opening it directly gives the same result.
    page.goto(page.url)
    expect(items).to_have_count(1)
    expect(page.locator("#q")).to_have_value("Zonne")
