"""The offers on a 360 px phone (Chromium, JavaScript on and off): the first result is on
the first screen and nothing scrolls sideways; targets are big enough (main buttons 44 px,
links and "Cancel" 24 px); live content (active search, "More") makes no CSP violation;
and in w3m a listing's photo is words, not a file name."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image

from lets_site.offers import photos
from lets_site.offers.models import ListingVisibility
from tests import factories
from tests.browser.conftest import ARTIFACTS, LiveServer
from tests.browser.test_foundation import MODES, log_in, tabs  # noqa: F401 - fixture
from tests.offers.conftest import make_category, make_listing

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}


def _photo_fields() -> dict[str, Any]:
    image = io.BytesIO()
    Image.effect_noise((800, 600), 40).convert("RGB").save(image, "PNG")
    image.seek(0)
    stored = photos.store(image)
    return {"photo_key": stored.key, "photo_width": stored.width,
            "photo_height": stored.height, "thumb_width": stored.thumb_width,
            "thumb_height": stored.thumb_height}


def _seed_listings() -> str:
    member = factories.make_member(display_name="Mia Member", locale="nl")
    bikes = make_category("Fietsen", fr="Vélos", en="Bicycles")
    for n in range(24):
        make_listing(member, f"Aanbod nummer {n:02d}", visibility=ListingVisibility.PUBLIC)
    make_listing(member, "Kinderfietsje", category=bikes, visibility=ListingVisibility.PUBLIC,
                 **_photo_fields())
    return member.account_code


def _width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


@pytest.mark.parametrize("javascript", MODES)
def test_offers_at_360_px_start_with_results(live_server: LiveServer, tabs: Any,  # noqa: F811
                                             javascript: bool) -> None:
    from playwright.sync_api import expect

    code = live_server.run(_seed_listings)
    tab = tabs(javascript)
    page = tab.page
    page.set_viewport_size(PHONE)
    log_in(page, code)  # a member: the longest menu above the page
    for url in ("/offers/", "/offers/?q=fiets"):
        page.goto(url)
        first = page.locator("#listings li.listing").first
        expect(first).to_be_visible()
        box = first.bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"], (
            f"{url}: the first result ends at {box and box['y'] + box['height']} px, "
            f"below the first screen")
        assert _width(page) <= PHONE["width"], f"{url} is {_width(page)} px wide"
        expect(page.locator(".found")).to_be_visible()
        expect(page.locator("#q")).to_be_visible()
        expect(page.locator("details.filters #category")).to_be_hidden()  # folded away
    expect(page.locator(".found")).to_contain_text("fiets")
    mode = "js" if javascript else "nojs"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"offers-360-{mode}.png"))
    # The filters open on a tap, and still filter.
    page.goto("/offers/")
    page.click("details.filters summary")
    expect(page.locator("#category")).to_be_visible()
    assert _width(page) <= PHONE["width"]
    page.select_option("#category", "fietsen")
    if not javascript:
        page.click("details.filters button[type=submit]")
    expect(page.locator("#listings li.listing")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"category=fietsen"))
    page.click("#listings li.listing a")
    expect(page.locator("h1")).to_have_text("Kinderfietsje")
    assert _width(page) <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / f"listing-360-{mode}.png"))


def test_targets_are_big_enough_at_360_px(live_server: LiveServer, tabs: Any) -> None:  # noqa: F811
    code = live_server.run(_seed_listings)
    page = tabs(True).page
    page.set_viewport_size(PHONE)
    log_in(page, code)
    page.goto("/offers/new")
    page.click("#publish")  # no title: the form comes back with errors and "Cancel"
    page.wait_for_selector("#title[aria-invalid=true]")
    small = []
    for selector, least in (("header.top nav a", 24), ("header.top nav button", 24),
                            ("form a[href='/offers/mine']", 24), ("#publish", 44),
                            ("#save_draft", 44), ("details.filters summary", 24)):
        if selector.startswith("details"):
            page.goto("/offers/")
        for box in (e.bounding_box() for e in page.locator(selector).all()):
            assert box is not None, selector
            if box["height"] < least or box["width"] < 24:
                small.append(f"{selector}: {box['width']:.0f}x{box['height']:.0f}")
    assert not small, "targets too small: " + ", ".join(small)


def test_live_content_makes_no_csp_violation(live_server: LiveServer, tabs: Any) -> None:  # noqa: F811
    """htmx's own indicator styles are inline styles, which the CSP refuses: the site turns
    them off (htmx-config) and styles the indicators in site.css."""
    from playwright.sync_api import expect

    code = live_server.run(_seed_listings)
    tab = tabs(True)
    page = tab.page
    # Collected in the page from the first script on, whatever the console shows.
    page.add_init_script("window.__csp = []; document.addEventListener("
                         "'securitypolicyviolation', e => window.__csp.push("
                         "e.violatedDirective + ' ' + e.blockedURI));")
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text))
    log_in(page, code)
    page.goto("/offers/")
    page.click("#more a")
    expect(page.locator("#listings li.listing")).to_have_count(25)
    page.locator("#q").press_sequentially("aanbod", delay=30)
    expect(page).to_have_url(re.compile(r"q=aanbod"))
    expect(page.locator("#listings li.listing")).to_have_count(20)
    page.click("details.filters summary")
    page.select_option("#sort", "newest")
    expect(page).to_have_url(re.compile(r"sort=newest"))
    page.click("#listings li.listing a >> nth=0")  # a boosted link
    expect(page).to_have_url(re.compile(r"/offers/\d+$"))
    violations = page.evaluate("window.__csp")
    blocked = [text for text in console if "Content Security Policy" in text]
    assert violations == [] and blocked == [], (violations, blocked)


def test_w3m_listing_photo_is_words_not_a_file_name(live_server: LiveServer, w3m: str,
                                                    w3m_env: dict[str, str]) -> None:
    from tests.browser.test_text_browser import run_w3m

    def seed() -> tuple[int, str]:
        member = factories.make_member(display_name="Zoë Zonnebloem")
        listing = make_listing(member, "Kinderfietsje", visibility=ListingVisibility.PUBLIC,
                               **_photo_fields())
        return listing.id, listing.photo_key or ""

    listing_id, key = live_server.run(seed)
    headers = ["Accept-Language: en"]
    for path in ("/offers/", f"/offers/{listing_id}"):
        text = run_w3m(w3m, w3m_env, "-dump", live_server.url + path, headers)
        assert "Kinderfietsje" in text
        assert key[:8] not in text and not re.search(r"\[[0-9a-f]{8,}", text), text
    listing_text = run_w3m(w3m, w3m_env, "-dump", live_server.url + "/offers/", headers)
    assert re.search(r"Kinderfietsje \(with photo\)", listing_text), listing_text
