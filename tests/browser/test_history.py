"""htmx's history cache (sessionStorage) never holds a private page, and is emptied at
logout: Back after logout asks the server again instead of showing a kept copy."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests import factories
from tests.browser import test_foundation
from tests.browser.conftest import LiveServer
from tests.browser.test_foundation import log_in

pytestmark = pytest.mark.browser
tabs = test_foundation.tabs


def _cached(page: Any) -> list[dict[str, Any]]:
    raw = page.evaluate("() => sessionStorage.getItem('htmx-history-cache')")
    return json.loads(raw) if raw else []


def test_private_pages_stay_out_of_the_history_cache_and_logout_empties_it(
    live_server: LiveServer, tabs: Any
) -> None:
    from playwright.sync_api import expect

    code = live_server.run(lambda: factories.make_member(display_name="Hilde History")
                           .account_code)
    page = tabs(True).page
    # Anonymous pages may be kept: the cache is in use.
    page.goto("/")
    page.click('header a[href="/offers/"]')
    expect(page).to_have_url(re.compile(r"/offers/$"))
    page.click('header a[href="/login"]')
    expect(page).to_have_url(re.compile(r"/login"))
    assert _cached(page), "htmx kept no page at all: the test would prove nothing"

    log_in(page, code)
    for link in ('header a[href="/ledger/"]', 'header a[href="/members/"]',
                 'header a[href="/members/me"]', 'header a[href="/offers/"]'):
        page.click(link)
        expect(page.locator('form[action="/logout"]')).to_have_count(1)
    cached = _cached(page)
    assert not [item["url"] for item in cached if item["url"].startswith(("/ledger", "/members"))]
    assert not [item["url"] for item in cached if "Hilde History" in item["content"]]

    page.click('form[action="/logout"] button[type=submit]')
    expect(page.locator('header a[href="/login"]')).to_have_count(1)
    page.wait_for_function("() => !sessionStorage.getItem('htmx-history-cache')")
    assert _cached(page) == []

    # Back goes to the server, which no longer knows the member.
    page.go_back()
    expect(page.locator('form[action="/logout"]')).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("Hilde History")
