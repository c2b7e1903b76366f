"""Partners in a real browser at 360 px, with JavaScript on (htmx moves cards on the board in
place) and off (plain POST forms and redirects), and in w3m; the year's collaborations
print on two A4 pages for the demo data.

Assertions use structure (URLs, ids, form actions) and the data the test typed, not
translated strings.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from lets_site import features
from lets_site.extensions import db
from lets_site.members import services as members
from lets_site.partners import services
from tests import factories
from tests.browser.conftest import LiveServer
from tests.browser.test_foundation import MODES, log_in, tabs  # noqa: F401 - fixture
from tests.browser.test_text_browser import (
    RAW_HTML,
    outline,
    run_w3m,
    session_cookie,
    squash,
)
from tests.partners.helpers import make_collaboration, make_partner, make_script

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def _fits(page: Any) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    print(f"MEASURED: {page.url} {wide} px")
    assert wide <= PHONE["width"], f"{page.url} is {wide} px wide at 360 px"


@pytest.mark.parametrize("javascript", MODES)
def test_coordinator_takes_a_prospect_from_idea_to_partner_on_a_phone(
        live_server: LiveServer, tabs: Any, javascript: bool) -> None:  # noqa: F811
    from playwright.sync_api import expect

    def seed() -> tuple[str, int]:
        admin = members.get_by_code(live_server.admin_code)
        person = factories.make_member(display_name="Cora Coordinator")
        services.grant_coordinator(admin, person.account_code)
        services.set_script_values(admin, "een stand op jullie markt", "donderdag 14 januari")
        db.session.commit()
        return person.account_code, make_script(admin, body="Beste {contact_name} van "
                                                            "{organisation}, kom naar "
                                                            "{next_intro_evening}.").id

    code, script_id = live_server.run(seed)
    tab = tabs(javascript)
    page = tab.page
    page.set_viewport_size(PHONE)
    log_in(page, code)

    page.goto("/partners/prospects/new")
    _fits(page)
    page.fill("#name", "Repair Café Ieper")
    page.fill("#contact_name", "Jan Peeters")
    page.fill("#contact_email", "jan@repair.example.org")
    page.fill("#next_step", "Mail sturen")
    page.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/partners/prospects/\d+$"))
    prospect_url = page.url
    prospect_id = int(prospect_url.rsplit("/", 1)[1])
    _fits(page)

    for summary in ("Gebeld met Jan", "Jan komt naar de instapavond"):
        page.fill("#summary", summary)
        page.click('form:has(#summary) button[type=submit]')
        expect(page.locator("#history")).to_contain_text(summary)

    page.click(f'a[href="/partners/prospects/{prospect_id}/scripts/{script_id}"]')
    expect(page.locator("#text")).to_have_value(re.compile("Beste Jan Peeters van Repair Café"))
    _fits(page)
    page.click(f'form[action="/partners/prospects/{prospect_id}/send"] button')
    expect(page).to_have_url(prospect_url)
    outbox = Path(live_server.app.instance_path) / "outbox"
    assert any("jan@repair.example.org" in p.read_text(errors="replace")
               for p in outbox.glob("*.eml"))

    page.goto("/partners/prospects")
    _fits(page)
    if javascript:
        page.evaluate("window.__sameDocument = true")
    card = f"#prospect-{prospect_id}"
    for status in ("to_contact", "contacted", "meeting", "partner"):
        page.select_option(f"#move-{prospect_id}", status)
        page.click(f"{card} form.move button")
        expect(page.locator(f'section[aria-labelledby="stage-{status}"] {card}')).to_have_count(1)
        if javascript:  # the outcome of the move in place has the keyboard focus
            expect(page.locator("#board > .flash")).to_be_focused()
        _fits(page)
    if javascript:
        assert page.evaluate("window.__sameDocument === true"), "a move reloaded the page"
    else:
        expect(page).to_have_url(re.compile(r"/partners/prospects$"))

    page.click(f'{card} a[href^="/partners/"]:not([href*="prospects"])')
    expect(page.locator("h1")).to_contain_text("Repair Café Ieper")
    expect(page.locator("main")).to_contain_text("Gebeld met Jan")
    _fits(page)


def _seed_directory() -> tuple[str, str]:
    admin = factories.make_admin(display_name="Anna Admin")
    partner = make_partner(admin, "Stadsbibliotheek Ieper", sector="library",
                           gives="Ruimte en de kosten van de boekenruil",
                           website="https://ieper.bibliotheek.example.org/een/heel/lang/"
                                   "adres/dat/op/een/telefoon/moet/afbreken")
    services.add_contact(admin, partner, services.ContactData(
        name="Ellen Vanneste", role="bibliothecaris", email="ellen.vanneste@example.org"))
    make_collaboration(admin, partner, "Boekenruil in de bibliotheek")
    factories.make_organisation(name="Hedera", slug="hedera")
    db.session.commit()
    return partner.slug, factories.make_member(display_name="Mia Member").account_code


def test_directory_and_partner_page_in_w3m(live_server: LiveServer, w3m: str,
                                           w3m_env: dict[str, str]) -> None:
    slug, member_code = live_server.run(_seed_directory)
    cookie = "Cookie: " + session_cookie(live_server, member_code)
    for path, headers in (("/partners/", []), (f"/partners/{slug}", []),
                          (f"/partners/{slug}", [cookie])):
        url = live_server.url + path
        headers = ["Accept-Language: nl", *headers]
        source = run_w3m(w3m, w3m_env, "-dump_source", url, headers)
        text = run_w3m(w3m, w3m_env, "-dump", url, headers)
        flat = squash(text)
        expected = outline(source)
        assert expected["h1"], path
        for tag in ("h1", "h2", "label"):
            for item in expected[tag]:
                assert item in flat, f"{tag} {item!r} of {path} is missing in w3m's text"
        assert not RAW_HTML.search(text), RAW_HTML.search(text)
        assert "Stadsbibliotheek Ieper" in flat
        if path == "/partners/":
            assert "Hedera" in flat  # a member organisation, listed without retyping
        else:
            assert "Boekenruil in de bibliotheek" in flat
            # Contact persons are for members only.
            assert ("Ellen Vanneste" in flat) == bool(headers[1:])


def test_prospects_board_in_w3m_is_a_list_grouped_by_stage(
        live_server: LiveServer, w3m: str, w3m_env: dict[str, str]) -> None:
    def seed() -> str:
        admin = members.get_by_code(live_server.admin_code)
        for name, status in (("Velt", "idea"), ("Natuurpunt", "contacted")):
            prospect = services.create_prospect(admin, services.ProspectData(name=name))
            if status != "idea":
                services.move_prospect(admin, prospect, status)
        db.session.commit()
        return live_server.admin_code

    code = live_server.run(seed)
    headers = ["Accept-Language: nl", "Cookie: " + session_cookie(live_server, code)]
    url = live_server.url + "/partners/prospects"
    source = run_w3m(w3m, w3m_env, "-dump_source", url, headers)
    text = run_w3m(w3m, w3m_env, "-dump", url, headers)
    stages = outline(source)["h2"]
    assert len(stages) == 6
    lines = [line.strip().lstrip("•").strip() for line in text.splitlines()]
    # Each stage's heading, then its cards: Velt under the first, Natuurpunt under the third.
    where = {name: next(i for i, line in enumerate(lines) if line.startswith(name))
             for name in [*stages, "Velt", "Natuurpunt"]}
    assert where[stages[0]] < where["Velt"] < where[stages[1]]
    assert where[stages[2]] < where["Natuurpunt"] < where[stages[3]]
    assert not RAW_HTML.search(text)
    assert text.count("[") >= 2  # the move forms' fields are there without script


def test_visitor_pages_fit_a_phone_without_javascript(live_server: LiveServer,
                                                      tabs: Any) -> None:  # noqa: F811
    slug, _code = live_server.run(_seed_directory)
    page = tabs(False).page
    page.set_viewport_size(PHONE)
    for path in ("/partners/", f"/partners/{slug}", "/partners/hedera",
                 "/partners/collaborations"):
        page.goto(path)
        _fits(page)


def test_collaborations_of_the_demo_year_print_on_two_a4_pages(live_server: LiveServer,
                                                               browser: Any) -> None:
    def seed() -> int:
        ctx = features.DemoContext(rng=random.Random(8900))
        for step in features.demo_steps():
            step.run(ctx)
            db.session.flush()
        db.session.commit()
        years = services.collaboration_years(None)
        return max(years, key=lambda y: len(services.year_report(None, y).items))

    year = live_server.run(seed)
    context = browser.new_context(locale="nl-BE", base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto(f"/partners/collaborations?year={year}")
        rows = page.locator("#collaborations tbody tr").count()
        assert rows >= 12
        pdf = page.pdf(format="A4", print_background=False)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        print(f"MEASURED: {rows} collaborations of {year} print on {pages} A4 pages")
        assert 1 <= pages <= 2, f"{rows} collaborations print on {pages} pages"
    finally:
        context.close()
