"""A person with only a keyboard logs in, creates a listing and pays a member.

Only the keys such a person uses: Tab and Shift+Tab to move, typing, Enter, Space and the
arrow keys. No click, no ``fill`` and no ``goto`` after the first page: every link and
button is reached by tabbing. Where focus is, is read from the page (``activeElement``)
to know when to stop tabbing; that is what a sighted keyboard user sees as the focus ring,
so the test also checks that the focused element is visible and shows a focus style.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import factories
from tests.browser.conftest import LiveServer
from tests.browser.test_foundation import Tab

pytestmark = pytest.mark.browser

MAX_TABS = 80

FOCUS_STATE = """selector => {
  const el = document.activeElement;
  if (!el || el === document.body) return {matches: false, visible: false, ring: false};
  const rect = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== 'none';
  return {matches: el.matches(selector), visible: rect.width > 0 && rect.height > 0, ring};
}"""


class Keyboard:
    def __init__(self, page: Any) -> None:
        self.page = page

    def tab_to(self, selector: str, backwards: bool = False) -> None:
        """Press Tab (or Shift+Tab) until the focus is on ``selector``."""
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(MAX_TABS):
            self.page.keyboard.press(key)
            state = self.page.evaluate(FOCUS_STATE, selector)
            if state["matches"]:
                assert state["visible"], f"{selector} has focus but cannot be seen"
                assert state["ring"], f"{selector} has focus but shows no focus style"
                return
        raise AssertionError(f"{selector} cannot be reached with {key} on {self.page.url}")

    def type_into(self, selector: str, text: str) -> None:
        self.tab_to(selector)
        self.page.keyboard.type(text)

    def follow(self, selector: str, url: str) -> None:
        """Tab to a link or button, press Enter, wait for the page."""
        from playwright.sync_api import expect

        self.tab_to(selector)
        self.page.keyboard.press("Enter")
        expect(self.page).to_have_url(re.compile(url))
        self.page.wait_for_load_state()


def test_keyboard_only_login_listing_and_payment(browser: Any,
                                                  live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    def seed() -> tuple[str, str]:
        return (factories.make_member(display_name="Kees Keyboard").account_code,
                factories.make_member(display_name="Rita Receiver").account_code)

    code, payee = live_server.run(seed)
    tab = Tab(browser, True, live_server.url)
    page = tab.page
    keys = Keyboard(page)
    try:
        page.goto("/")
        # The skip link comes first: Enter moves the focus to the main content.
        keys.tab_to('a[href="#main"]')
        keys.page.keyboard.press("Enter")

        # Log in.
        keys.tab_to('header a[href="/login"]', backwards=True)
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/login"))
        keys.type_into("#identifier", code)
        keys.type_into("#password", factories.PASSWORD)
        keys.tab_to('form[action="/login"] button[type=submit]')
        page.keyboard.press("Enter")
        expect(page.locator('form[action="/logout"]')).to_have_count(1)

        # Create a listing: a want, for members only, with a price.
        keys.follow('header a[href="/offers/"]', r"/offers/$")
        keys.follow('main a[href="/offers/new"]', r"/offers/new$")
        keys.tab_to("#kind")
        before = page.locator("#kind").input_value()
        page.keyboard.press("ArrowDown")
        assert page.locator("#kind").input_value() != before
        kind = page.locator("#kind").input_value()
        keys.type_into("#title", "Ladder lenen")
        keys.type_into("#description", "Voor een dag, om de goot te kuisen.")
        keys.type_into("#price", "3")
        keys.follow("#publish", r"/offers/\d+$")
        expect(page.locator("h1")).to_contain_text("Ladder lenen")
        assert live_server.run(lambda: _listing_kind("Ladder lenen")) == kind

        # Pay a member.
        keys.follow('header a[href="/ledger/"]', r"/ledger/$")
        keys.follow('main a[href^="/ledger/pay"]', r"/ledger/pay")
        keys.type_into("#payee", payee)
        keys.type_into("#amount", "7")
        keys.type_into("#description", "Ladder geleend")
        keys.tab_to('form[action="/ledger/pay"] button[type=submit]')
        page.keyboard.press("Space")  # a button takes Space as well as Enter
        expect(page.locator("#payment-summary")).to_be_visible()
        keys.tab_to("form.confirm button.big-button")  # the summary's Confirm
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/ledger/transfers/[0-9a-f]{16}$"))
        expect(page.locator("main")).to_contain_text("Ladder geleend")
        expect(page.locator("#ledger-balance .num")).to_have_text("-7 hours")
    finally:
        problems = tab.problems
        tab.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def _listing_kind(title: str) -> str:
    from sqlalchemy import select

    from lets_site.extensions import db
    from lets_site.offers.models import Listing

    listing = db.session.scalar(select(Listing).where(Listing.title == title))
    assert listing is not None
    return str(getattr(listing.kind, "value", listing.kind))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_keyboard_only_register_for_an_event_and_unregister(browser: Any,
                                                            live_server: LiveServer,
                                                            javascript: bool) -> None:
    """An event's one place is taken: join the waiting list with the keyboard only, get
    the place when the other member gives it back, then unregister; with JavaScript (htmx
    swaps the registration box) and without (a 303 and a new page)."""
    from playwright.sync_api import expect

    def seed() -> tuple[str, int, int]:
        from lets_site.events import services
        from lets_site.extensions import db
        from tests.events.conftest import make_event, make_organiser

        event = make_event(make_organiser(), title="Filmavond", capacity=1)
        other = factories.make_member()
        services.register(other, event)
        db.session.commit()
        return (factories.make_member(display_name="Kees Keyboard").account_code, event.id,
                other.id)

    def give_back(event_id: int, member_id: int) -> None:
        from lets_site.events import services
        from lets_site.events.models import Event
        from lets_site.extensions import db
        from lets_site.members.models import Member

        services.unregister(db.session.get(Member, member_id), db.session.get(Event, event_id))
        db.session.commit()

    code, event_id, other_id = live_server.run(seed)
    tab = Tab(browser, javascript, live_server.url)
    page = tab.page
    keys = Keyboard(page)
    register = f'form[action="/events/{event_id}/register"] button'
    unregister = f'form[action="/events/{event_id}/unregister"] button'
    try:
        page.goto("/login")
        keys.type_into("#identifier", code)
        keys.type_into("#password", factories.PASSWORD)
        keys.tab_to('form[action="/login"] button[type=submit]')
        page.keyboard.press("Enter")
        expect(page.locator('form[action="/logout"]')).to_have_count(1)
        keys.follow('header a[href="/events/"]', r"/events/$")
        keys.follow(f'main a[href="/events/{event_id}"]', rf"/events/{event_id}$")
        expect(page.locator(register)).to_contain_text("waiting list")
        keys.tab_to(register)
        page.keyboard.press("Enter")
        expect(page.locator("#registration")).to_contain_text("number 1 on the waiting list")
        expect(page.locator(unregister)).to_have_count(1)

        live_server.run(lambda: give_back(event_id, other_id))  # the place frees up
        page.reload()
        expect(page.locator("#registration")).to_contain_text("You are registered.")

        keys.tab_to(unregister)
        page.keyboard.press("Enter")
        expect(page.locator(register)).to_have_count(1)
        expect(page.locator("#registration")).to_contain_text("1 place left of 1")
    finally:
        problems = tab.problems
        tab.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def test_keyboard_only_request_a_book(browser: Any, live_server: LiveServer) -> None:
    """Log in, open the books from the menu, open a book, write a message and ask for it:
    with Tab, typing and Enter only."""
    from playwright.sync_api import expect

    def seed() -> tuple[str, int]:
        from tests.books.helpers import make_book

        owner = factories.make_member(display_name="Bert Boekenkast")
        book = make_book(owner, "Het verdriet van België", authors="Hugo Claus")
        return factories.make_member(display_name="Kees Keyboard").account_code, book.id

    code, book_id = live_server.run(seed)
    tab = Tab(browser, True, live_server.url)
    page = tab.page
    keys = Keyboard(page)
    try:
        page.goto("/login")
        keys.type_into("#identifier", code)
        keys.type_into("#password", factories.PASSWORD)
        keys.tab_to('form[action="/login"] button[type=submit]')
        page.keyboard.press("Enter")
        expect(page.locator('form[action="/logout"]')).to_have_count(1)

        keys.follow('header a[href="/books/"]', r"/books/$")
        keys.follow(f'main a[href="/books/{book_id}"]', rf"/books/{book_id}$")
        keys.type_into("#message", "Graag, ik haal het op in de bib.")
        keys.tab_to(f'form[action="/books/{book_id}"] button[type=submit]')
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_contain_text("Graag, ik haal het op in de bib.")
        assert live_server.run(lambda: _request_message(book_id)) == \
            "Graag, ik haal het op in de bib."
    finally:
        problems = tab.problems
        tab.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def _request_message(book_id: int) -> str:
    from sqlalchemy import select

    from lets_site.books.models import BookRequest
    from lets_site.extensions import db

    return db.session.scalar(select(BookRequest.message).where(
        BookRequest.book_id == book_id)) or ""
