"""Contact scripts other groups share, on a 360 px phone with JavaScript off and in w3m:
the scripts page lists them with long Dutch titles without scrolling sideways, one click
imports one (a plain form), and the hub's page of a script wraps its text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lets_site.extensions import db
from lets_site.federation import services
from lets_site.federation.models import SharedScript
from lets_site.partners.models import ContactScript
from tests.browser.conftest import ARTIFACTS, LiveServer
from tests.browser.test_foundation import log_in
from tests.browser.test_text_browser import run_w3m, squash

pytestmark = pytest.mark.browser

WIDTH = 360
COMPOUND = "Kinderdagverblijfbegeleidersopleidingsinschrijvingsformulier"


def _seed(live: LiveServer) -> int:
    def seed() -> int:
        feed = services.add_feed(None, "oostende", "https://oostende.example/feed.json")
        feed.group_name = f"LETS Oostende {COMPOUND}"
        feed.group_info = json.dumps({
            "slug": "oostende", "name": feed.group_name, "url": "https://oostende.example/",
            "contact_scripts": "https://oostende.example/partners/scripts/shared.json"})
        row = SharedScript(feed_id=feed.id, language="nl", title=f"Eerste {COMPOUND}",
                           title_key=f"eerste {COMPOUND}".casefold(),
                           subject=f"Kennismaking {COMPOUND} met {{group_name}}",
                           body=f"Beste {{contact_name}},\n\n{COMPOUND} " * 5)
        db.session.add(row)
        db.session.add(SharedScript(feed_id=feed.id, language="fr", title="Premier contact",
                                    title_key="premier contact", subject="Bonjour",
                                    body="Bonjour {contact_name}"))
        db.session.commit()
        return row.id

    return int(live.run(seed))


def test_shared_scripts_import_with_one_click_at_360_px_without_javascript(
        browser: Any, live_server: LiveServer) -> None:
    script_id = _seed(live_server)
    context = browser.new_context(locale="en", base_url=live_server.url,
                                  viewport={"width": WIDTH, "height": 740},
                                  java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems = []
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        log_in(page, live_server.admin_code)
        for path, name in (("/partners/scripts", "scripts"),
                           (f"/groups/oostende/scripts/{script_id}", "shared-script")):
            page.goto(path)
            page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > WIDTH:
                problems.append(f"{path}: the page is {wide} px wide")
        page.goto("/partners/scripts")
        button = page.locator(
            f'form[action="/partners/scripts/shared/{script_id}/import"] button')
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44
        button.click()
        page.wait_for_url("**/partners/scripts")
        assert f"Eerste {COMPOUND} is imported" in page.inner_text("#messages")
        assert f"Eerste {COMPOUND}" in page.inner_text("#scripts")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    titles = live_server.run(lambda: list(db.session.scalars(select(ContactScript.title))))
    assert titles == [f"Eerste {COMPOUND}"]


def test_the_hub_page_of_a_shared_script_reads_in_w3m(live_server: LiveServer, w3m: str,
                                                      tmp_path: Path) -> None:
    script_id = _seed(live_server)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm",
           "LANG": "C.UTF-8"}
    headers = ["Accept-Language: en"]
    group = squash(run_w3m(w3m, env, "-dump", live_server.url + "/groups/oostende",
                           headers))
    assert "Contact scripts they share" in group and "Premier contact" in group
    text = squash(run_w3m(w3m, env, "-dump",
                          live_server.url + f"/groups/oostende/scripts/{script_id}", headers))
    assert "Beste {contact_name}," in text and "Subject Kennismaking" in text
