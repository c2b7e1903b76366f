"""Every main page at 360 px, as a visitor, a member, an intermediary and an admin, on the
demo's data: no page may be wider than the screen (it would scroll sideways), and the pages
a member uses most are photographed for a person to look at.

The axe-core test checks the same width on pages built from a few test rows; here the site
carries what a real group has (the demo: years of transfers, long names and descriptions,
payment requests, listings with photos), which is what made tables and long words push the
pages wider before. The pages come from the gathered route table (tests/pages.py), so a new
feature's pages join as soon as its access table lists them.

The screenshots are taken first, on the demo's data alone.
Screenshots (Chromium, JavaScript on, 360 px wide, full page) go to test-artifacts/phone-*.png.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from lets_site import create_app
from lets_site.demo import DEMO_PASSWORD, build_demo
from lets_site.extensions import db
from lets_site.members.models import Member
from lets_site.organisations.models import Organisation
from tests.browser.conftest import ARTIFACTS, LiveServer
from tests.browser.test_foundation import log_in
from tests.conftest import app_config
from tests.pages import ROLES, routes_for

pytestmark = [pytest.mark.browser, pytest.mark.real_commits]

WIDTH = 360


def _demo_people() -> dict[str, Any]:
    """The demo's own people in the roles the route table knows."""
    logins = {role: code for role, code, _email, _password in reversed(_LOGINS)}
    by_code = {m.account_code: m for m in db.session.scalars(select(Member))}
    intermediary = by_code[logins["intermediary"]]
    orgs = list(db.session.scalars(select(Organisation).order_by(Organisation.id)))
    org = next(o for o in orgs if any(i.member_id == intermediary.id
                                      for i in o.intermediaries))
    other_org = next(o for o in orgs if o.id != org.id)
    other = db.session.get(Member, other_org.intermediaries[0].member_id)
    return {"member": by_code[logins["member"]], "intermediary": intermediary,
            "admin": by_code[logins["admin"]], "other_org_member": other,
            "org": org, "other_org": other_org}


_LOGINS: list[tuple[str, str, str, str]] = []


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict]]:
    tmp_path = tmp_path_factory.mktemp("phone")
    config = app_config(tmp_path, f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    app = create_app(config)
    with app.app_context():
        _LOGINS[:] = build_demo()
        people = _demo_people()
        codes = {role: people[role].account_code for role in ROLES if role != "anonymous"}
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="phone-server", daemon=True)
    thread.start()
    try:
        yield (LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app,
                          admin_code=codes["admin"]), {"codes": codes})
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _phone(browser: Any, server: LiveServer, locale: str = "nl-BE") -> Any:
    context = browser.new_context(locale=locale, base_url=server.url,
                                  viewport={"width": WIDTH, "height": 740},
                                  device_scale_factor=1, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    return context


# What is wider than the screen, to say where a page overflows.
WIDEST = """() => {
  const limit = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > limit + 1 && box.width > 0 && !el.closest('.scroll')) {
      const cls = typeof el.className === 'string' && el.className
        ? '.' + el.className.split(' ').join('.') : '';
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls +
               ' right=' + Math.round(box.right));
    }
  }
  return out.slice(0, 4);
}"""


# The pages a member uses most, photographed at 360 px with JavaScript on.
SHOTS = {
    "home": "/",
    "offers": "/offers/",
    "ledger": "/ledger/",
    "statement": "/ledger/accounts/{member}",
}


def _shoot(page: Any, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, name
    target = ARTIFACTS / f"phone-demo-{name}.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 5_000


def test_screenshots_of_the_main_pages_at_360_px(browser: Any, demo_site: Any) -> None:
    """A member's day on a phone, in Dutch: home, offers, a listing, the dashboard, their
    statement, and paying a neighbour found by name, up to the summary before Confirm."""
    from playwright.sync_api import expect

    server, seed = demo_site
    ARTIFACTS.mkdir(exist_ok=True)
    context = _phone(browser, server)
    page = context.new_page()
    try:
        log_in(page, seed["codes"]["member"], DEMO_PASSWORD)
        for name, path in SHOTS.items():
            page.goto(path.format(member=seed["codes"]["member"]))
            _shoot(page, name)
        page.goto("/offers/")
        page.click("main li.listing > a")
        page.wait_for_url(re.compile(r".*/offers/\d+$"))
        _shoot(page, "listing")
        page.goto("/ledger/pay")
        page.locator("#payee").press_sequentially("lefebvre", delay=30)
        suggestion = page.locator("#payee-suggestions a", has_text="Jean-Pierre Lefebvre")
        expect(suggestion).to_have_count(1)
        suggestion.click()
        # The pick swaps the payee field (focus goes back to it): a person reads whose
        # account it is before moving on, and so does the test.
        expect(page.locator("#payee-field .chosen")).to_contain_text("Jean-Pierre Lefebvre")
        page.fill("#amount", "1,5")
        page.fill("#description", "Soep voor de buurvrouw")
        _shoot(page, "pay")
        page.click('form[action="/ledger/pay"] button[type=submit]')
        expect(page.locator("#payment-summary")).to_contain_text("Jean-Pierre Lefebvre")
        expect(page.locator("#payment-summary")).to_contain_text("1,50 uren")
        _shoot(page, "pay-summary")
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["nl-BE", "fr-BE"])
@pytest.mark.parametrize("role", ROLES)
def test_no_main_page_is_wider_than_a_phone(browser: Any, demo_site: Any, role: str,
                                            locale: str) -> None:
    server, seed = demo_site
    # The route table's values make a few rows of their own (a listing per visibility...),
    # once for every role: they are kept in the people they were made for.
    if "paths" not in seed:
        def walk() -> dict[str, list[str]]:
            people = _demo_people()
            return {each: routes_for(each, people) for each in ROLES}

        seed["paths"] = server.run(walk)
    paths = seed["paths"][role]
    assert len(paths) >= 8, paths
    context = _phone(browser, server, locale)
    page = context.new_page()
    problems: list[str] = []
    try:
        if role != "anonymous":
            log_in(page, seed["codes"][role], DEMO_PASSWORD)
        for path in paths:
            # CSV statements and photos are routes too, but not pages.
            head = page.request.get(path)
            assert head.status == 200, (role, path, head.status)
            if not head.headers.get("content-type", "").startswith("text/html"):
                continue
            page.goto(path)
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > WIDTH:
                problems.append(f"{path}: {wide} px wide; {page.evaluate(WIDEST)}")
    finally:
        context.close()
    assert not problems, f"pages wider than {WIDTH} px as {role} ({locale}):\n" + \
        "\n".join(problems)
