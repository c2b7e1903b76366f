"""The site in the text browser w3m: pages read well as text, and the login form submits.

Expected headings and labels are read from the HTML that w3m itself received
(``-dump_source`` with the same headers), so the checks hold in any language.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests import factories
from tests.browser.conftest import LiveServer, require_tool
from tests.conftest import Client

pytestmark = pytest.mark.browser

RAW_HTML = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^>]*)?/?>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


class _Outline(HTMLParser):
    """Texts of headings, form labels and buttons, whitespace collapsed."""

    TAGS = frozenset({"h1", "h2", "h3", "label", "button"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, list[str]] = {tag: [] for tag in self.TAGS}
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.TAGS:
            self._open.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            _, parts = self._open.pop()
            text = " ".join("".join(parts).split())
            if text:
                self.found[tag].append(text)

    def handle_data(self, data: str) -> None:
        for _, parts in self._open:
            parts.append(data)


def outline(html: str) -> dict[str, list[str]]:
    parser = _Outline()
    parser.feed(html)
    return parser.found


def squash(text: str) -> str:
    return " ".join(text.split())


def run_w3m(w3m: str, env: dict[str, str], mode: str, url: str, headers: list[str],
            cols: int = 120) -> str:
    args = [w3m, mode, "-cols", str(cols), "-no-cookie", "-o", "display_charset=UTF-8"]
    for header in headers:
        args += ["-header", header]
    result = subprocess.run([*args, url], env=env, capture_output=True, timeout=30,
                            check=True)
    body = result.stdout
    if mode == "-dump_source" and body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)  # the source as sent: w3m asked for gzip
    return body.decode()


def session_cookie(live: LiveServer, identifier: str) -> str:
    """Log in with the test client against the served app; w3m sends the cookie."""
    live.app.test_client_class = Client
    client = live.app.test_client()
    response = client.post_form("/login", {"identifier": identifier,
                                           "password": factories.PASSWORD})
    assert response.status_code == 303
    cookie = client.get_cookie("session")
    assert cookie is not None
    return f"session={cookie.value}"


@pytest.mark.parametrize("path", ["/", "/login", "/members/"])
def test_w3m_dump_is_readable(live_server: LiveServer, w3m: str, w3m_env: dict[str, str],
                              path: str) -> None:
    member_code = live_server.run(
        lambda: factories.make_member(display_name="Zoë Zonnebloem").account_code
    )
    headers = ["Accept-Language: nl"]
    if path == "/members/":
        headers.append("Cookie: " + session_cookie(live_server, member_code))
    url = live_server.url + path

    source = run_w3m(w3m, w3m_env, "-dump_source", url, headers)
    text = run_w3m(w3m, w3m_env, "-dump", url, headers)
    flat = squash(text)

    assert '<html lang="nl">' in source
    expected = outline(source)
    assert expected["h1"], f"{path} has no h1"
    for tag in ("h1", "h2", "h3", "label"):
        for item in expected[tag]:
            assert item in flat, f"{tag} {item!r} of {path} is missing in w3m's text"
    assert not RAW_HTML.search(text), f"raw HTML in w3m's text: {RAW_HTML.search(text)}"
    # Every visible input is drawn as a field, and nothing is hidden behind script.
    inputs = re.findall(r"<input(?![^>]*type=\"hidden\")[^>]*>", source)
    assert text.count("[") >= len(inputs)
    if path == "/login":
        assert len(expected["label"]) >= 2  # account and password
        assert "[" in text and "*" not in text  # an empty password field
    if path == "/members/":
        assert "Zoë Zonnebloem" in text
        assert member_code in text


class Tmux:
    """One tmux server on a private socket, one window, w3m inside it."""

    def __init__(self, tmux: str, socket: Path, env: dict[str, str]) -> None:
        self._base = [tmux, "-S", str(socket)]
        self._env = env

    def __call__(self, *args: str) -> str:
        return subprocess.run([*self._base, *args], env=self._env, capture_output=True,
                              text=True, timeout=10, check=True).stdout

    def lines(self) -> list[str]:
        return self("capture-pane", "-p", "-t", "w").removesuffix("\n").split("\n")

    def cursor(self) -> tuple[int, int]:
        x, y = self("display-message", "-p", "-t", "w", "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", "w", *keys)

    def type(self, text: str) -> None:
        self("send-keys", "-t", "w", "-l", text)

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        screen = "\n".join(self.lines())
        raise AssertionError(f"w3m: timed out waiting for {what}; screen:\n{screen}")

    def on_field(self) -> bool:
        """The cursor is just inside a form field, which w3m draws as ``[...]``."""
        x, y = self.cursor()
        line = self.lines()[y]
        return 0 < x <= len(line) and line[x - 1] == "["

    def tab(self) -> None:
        before = self.cursor()
        self.keys("Tab")
        self.wait(lambda: self.cursor() != before, "the cursor to move to the next link")

    def tab_to_field(self) -> None:
        for _ in range(40):
            self.tab()
            if self.on_field():
                return
        raise AssertionError("w3m: no form field found with Tab")

    def tab_to_field_labelled(self, label: str) -> None:
        """Tab to the next field drawn right after the text ``label``."""
        for _ in range(20):
            self.tab_to_field()
            x, y = self.cursor()
            if self.lines()[y][:x - 1].rstrip().endswith(label):
                return
        raise AssertionError(f"w3m: no field labelled {label!r} found with Tab")

    def tab_to_label(self, label: str) -> None:
        """Tab until the cursor is on the link or button that starts with ``label``."""
        for _ in range(60):
            self.tab()
            x, y = self.cursor()
            if self.lines()[y][x:].startswith(label):
                return
        raise AssertionError(f"w3m: {label!r} not found with Tab")

    def goto(self, url: str) -> None:
        """w3m's Goto URL prompt (U): clear it, type the address, Enter."""
        self.keys("U")
        self.wait(lambda: "http" in self.lines()[-1], "the Goto URL prompt")
        self.keys("C-u")
        self.type(url)
        self.keys("Enter")
        self.wait(lambda: self.current_url() == url, f"{url} to open")

    def current_url(self) -> str:
        """The page's address, which w3m's ``c`` (peek) shows on the last line. While a
        page loads, w3m may drop the key: it is pressed again until the address shows."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.keys("c")
            for _ in range(20):
                if "http" in self.lines()[-1]:
                    return self.lines()[-1].strip()
                time.sleep(0.05)
        raise AssertionError("w3m: the current URL did not show; screen:\n"
                             + "\n".join(self.lines()))

    def fill(self, text: str, shown: str) -> None:
        """Enter on a field opens w3m's input prompt on the last line; type and confirm."""
        _, y = self.cursor()
        self.keys("Enter")
        self.wait(lambda: self.lines()[-1].strip() != "", "the input prompt")
        self.type(text)
        self.keys("Enter")
        self.wait(lambda: shown in self.lines()[y], f"{shown!r} in the field")


@pytest.fixture
def tmux(tmp_path: Path, w3m_env: dict[str, str]) -> Iterator[Tmux]:
    path = require_tool(shutil.which("tmux"), "tmux")
    session = Tmux(path, tmp_path / "tmux.sock", w3m_env)
    yield session
    subprocess.run([path, "-S", str(tmp_path / "tmux.sock"), "kill-server"],
                   env=w3m_env, capture_output=True, timeout=10, check=False)


def test_w3m_login_form_submits(live_server: LiveServer, w3m: str, tmux: Tmux) -> None:
    """A person logs in with w3m's own keys, and then reads the members-only directory.

    ``w3m -dump`` cannot submit a form, and ``w3m -post`` would send a body we built,
    not one w3m built from the page. So w3m runs in a tmux window, as a person uses it:
    Tab moves to the next link or field; Enter on a text field opens w3m's prompt, where
    the test types; Enter on the submit button sends the form with w3m's own encoding,
    its hidden CSRF token and its cookie. The fields are found by their drawing
    (``[...]``), not by label text, so the test holds in every language.
    """
    def seed() -> tuple[str, str]:
        factories.make_member(display_name="Zoë Zonnebloem")
        member = factories.make_member(display_name="Wim W3m", email="wim@example.org")
        return member.account_code, member.email

    code, email = live_server.run(seed)
    tmux("new-session", "-d", "-s", "w", "-x", "120", "-y", "50",
         f"{w3m} -o accept_cookie=1 -o use_cookie=1 -o confirm_qq=0 "
         f"-o display_charset=UTF-8 {live_server.url}/login")
    tmux.wait(lambda: any("[" in line for line in tmux.lines()), "the login page")

    tmux.tab_to_field()  # the first field on the page: e-mail address or account code
    tmux.fill(email, email)
    tmux.tab_to_field()  # the password, drawn as stars
    tmux.fill(factories.PASSWORD, "*" * 10)
    tmux.tab_to_field()  # "stay logged in"
    tmux.tab()  # the submit button
    tmux.keys("Enter")
    # Logged in: the home page greets the member by name and account code.
    tmux.wait(lambda: code in "\n".join(tmux.lines()), "the home page after login")
    assert not any("*" * 10 in line for line in tmux.lines())

    # The session cookie works: the members-only directory lists the members.
    tmux.keys("U")
    tmux.wait(lambda: live_server.url in tmux.lines()[-1], "the Goto URL prompt")
    tmux.keys("C-u")
    tmux.type(f"{live_server.url}/members/")
    tmux.keys("Enter")
    tmux.wait(lambda: "Zoë Zonnebloem" in "\n".join(tmux.lines()), "the member directory")
    assert "Wim W3m" in "\n".join(tmux.lines())


def test_w3m_logs_in_creates_a_listing_and_pays(live_server: LiveServer, w3m: str,
                                                tmux: Tmux) -> None:
    """One w3m session, as a person uses it: log in through the form, create a listing
    (the title and price typed into w3m's prompt, Publish chosen with Tab), then pay a member.

    Buttons are found by their label as the site sends it in the language w3m asks for
    (read from the same page with the test client), so the test holds in every language.
    """
    from sqlalchemy import select

    from lets_site.extensions import db
    from lets_site.ledger.models import Account
    from lets_site.offers.models import Listing

    def seed() -> tuple[str, str, str]:
        member = factories.make_member(display_name="Tine Tekst", email="tine@example.org")
        payee = factories.make_member(display_name="Omer Ontvanger")
        return member.account_code, member.email, payee.account_code

    code, email, payee = live_server.run(seed)
    form = client_page(live_server, code, "/offers/new")
    publish = re.search(r'id="publish"[^>]*value="([^"]+)"', form)
    price = re.search(r'<label for="price">([^<]+)</label>', form)
    assert publish and price, "no Publish button or price field on /offers/new"

    tmux("new-session", "-d", "-s", "w", "-x", "120", "-y", "50",
         f"{w3m} -o accept_cookie=1 -o use_cookie=1 -o confirm_qq=0 -o accept_language=nl "
         f"-o display_charset=UTF-8 {live_server.url}/login")
    tmux.wait(lambda: any("[" in line for line in tmux.lines()), "the login page")
    tmux.tab_to_field()  # e-mail address or account code
    tmux.fill(email, email)
    tmux.tab_to_field()  # password
    tmux.fill(factories.PASSWORD, "*" * 10)
    tmux.tab_to_field()  # "stay logged in"
    tmux.tab()  # the submit button
    tmux.keys("Enter")
    tmux.wait(lambda: code in "\n".join(tmux.lines()), "the home page after login")

    # A new listing: the kind stays "offer", the title is typed, Publish is pressed.
    tmux.goto(f"{live_server.url}/offers/new")
    tmux.wait(lambda: any("[" in line for line in tmux.lines()), "the listing form")
    tmux.tab_to_field()  # offer or want (a select: left as it is)
    tmux.tab_to_field()  # title
    tmux.fill("Fietsherstelling per tekst", "Fietsherstelling per")  # the field is narrow
    tmux.tab_to_field_labelled(price.group(1).strip())
    tmux.fill("3", "3")
    tmux.tab_to_label(publish.group(1))
    tmux.keys("Enter")
    tmux.wait(lambda: "/offers/new" not in tmux.current_url(), "the new listing's page")
    tmux.wait(lambda: "Fietsherstelling per tekst" in "\n".join(tmux.lines()),
              "the listing's title")
    listing = live_server.run(lambda: db.session.scalar(
        select(Listing).where(Listing.title == "Fietsherstelling per tekst")))
    assert listing is not None and str(getattr(listing.state, "value", listing.state)) \
        == "published"

    # A payment.
    tmux.goto(f"{live_server.url}/ledger/pay")
    tmux.wait(lambda: any("[" in line for line in tmux.lines()), "the pay form")
    tmux.tab_to_field()  # pay to (account code)
    tmux.fill(payee, payee)
    tmux.tab_to_field()  # amount
    tmux.fill("6", "6")
    tmux.tab_to_field()  # what for
    tmux.fill("Per w3m betaald", "Per w3m betaald")
    tmux.tab()  # the submit button
    tmux.keys("Enter")
    from tests.browser.test_ledger import confirm_in_w3m

    confirm_in_w3m(live_server, tmux, 6)  # the summary, then Confirm
    tmux.wait(lambda: "Omer Ontvanger" in "\n".join(tmux.lines())
              and "/ledger/pay" not in tmux.current_url(), "the transfer page")
    rows = live_server.run(lambda: db.session.execute(
        select(Account.code, Account.balance).where(Account.code.in_([code, payee]))).all())
    assert {row.code: row.balance for row in rows} == {code: -6, payee: 6}


def client_page(live: LiveServer, identifier: str, path: str) -> str:
    """A page as the member sees it in Dutch, fetched with the test client."""
    live.app.test_client_class = Client
    client = live.app.test_client()
    client.post_form("/login", {"identifier": identifier, "password": factories.PASSWORD})
    return client.get(path, headers={"Accept-Language": "nl"}).get_data(as_text=True)


def test_w3m_registers_for_an_event_and_unregisters(live_server: LiveServer, w3m: str,
                                                   tmux: Tmux) -> None:
    """In w3m: log in, open an event whose one place is taken, join the waiting list
    (the button found by its label in the page w3m gets), get the place when the other
    member gives it back, then unregister; the database follows."""
    from lets_site.events import services
    from lets_site.extensions import db

    def seed() -> tuple[str, str, int]:
        from tests.events.conftest import make_event, make_organiser

        event = make_event(make_organiser(), title="Boekenruil", capacity=1)
        services.register(factories.make_member(account_code="TE-900"), event)
        member = factories.make_member(display_name="Tine Tekst", email="tine@example.org")
        db.session.commit()
        return member.account_code, member.email, event.id

    def give_back() -> None:
        from lets_site.events.models import Event
        from lets_site.members.models import Member

        other = db.session.query(Member).filter_by(account_code="TE-900").one()
        services.unregister(other, db.session.get(Event, event_id))
        db.session.commit()

    code, email, event_id = live_server.run(seed)
    page = client_page(live_server, code, f"/events/{event_id}")
    register = re.search(r'action="/events/\d+/register"[^>]*>\s*<input[^>]*>\s*'
                         r'<button[^>]*>([^<]+)</button>', page)
    assert register, "no Register button"

    def state() -> str | None:
        from lets_site.events.models import Event
        from lets_site.members.models import Member

        member = db.session.query(Member).filter_by(account_code=code).one()
        reg = services.registration_of(member, db.session.get(Event, event_id))
        return None if reg is None else str(reg.state)

    tmux("new-session", "-d", "-s", "w", "-x", "120", "-y", "50",
         f"{w3m} -o accept_cookie=1 -o use_cookie=1 -o confirm_qq=0 -o accept_language=nl "
         f"-o display_charset=UTF-8 {live_server.url}/login")
    tmux.wait(lambda: any("[" in line for line in tmux.lines()), "the login page")
    tmux.tab_to_field()
    tmux.fill(email, email)
    tmux.tab_to_field()
    tmux.fill(factories.PASSWORD, "*" * 10)
    tmux.tab_to_field()
    tmux.tab()
    tmux.keys("Enter")
    tmux.wait(lambda: code in "\n".join(tmux.lines()), "the home page after login")
    tmux.goto(f"{live_server.url}/events/{event_id}")
    tmux.wait(lambda: "Boekenruil" in "\n".join(tmux.lines()), "the event page")
    tmux.tab_to_label(register.group(1).strip())
    tmux.keys("Enter")
    deadline = time.monotonic() + 10
    while live_server.run(state) != "waiting" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert live_server.run(state) == "waiting"
    live_server.run(give_back)  # the place frees up: the first waiting gets it
    assert live_server.run(state) == "registered"
    page = client_page(live_server, code, f"/events/{event_id}")
    tmux.goto(f"{live_server.url}/events/{event_id}")
    unregister = re.search(r'action="/events/\d+/unregister"[^>]*>\s*<input[^>]*>\s*'
                           r'<button[^>]*>([^<]+)</button>', page)
    assert unregister, "no Unregister button"
    tmux.wait(lambda: unregister.group(1).strip() in "\n".join(tmux.lines()),
              "the Unregister button")
    tmux.tab_to_label(unregister.group(1).strip())
    tmux.keys("Enter")
    deadline = time.monotonic() + 10
    while live_server.run(state) != "cancelled" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert live_server.run(state) == "cancelled"


def test_w3m_month_view_reads_as_a_list_by_day(live_server: LiveServer, w3m: str,
                                               w3m_env: dict[str, str]) -> None:
    """The month view in w3m: each day a line of its own with its events under it, in
    order, no raw HTML, nothing wider than w3m's 80 columns."""
    from datetime import date, time

    def seed() -> None:
        from tests.events.conftest import make_event, make_organiser

        organiser = make_organiser()
        make_event(organiser, title="Instapavond", start_date=date(2027, 6, 1),
                   start_time=time(19, 30), venue_name="Dienstencentrum")
        make_event(organiser, title="Boekenruil", start_date=date(2027, 6, 12), all_day=True)
        make_event(organiser, title="Filmavond", start_date=date(2027, 6, 12),
                   start_time=time(20, 0))

    live_server.run(seed)
    url = live_server.url + "/events/month/2027-06"
    headers = ["Accept-Language: nl"]
    source = run_w3m(w3m, w3m_env, "-dump_source", url, headers)
    text = run_w3m(w3m, w3m_env, "-dump", url, headers)
    assert not RAW_HTML.search(text)
    lines = [line for line in text.splitlines() if line.strip()]
    assert all(len(line) <= 80 for line in lines)
    days = re.findall(r'<dt id="day-\d+">([^<]+)</dt>', source)
    assert len(days) == 2
    first, second = (next(i for i, line in enumerate(lines) if day.strip() in line)
                     for day in days)
    assert any("19:30" in line and "Instapavond" in line for line in lines[first:second])
    after = "\n".join(lines[second:])
    assert after.index("Boekenruil") < after.index("20:00 Filmavond")


def test_w3m_requests_a_book(live_server: LiveServer, w3m: str, tmux: Tmux) -> None:
    """In w3m: log in through the form, open a book and press the request button (found by
    its label as the site sends it in Dutch). The message is optional: w3m edits a text
    area in an outside editor, which this test does not drive."""
    from sqlalchemy import select

    from lets_site.books.models import BookRequest
    from lets_site.extensions import db

    def seed() -> tuple[str, str, int]:
        from tests.books.helpers import make_book

        owner = factories.make_member(display_name="Bert Boekenkast")
        book = make_book(owner, "Le Petit Prince", language="fr")
        member = factories.make_member(display_name="Wim Lezer", email="lezer@example.org")
        return member.account_code, member.email, book.id

    code, email, book_id = live_server.run(seed)
    page = client_page(live_server, code, f"/books/{book_id}")
    button = re.search(rf'<form method="post" action="/books/{book_id}"[^>]*>.*?'
                       r'<button type="submit">([^<]+)</button>', page, re.S)
    assert button, "no request button on the book's page"

    tmux("new-session", "-d", "-s", "w", "-x", "120", "-y", "50",
         f"{w3m} -o accept_cookie=1 -o use_cookie=1 -o confirm_qq=0 -o accept_language=nl "
         f"-o display_charset=UTF-8 {live_server.url}/login")
    tmux.wait(lambda: any("[" in line for line in tmux.lines()), "the login page")
    tmux.tab_to_field()  # e-mail address or account code
    tmux.fill(email, email)
    tmux.tab_to_field()  # password
    tmux.fill(factories.PASSWORD, "*" * 10)
    tmux.tab_to_field()  # "stay logged in"
    tmux.tab()  # the submit button
    tmux.keys("Enter")
    tmux.wait(lambda: code in "\n".join(tmux.lines()), "the home page after login")

    tmux.goto(f"{live_server.url}/books/{book_id}")
    tmux.wait(lambda: "Le Petit Prince" in "\n".join(tmux.lines()), "the book's page")
    tmux.tab_to_label(button.group(1))
    tmux.keys("Enter")

    def stored() -> bool:
        return live_server.run(lambda: db.session.scalar(
            select(BookRequest.id).where(BookRequest.book_id == book_id))) is not None

    tmux.wait(stored, "the request to be stored")
    # The page now shows the request instead of the form.
    tmux.wait(lambda: button.group(1) not in "\n".join(tmux.lines()), "the book's page again")


def test_w3m_brings_a_book_to_a_swap(live_server: LiveServer, w3m: str, tmux: Tmux) -> None:
    """In w3m: the owner opens their book and presses "bring it to the book swap" (the
    select has the coming swap chosen); the book is on the swap's list."""
    from lets_site.books import swaps
    from lets_site.books.models import Book
    from lets_site.extensions import db

    def seed() -> tuple[str, str, int, str]:
        from tests.books.helpers import make_book
        from tests.events.conftest import make_event, make_organiser

        swap = make_event(make_organiser(), days=12, kind="book_swap", title="Boekenruil")
        owner = factories.make_member(display_name="Bert Boekenkast", email="bert@example.org")
        book = make_book(owner, "Le Petit Prince", language="fr")
        return owner.account_code, owner.email, book.id, swap.urn

    code, email, book_id, urn = live_server.run(seed)
    page = client_page(live_server, code, f"/books/{book_id}")
    button = re.search(r'<form method="post" action="/books/swaps/bring">.*?'
                       r'<button type="submit">([^<]+)</button>', page, re.S)
    assert button, "no bring button on the book's page"

    tmux("new-session", "-d", "-s", "w", "-x", "120", "-y", "50",
         f"{w3m} -o accept_cookie=1 -o use_cookie=1 -o confirm_qq=0 -o accept_language=nl "
         f"-o display_charset=UTF-8 {live_server.url}/login")
    tmux.wait(lambda: any("[" in line for line in tmux.lines()), "the login page")
    tmux.tab_to_field()  # e-mail address or account code
    tmux.fill(email, email)
    tmux.tab_to_field()  # password
    tmux.fill(factories.PASSWORD, "*" * 10)
    tmux.tab_to_field()  # "stay logged in"
    tmux.tab()  # the submit button
    tmux.keys("Enter")
    tmux.wait(lambda: code in "\n".join(tmux.lines()), "the home page after login")

    tmux.goto(f"{live_server.url}/books/{book_id}")
    tmux.wait(lambda: "Le Petit Prince" in "\n".join(tmux.lines()), "the book's page")
    tmux.tab_to_label(button.group(1))
    tmux.keys("Enter")

    def brought() -> bool:
        return live_server.run(lambda: swaps.events_of(db.session.get(Book, book_id))) == [urn]

    tmux.wait(brought, "the book to be on the swap's list")
