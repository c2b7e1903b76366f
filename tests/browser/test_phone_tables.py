"""The money pages on a 360 px phone, with real rows in their tables: the ledger dashboard,
a statement (and its print version), the payment requests, the group's balances, the
admin's ledger overview, audit log and member list, and a listing (its page, the offers
list, the home page) whose title is one long Dutch compound and whose description holds a
long pasted address. No page is wider than
the screen, and no amount ends up off-screen. Screenshots of each go to test-artifacts/
(phone-*.png). With axe-core installed (npm ci --prefix tests/browser), each page is also
checked for serious accessibility problems, with its rows in it.

The accessibility walk (test_accessibility.py) checks the width of every page too, but on
empty tables; this one fills them with the longest things members type."""

from __future__ import annotations

from typing import Any

import pytest

from lets_site.extensions import db
from lets_site.ledger import services as ledger
from tests import factories
from tests.browser.conftest import ARTIFACTS, LiveServer
from tests.browser.test_accessibility import AXE, AXE_OPTIONS, failures
from tests.browser.test_foundation import log_in
from tests.offers.conftest import make_category, make_listing
from tests.pages import make_people

pytestmark = pytest.mark.browser

WIDTH = 360
# 60 letters, one word, as Dutch writes compounds.
COMPOUND = "Kinderdagverblijfbegeleidersopleidingsinschrijvingsformulier"
LONG_URL = ("https://www.ieper.be/nl/vrije-tijd/verenigingen/ruilkringen-en-deeleconomie/"
            "lets-ieper-ruilkring-voor-diensten-en-spullen?utm_source=nieuwsbrief&"
            "utm_medium=email&utm_campaign=voorjaar2027")
assert len(COMPOUND) == 60
# Descriptions of transfers hold at most 200 characters.
SHORTER_URL = LONG_URL[:120]


def _seed(live: LiveServer) -> dict[str, Any]:
    def seed() -> dict[str, Any]:
        people = make_people()
        member, other, admin = people["member"], people["other_org_member"], people["admin"]
        other.display_name = "Jean-Pierre Vandenbroucke-Lefebvre"
        db.session.commit()
        for n in range(12):
            factories.make_transfer(member, other, str(n + 1),
                                    f"{COMPOUND} nummer {n} {SHORTER_URL if n % 3 == 0 else ''}")
            factories.make_transfer(other, member, "123", f"Terug {COMPOUND}", admin=admin,
                                    over_limit=True)
        key = ledger.new_key()
        ledger.request_payment(member, member.account_code, other.account_code, "45",
                               f"Vraag voor {COMPOUND}", key)
        ledger.request_payment(other, other.account_code, member.account_code, "12",
                               f"{COMPOUND} {SHORTER_URL}", ledger.new_key())
        for n in range(8):
            factories.make_member(display_name=f"{COMPOUND[: 20 + n]} Achternaam{n}")
        make_category(f"Huis en tuin: {COMPOUND}", fr=f"Maison et jardin ({COMPOUND})",
                      en="House and garden")
        listing = make_listing(member, COMPOUND, description=f"Meer uitleg: {LONG_URL}",
                               price_amount=50, price_basis="hour")
        db.session.commit()
        return {"member": member.account_code, "admin": admin.account_code,
                "listing": listing.id}

    return live.run(seed)  # type: ignore[no-any-return]


def _check(page: Any, path: str, name: str) -> list[str]:
    page.goto(path)
    return _measure(page, path, name)


def _measure(page: Any, path: str, name: str) -> list[str]:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
    problems = []
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > WIDTH:
        problems.append(f"{path}: the page is {wide} px wide")
    # Every amount is on screen: its right edge within the page, not in a hidden overflow.
    edges = page.evaluate(
        "() => Array.from(document.querySelectorAll('td.num')).map("
        "td => Math.round(td.getBoundingClientRect().right))")
    if not edges and name not in ("listing", "offers", "home", "members", "audit",
                                  "categories", "settings"):
        problems.append(f"{path}: no amounts in a table (the seed did not reach it)")
    off = [edge for edge in edges if edge > WIDTH]
    if off:
        problems.append(f"{path}: {len(off)} amounts end past {WIDTH} px ({max(off)} px)")
    if AXE.exists():  # the stacked rows keep what axe-core asks of a table
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        problems += [f"{path}: {item}" for item in failures(result)]
    return problems


def test_money_pages_fit_a_360_px_phone(browser: Any, live_server: LiveServer) -> None:
    seeded = _seed(live_server)
    code = seeded["member"]
    pages = {
        "member": [("/ledger/", "ledger"), (f"/ledger/accounts/{code}", "statement"),
                   (f"/ledger/accounts/{code}/print", "statement-print"),
                   ("/ledger/requests", "requests"),
                   (f"/offers/{seeded['listing']}", "listing"), ("/offers/", "offers"),
                   ("/", "home")],
        "admin": [("/admin/audit", "audit"), ("/admin/members/", "members"),
                  ("/admin/ledger", "admin-ledger"), ("/ledger/group", "group"),
                  ("/admin/offers/categories", "categories"), ("/admin/settings", "settings")],
    }
    problems: list[str] = []
    for role, paths in pages.items():
        # The CSP is bypassed only to inject axe-core (as test_accessibility.py does).
        context = browser.new_context(locale="nl-BE", base_url=live_server.url,
                                      viewport={"width": WIDTH, "height": 800},
                                      bypass_csp=True)
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            log_in(page, seeded[role])
            for path, name in paths:
                problems += _check(page, path, name)
            if role == "member":
                # The long address in the listing is a link, and it wraps.
                page.goto(f"/offers/{seeded['listing']}")
                link = page.locator(f'.about a[href="{LONG_URL}"]')
                assert link.count() == 1
                assert link.get_attribute("rel") == "nofollow ugc noopener"
            else:
                # The mass transfer's preview: a table of every active account.
                page.goto("/admin/ledger/mass")
                page.check('input[name="kind"][value="contribution"]')
                page.fill("#amount", "2")
                page.fill("#description", f"Bijdrage {COMPOUND}")
                page.click('button[name="step"][value="preview"]')
                page.wait_for_selector('button[name="step"][value="book"]')
                problems += _measure(page, "/admin/ledger/mass (preview)", "mass-preview")
        finally:
            context.close()
    assert not problems, "\n".join(problems)
