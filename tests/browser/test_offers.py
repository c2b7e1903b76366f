"""Offers and wants in a real browser, with JavaScript on (htmx: active search, "More"
loads in place) and off (plain GET form and links): browse, search, more; an
intermediary acting for an organisation creates a listing with a photo, edits and
withdraws it.

Assertions use structure (URLs, ids, form actions) and the data the test typed, not
translated strings.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests import factories
from tests.browser.conftest import LiveServer
from tests.browser.test_foundation import MODES, log_in, tabs  # noqa: F401 - fixture
from tests.offers.conftest import make_listing

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", MODES)
def test_browse_search_and_more(live_server: LiveServer, tabs: Any,  # noqa: F811
                                javascript: bool) -> None:
    from playwright.sync_api import expect

    def seed() -> str:
        member = factories.make_member(display_name="Mia Member")
        for n in range(25):
            make_listing(member, f"Aanbod {n:02d}")
        make_listing(member, "Koffie in het Café")
        return member.account_code

    code = live_server.run(seed)
    page = tabs(javascript).page
    log_in(page, code)
    page.goto("/offers/")
    items = page.locator("#listings li.listing")
    expect(items).to_have_count(20)

    if javascript:
        page.evaluate("window.__sameDocument = true")
        page.click("#more a")
        expect(items).to_have_count(26)  # the rest, added in place
        expect(page.locator("#more")).to_have_count(0)
        assert page.evaluate("window.__sameDocument === true"), "More reloaded the page"
        page.locator("#q").press_sequentially("cafe", delay=30)
    else:
        page.click("#more a")
        expect(page).to_have_url(re.compile(r"/offers/\?(.*&)?page=2"))
        expect(items).to_have_count(6)
        page.fill("#q", "cafe")
        page.click("form.search button[type=submit]")

    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Koffie in het Café")
    expect(page).to_have_url(re.compile(r"/offers/\?(.*&)?q=cafe"))
    if javascript:
        assert page.evaluate("window.__sameDocument === true"), "the search reloaded the page"
    page.goto(page.url)  # the pushed URL is a real page
    expect(items).to_have_count(1)
    expect(page.locator("#q")).to_have_value("cafe")


@pytest.mark.parametrize("javascript", MODES)
def test_intermediary_creates_edits_withdraws(live_server: LiveServer, tabs: Any,  # noqa: F811
                                              javascript: bool, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    def seed() -> tuple[str, int]:
        person = factories.make_member(display_name="Ivo Intermediary")
        org = factories.make_organisation(intermediaries=[person], name="Hedera",
                                          slug="hedera")
        return person.account_code, org.id

    code, org_id = live_server.run(seed)
    photo = tmp_path / "soep.png"
    buffer = io.BytesIO()
    Image.effect_noise((1400, 1000), 40).convert("RGB").save(buffer, "PNG")
    photo.write_bytes(buffer.getvalue())

    page = tabs(javascript).page
    log_in(page, code)
    page.goto("/offers/mine")
    page.select_option("#organisation", str(org_id))
    page.click('form[action="/offers/acting-for"] button[type=submit]')
    expect(page.locator("#organisation")).to_have_value(str(org_id))

    page.goto("/offers/new")
    page.select_option("#kind", "want")
    page.fill("#title", "Samen soep maken")
    page.fill("#description", "Met **verse** groenten <script>alert(1)</script>")
    page.fill("#price", "2")
    page.set_input_files("#photo", str(photo))
    page.click("#publish")
    expect(page).to_have_url(re.compile(r"/offers/\d+$"))
    expect(page.locator("h1")).to_have_text("Samen soep maken")
    expect(page.locator('a[href="/organisations/hedera"]')).to_have_count(1)
    expect(page.locator(".about strong")).to_have_text("verse")
    image = page.locator("img.photo")
    expect(image).to_have_attribute("loading", "lazy")
    assert int(image.get_attribute("width") or 0) <= 1024
    listing_url = page.url

    page.click('a[href$="/edit"]')
    page.fill("#title", "Samen pompoensoep maken")
    page.click("#publish")
    expect(page.locator("h1")).to_have_text("Samen pompoensoep maken")

    page.click('form[action$="/withdraw"] button[type=submit]')
    expect(page.locator('form[action$="/publish"]')).to_have_count(1)
    page.goto("/organisations/hedera")
    expect(page.locator("#org-listings li.listing")).to_have_count(0)
    page.goto(listing_url)
    page.click('form[action$="/publish"] button[type=submit]')
    expect(page.locator('form[action$="/withdraw"]')).to_have_count(1)  # done, then leave
    page.goto("/organisations/hedera")
    expect(page.locator("#org-listings li.listing")).to_have_count(1)


@pytest.mark.parametrize("path", ["/offers/", "/offers/new", "/offers/{listing}"])
def test_w3m_offers_pages_are_readable(live_server: LiveServer, w3m: str,
                                       w3m_env: dict[str, str], path: str) -> None:
    from tests.browser.test_text_browser import RAW_HTML, outline, run_w3m, session_cookie, squash

    def seed() -> tuple[str, int]:
        member = factories.make_member(display_name="Zoë Zonnebloem")
        listing = make_listing(member, "Fietsherstelling aan huis",
                               description="Banden *plakken* en remmen afstellen.")
        return member.account_code, listing.id

    _code, listing_id = live_server.run(seed)
    reader = live_server.run(lambda: factories.make_member().account_code)
    headers = ["Accept-Language: nl", "Cookie: " + session_cookie(live_server, reader)]
    url = live_server.url + path.format(listing=listing_id)
    source = run_w3m(w3m, w3m_env, "-dump_source", url, headers)
    text = run_w3m(w3m, w3m_env, "-dump", url, headers)
    flat = squash(text)
    expected = outline(source)
    assert expected["h1"], f"{path} has no h1"
    for tag in ("h1", "h2", "label"):
        for item in expected[tag]:
            assert item in flat, f"{tag} {item!r} of {path} is missing in w3m's text"
    assert not RAW_HTML.search(text), f"raw HTML in w3m's text: {RAW_HTML.search(text)}"
    inputs = re.findall(r"<(?:input(?![^>]*type=\"hidden\")|select|textarea)[^>]*>", source)
    assert text.count("[") >= len(inputs)
    if path != "/offers/new":
        assert "Fietsherstelling aan huis" in text
    if path == "/offers/{listing}":
        assert "Banden plakken" in flat and "Zoë Zonnebloem" in text
