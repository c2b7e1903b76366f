"""The common agenda on a 360 px phone and in w3m, with real rows: long Dutch titles, an
event in another zone, a cancelled one. No page wider than the screen; the filters submit
without JavaScript; w3m says "Cancelled" in words."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from lets_site.extensions import db
from lets_site.federation import parse, services
from tests.browser.conftest import ARTIFACTS, LiveServer
from tests.browser.test_text_browser import run_w3m
from tests.federation import feeds

pytestmark = pytest.mark.browser

WIDTH = 360
COMPOUND = "Kinderdagverblijfbegeleidersopleidingsinschrijvingsformulier"


def _seed(live: LiveServer) -> None:
    def seed() -> None:
        now = datetime.now(UTC)
        for slug, zone in (("ieper", "Europe/Brussels"), ("dover", "Europe/London")):
            base = f"https://{slug}.example"
            items = []
            for n in range(25):
                start = (now + timedelta(days=n + 1)).astimezone(ZoneInfo(zone)).replace(
                    hour=19, minute=30, second=0, microsecond=0)
                item = feeds.event(base, n, start=start.isoformat(), zone=zone,
                                   kind="workshop" if n % 2 else "market",
                                   status="cancelled" if n == 0 else "scheduled")
                item["title"] = f"{COMPOUND} {slug} {n}"
                items.append(item)
            feed = services.add_feed(None, slug, base + "/feed.json")
            doc = json.dumps(feeds.feed(base, slug, items)).encode()
            services.merge(feed, parse.parse(doc, feed.feed_url, slug, now), now)
            feed.group_name = f"LETS {slug.title()}"
        db.session.commit()

    live.run(seed)


def test_agenda_fits_a_360_px_phone_and_filters_without_javascript(
        browser: Any, live_server: LiveServer) -> None:
    _seed(live_server)
    context = browser.new_context(locale="nl-BE", base_url=live_server.url,
                                  viewport={"width": WIDTH, "height": 800},
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/agenda/")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "phone-agenda.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        assert page.locator("#agenda-list tbody tr").count() == 20
        page.select_option("#group", "dover")
        page.click("form.agenda-filters button[type=submit]")
        page.wait_for_url("**/agenda/?group=dover*")
        rows = page.locator("#agenda-list tbody tr")
        assert rows.count() == 20
        assert "dover" in rows.first.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        # The events page with the neighbours' panel fits too.
        page.goto("/events/")
        assert page.locator("section.neighbours li").count() == 5
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    finally:
        context.close()


def test_agenda_in_w3m_says_cancelled_in_words(live_server: LiveServer, w3m: str,
                                                 w3m_env: dict[str, str]) -> None:
    _seed(live_server)
    text = run_w3m(w3m, w3m_env, "-dump", live_server.url + "/agenda/?group=ieper",
                   ["Accept-Language: en"])
    flat = " ".join(text.split())
    assert f"{COMPOUND} ieper 0" in flat
    assert "Cancelled" in flat.split(f"{COMPOUND} ieper 0", 1)[1][:40]
    assert "Common agenda" in flat and "Subscribe in your calendar" in flat
