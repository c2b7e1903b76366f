"""A book swap's page on a 360 px phone with a dozen books brought (long Dutch titles and
authors, the three languages, a priced one), as a member who brings books and as the
organiser who records the swap afterwards: no page wider than the screen, the books'
table and the record form stacked. Screenshots: test-artifacts/phone-swap-*.png."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from lets_site.extensions import db
from tests import factories
from tests.browser.conftest import LiveServer
from tests.browser.test_foundation import log_in
from tests.browser.test_phone_tables import COMPOUND, WIDTH, _measure

pytestmark = pytest.mark.browser

TITLES = [("De avonden", "nl", "novel"), (f"Het {COMPOUND}", "nl", "nonfiction"),
          ("Nijntje in de speeltuin", "nl", "children"), ("Le Petit Prince", "fr", "children"),
          ("Les Misérables, tome premier: Fantine", "fr", "novel"), ("Emma", "en", "novel"),
          ("Sapiens", "en", "nonfiction"), ("Kaas", "nl", "novel"),
          ("Het verdriet van België", "nl", "novel"), ("Pallieter", "nl", "novel"),
          ("Suske en Wiske: De Sprietatoren", "nl", "comics"), ("Maigret", "fr", "crime")]


def _seed(live: LiveServer) -> dict[str, Any]:
    def seed() -> dict[str, Any]:
        from lets_site.books import swaps
        from lets_site.books.models import BookAtEvent
        from lets_site.partners.models import Partner
        from tests.books.helpers import make_book
        from tests.events.conftest import make_event, make_organiser

        partner = Partner(slug="bib", name="Stadsbibliotheek Ieper", name_key="stadsbib")
        db.session.add(partner)
        db.session.flush()
        organiser = make_organiser(display_name="Olga Organiser")
        coming = make_event(organiser, days=12, kind="book_swap",
                            title="Boekenruil in de bibliotheek", partner_ids=(partner.id,))
        past = make_event(organiser, days=-1, kind="book_swap", title="Boekenruil vorig jaar",
                          partner_ids=(partner.id,))
        owners = [factories.make_member(display_name=f"Jean-Pierre {COMPOUND[:18 + n]}")
                  for n in range(3)]
        for n, (title, language, genre) in enumerate(TITLES):
            owner = owners[n % 3]
            for event in (coming, past):
                book = make_book(owner, title, language=language, genre=genre,
                                 authors=f"Auteur {COMPOUND[:30]}",
                                 price=Decimal(2) if n == 4 else None)
                if event is coming:
                    swaps.bring(owner, book, event)
                else:  # brought before it began
                    db.session.add(BookAtEvent(book_id=book.id, event_urn=past.urn,
                                               added_at=past.created_at))
        db.session.commit()
        return {"member": owners[0].account_code, "organiser": organiser.account_code,
                "coming": coming.id, "past": past.id, "past_urn": past.urn}

    return live.run(seed)  # type: ignore[no-any-return]


def test_a_book_swap_fits_a_360_px_phone(browser: Any, live_server: LiveServer) -> None:
    seeded = _seed(live_server)
    problems: list[str] = []
    for role, paths in {
        "member": [(f"/events/{seeded['coming']}", "swap-event")],
        "organiser": [(f"/events/{seeded['past']}", "swap-event-past"),
                      (f"/books/swaps/{seeded['past_urn']}/record", "swap-record")],
    }.items():
        context = browser.new_context(locale="nl-BE", base_url=live_server.url,
                                      viewport={"width": WIDTH, "height": 800},
                                      bypass_csp=True)
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            log_in(page, seeded[role])
            for path, name in paths:
                page.goto(path)
                assert page.locator("#books-at-event, .swap-record").count() >= 1, path
                # No amounts in these tables but the price: the width is what counts.
                problems += [p for p in _measure(page, path, name) if "no amounts" not in p]
        finally:
            context.close()
    assert not problems, "\n".join(problems)
