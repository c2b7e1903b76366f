"""Partner logos and book covers on a 360 px phone (Chromium, JavaScript on and off): the
partner directory and a book's page show their images, loaded and named, and nothing
scrolls sideways. Screenshots land in test-artifacts/ to look at."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from lets_site.books.models import Visibility
from lets_site.members import services as members
from tests import factories
from tests.books.helpers import make_book
from tests.browser.conftest import ARTIFACTS, LiveServer
from tests.browser.test_foundation import MODES, tabs  # noqa: F401 - fixture
from tests.partners.helpers import make_partner

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def _image(size: tuple[int, int], seed: int) -> io.BytesIO:
    out = io.BytesIO()
    Image.effect_noise(size, 30 + seed).convert("RGB").save(out, "PNG")
    out.seek(0)
    return out


def _seed(admin_code: str) -> int:
    admin = members.get_by_code(admin_code)
    make_partner(admin, "Bibliotheek Ieper", gives="Zaal en boeken voor de boekenruil",
                 logo=_image((600, 200), 1))
    make_partner(admin, "Vormingplus Westhoek met een heel lange naam die moet afbreken",
                 gives="Films", logo=_image((200, 400), 2))
    make_partner(admin, "Stad Ieper", gives="Een kleine subsidie")
    owner = factories.make_member(display_name="Mia Member")
    book = make_book(owner, "De avonden, een winterverhaal", visibility=Visibility.PUBLIC,
                     cover=_image((500, 800), 3))
    return book.id


def _check(page: Any, url: str, selector: str, alt: str | None) -> None:
    page.goto(url)
    image = page.locator(selector).first
    image.scroll_into_view_if_needed()
    assert image.evaluate("i => i.complete && i.naturalWidth > 0"), f"{url}: {selector} "
    if alt is not None:
        assert image.get_attribute("alt") == alt
    box = image.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    wide = page.evaluate("document.documentElement.scrollWidth")
    print(f"MEASURED: {url} {wide} px, image {box['width']:.0f} x {box['height']:.0f} px")
    assert wide <= PHONE["width"], f"{url} is {wide} px wide at 360 px"


@pytest.mark.parametrize("javascript", MODES)
def test_logos_and_covers_at_360_px(live_server: LiveServer, tabs: Any,  # noqa: F811
                                    javascript: bool) -> None:
    book_id = live_server.run(lambda: _seed(live_server.admin_code))
    page = tabs(javascript).page
    page.set_viewport_size(PHONE)
    mode = "js" if javascript else "nojs"
    ARTIFACTS.mkdir(exist_ok=True)
    _check(page, "/partners/", "#partners img.logo", "Bibliotheek Ieper")
    page.screenshot(path=str(ARTIFACTS / f"partners-logos-360-{mode}.png"), full_page=True)
    _check(page, "/partners/bibliotheek-ieper", "main img.logo", "Bibliotheek Ieper")
    _check(page, f"/books/{book_id}", "main img.cover", None)
    page.screenshot(path=str(ARTIFACTS / f"book-cover-360-{mode}.png"), full_page=True)
    _check(page, "/books/", "#books img.cover", "")
    page.screenshot(path=str(ARTIFACTS / f"books-covers-360-{mode}.png"), full_page=True)
