"""Pages, news and documents on a 360 px phone, with JavaScript on and off, and in w3m: an
editor writes a page in Dutch, adds French, publishes it, edits it twice and restores the
first version; every content page stays within the screen; a member downloads a
members-only document that a visitor cannot reach. Screenshots go to test-artifacts/
(phone-content-*.png)."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest

from lets_site.extensions import db
from tests import factories
from tests.browser.conftest import ARTIFACTS, LiveServer
from tests.browser.test_foundation import log_in
from tests.browser.test_text_browser import run_w3m
from tests.content.conftest import make_document, make_editor, make_news, make_page

pytestmark = pytest.mark.browser

WIDTH = 360
COMPOUND = "Kinderdagverblijfbegeleidersopleidingsinschrijvingsformulier"
LONG_URL = ("https://www.ieper.be/nl/vrije-tijd/verenigingen/ruilkringen-en-deeleconomie/"
            "lets-ieper-ruilkring-voor-diensten-en-spullen?utm_source=nieuwsbrief")


def _seed(live: LiveServer) -> dict[str, Any]:
    def seed() -> dict[str, Any]:
        editor = make_editor(factories.make_member(display_name="Els Editor"))
        member = factories.make_member(display_name="Mia Member")
        make_page("faq", f"Vragen over {COMPOUND}", body=f"Zie {LONG_URL}", placement="footer")
        make_news(f"Nieuws: {COMPOUND}", summary=f"Meer op {LONG_URL}")
        document = make_document(f"Statuten {COMPOUND}", description=LONG_URL)
        db.session.commit()
        return {"editor": editor.account_code, "member": member.account_code,
                "document": document.id}

    return live.run(seed)  # type: ignore[no-any-return]


def _context(browser: Any, live: LiveServer, js: bool) -> Any:
    context = browser.new_context(locale="nl-BE", base_url=live.url, java_script_enabled=js,
                                  viewport={"width": WIDTH, "height": 800})
    context.set_default_timeout(15_000)
    return context


def _width(page: Any, name: str) -> list[str]:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-content-{name}.png"), full_page=True)
    wide = page.evaluate("document.documentElement.scrollWidth")
    return [f"{page.url}: {wide} px wide"] if wide > WIDTH else []


def _click_and_wait(page: Any, selector: str) -> None:
    """Click a submit button and wait for the page after the 303 (htmx boosted or not)."""
    with page.expect_response(lambda r: r.request.method == "GET" and r.status == 200):
        page.click(selector)
    page.wait_for_load_state("networkidle")


def _save(page: Any, **fields: str) -> None:
    for name, value in fields.items():
        page.fill(f"#{name}", value)
    _click_and_wait(page, "main form:not(.inline) button[type=submit]")


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_editor_writes_translates_publishes_edits_and_restores_at_360_px(
        browser: Any, live_server: LiveServer, js: bool) -> None:
    seeded = _seed(live_server)
    context = _context(browser, live_server, js)
    page = context.new_page()
    problems: list[str] = []
    try:
        log_in(page, seeded["editor"])
        page.goto("/admin/pages/new")
        problems += _width(page, "new")
        _save(page, slug="huisregels", title_nl="Huisregels", body_nl="Eerste versie.")
        _save(page, title_fr="Règlement", body_fr="Première version.")
        _click_and_wait(page, "form[action='/admin/pages/publish'] button")
        _save(page, body_nl="Tweede versie.")
        _save(page, body_nl="Derde versie.")
        assert "/admin/pages/" in page.url, page.url
        page.goto(page.url.split("?")[0] + "/revisions?a=1&b=4")
        assert "Eerste versie." in page.inner_text("#diff")
        problems += _width(page, "revisions")
        _click_and_wait(page, "button[form='restore-1']")
        page.goto("/p/huisregels")
        assert "Eerste versie." in page.inner_text("main")
        problems += _width(page, "page")
        for path, name in (("/news/", "news"), ("/documents/", "documents"),
                           (f"/documents/{seeded['document']}", "document"),
                           ("/p/faq", "faq"), ("/admin/pages/", "admin-pages"),
                           ("/search?q=statuten", "search")):
            page.goto(path)
            problems += _width(page, name)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_members_document_downloads_for_a_member_and_not_for_a_visitor(
        browser: Any, live_server: LiveServer) -> None:
    seeded = _seed(live_server)
    url = f"{live_server.url}/documents/{seeded['document']}/file"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    assert refused.value.code == 404
    context = _context(browser, live_server, True)
    page = context.new_page()
    try:
        log_in(page, seeded["member"])
        with page.expect_download() as download:
            page.goto(f"/documents/{seeded['document']}")
            page.click(f"a[href='/documents/{seeded['document']}/file']")
        assert download.value.suggested_filename == "statuten.pdf"
    finally:
        context.close()


def test_pages_read_in_w3m(w3m: str, w3m_env: dict[str, str], live_server: LiveServer) -> None:
    _seed(live_server)
    for path, expected in (("/p/faq", "Vragen over"), ("/news/", "Nieuws:"),
                           ("/search?q=vragen", "Vragen over")):
        text = run_w3m(w3m, w3m_env, "-dump", live_server.url + path, [], cols=40)
        assert expected in text, (path, text[:500])
