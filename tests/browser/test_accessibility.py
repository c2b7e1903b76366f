"""axe-core on every main page of every feature, as a visitor, a member, an intermediary
and an admin, at 360 px (a small phone) and 1280 px: no serious or critical violation, and
WCAG 2.2 AA target sizes (the ``target-size`` rule, off by default in axe-core, is turned
on; it fails a target smaller than 24 by 24 px without room around it). At 360 px no page
may be wider than the screen (the page would scroll sideways).

axe-core is the npm package pinned in tests/browser/package.json (scripts/test installs it
with ``npm ci``). The page's CSP allows only the site's own scripts, so this test's browser
context bypasses the CSP (Playwright's ``bypass_csp``) to inject it; the site itself is
served with its usual headers.

The pages come from the gathered route table (tests/pages.py): a new feature's pages are
checked as soon as its access table lists them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import factories
from tests.browser.conftest import LiveServer, require_tool
from tests.pages import ROLES, make_people, pages_for

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (360, 1280)
FAILING_IMPACTS = ("serious", "critical")
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "rules": {"target-size": {"enabled": True}},
}


@pytest.fixture(scope="module")
def axe_source() -> str:
    return require_tool(str(AXE) if AXE.exists() else None,
                        "axe-core (npm ci --prefix tests/browser)")


@pytest.fixture
def people_and_pages(live_server: LiveServer) -> Iterator[tuple[dict[str, Any], dict]]:
    def seed() -> tuple[dict[str, Any], dict[str, list[str]]]:
        people = make_people()
        codes = {role: people[role].account_code for role in ROLES if role != "anonymous"}
        pages = {role: list(pages_for(live_server.app, role, people)) for role in ROLES}
        return codes, pages

    yield live_server.run(seed)


def failures(result: dict[str, Any]) -> list[str]:
    found = []
    for violation in result["violations"]:
        if violation["impact"] in FAILING_IMPACTS or violation["id"] == "target-size":
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} "
                         f"- {', '.join(targets[:5])}")
    return found


@pytest.mark.parametrize("role", ROLES)
def test_axe_finds_no_serious_violation(browser: Any, live_server: LiveServer,
                                        axe_source: str, people_and_pages: Any,
                                        role: str) -> None:
    codes, pages = people_and_pages
    assert len(pages[role]) >= 8, pages[role]  # the walk found the role's pages
    context = browser.new_context(bypass_csp=True, locale="en-GB", base_url=live_server.url,
                                  viewport={"width": WIDTHS[-1], "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    try:
        if role != "anonymous":
            page.goto("/login")
            page.fill("#identifier", codes[role])
            page.fill("#password", factories.PASSWORD)
            page.click('form[action="/login"] button[type=submit]')
            page.wait_for_selector('form[action="/logout"]')
        for path in pages[role]:
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                if width == WIDTHS[0]:
                    page.goto(path)
                    page.add_script_tag(path=axe_source)
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    if wide > width:
                        problems.append(f"{path} at {width} px: the page is {wide} px wide")
                result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
                problems += [f"{path} at {width} px: {item}" for item in failures(result)]
    finally:
        context.close()
    assert not problems, f"axe-core as {role}:\n" + "\n".join(problems)
