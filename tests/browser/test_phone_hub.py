"""The federation's hub pages (the directory of groups, a group, cross-group search) on a
360 px phone with long Dutch names and texts, and in w3m: no page wider than the screen,
the search works as a plain GET form, and the text reads without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest

from lets_site.extensions import db
from tests.browser.conftest import ARTIFACTS, LiveServer
from tests.browser.test_text_browser import run_w3m, squash
from tests.federation import hub

pytestmark = pytest.mark.browser

WIDTH = 360
COMPOUND = "Kinderdagverblijfbegeleidersopleidingsinschrijvingsformulier"


def _seed(live: LiveServer) -> None:
    def seed() -> None:
        hub.follow("ieper", [hub.listing("ieper", n, f"Soep {COMPOUND} {n}",
                                         text=f"Café {COMPOUND} " * 3) for n in range(25)]
                   + [hub.event("ieper", 99, "Ruilmarkt"), hub.book("ieper", 98, COMPOUND)])
        broken = hub.follow("oostende", [hub.listing("oostende", 1, COMPOUND)])
        broken.health = "invalid"
        broken.reason = "the feed's signature does not match the registered key"
        db.session.commit()

    live.run(seed)


def test_hub_pages_fit_a_360_px_phone(browser: Any, live_server: LiveServer) -> None:
    _seed(live_server)
    context = browser.new_context(locale="en", base_url=live_server.url,
                                  viewport={"width": WIDTH, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems = []
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        for path, name in (("/groups/", "groups"), ("/groups/ieper", "group"),
                           ("/search/?q=cafe", "cross-search")):
            page.goto(path)
            page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > WIDTH:
                problems.append(f"{path}: the page is {wide} px wide")
        # The search form with JavaScript: typing and choosing replace the results.
        page.goto("/search/")
        page.select_option("#cross-group", "oostende")
        # (a selector, not a script: the site's CSP forbids eval)
        page.wait_for_selector("#cross-results p[role=status]:text-is('1 result')")
        assert "group=oostende" in page.url
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_hub_pages_read_in_w3m(live_server: LiveServer, w3m: str,
                               w3m_env: dict[str, str]) -> None:
    _seed(live_server)
    env = w3m_env
    headers = ["Accept-Language: en"]
    groups = squash(run_w3m(w3m, env, "-dump", live_server.url + "/groups/", headers))
    assert "LETS Ieper" in groups and "25 offers" in groups and "OK" in groups
    assert "Invalid The feed was refused: the feed's signature does not match" in groups
    # The search form's GET URL, as w3m submits it without JavaScript.
    found = squash(run_w3m(w3m, env, "-dump",
                           live_server.url + "/search/?q=CAFE&group=ieper&kind=offer",
                           headers))
    assert "25 results" in found and "Page 1 of 2" in found and "Next" in found
