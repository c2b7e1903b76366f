"""How many queries the main pages issue, and that the number does not grow with the data.

Each page is asked twice: with a first batch of content (listings by a member and by an
organisation, payments, events with hosts and partners, books, partners with contacts and a
collaboration, news), and again after a second batch just like it. A query per row (an
"N+1") shows as a count that grows between the two; a new query on every page shows as a
count above the page's budget. The budgets are today's counts: lower them when a page gets
cheaper, never raise them without a reason in the commit. Every main page stays within 8
for a member; the home page's shared panels (news, offers, events, "new on the site") and
the offers list's results are kept per process (lets_site/fragments.py): a warm worker.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from lets_site.content import services as content
from lets_site.content.models import Visibility as NewsVisibility
from lets_site.events import services as events
from lets_site.extensions import db
from lets_site.members.models import Role
from lets_site.offers.models import Listing, ListingVisibility
from lets_site.partners import services as partners
from tests import factories
from tests.books.helpers import make_book
from tests.events.conftest import make_event
from tests.offers.conftest import make_listing
from tests.partners.helpers import make_collaboration, make_partner
from tests.queries import counted

# Page: the most queries a logged-in member's request may issue (BEGIN and the end of the
# transaction included). {listing} is a listing of the first batch, {statement} the member's
# statement. The logged-in member with their roles, the settings, the category tree, the
# placed pages, the editor check and the header balance come from the per-process cache
# (lets_site.settings.shared): a warm worker.
MEMBER_BUDGET = {
    "/": 6,
    "/offers/": 0,
    "{listing}": 5,
    "/ledger/": 0,
    "{statement}": 3,
    "/members/": 5,
    "/events/": 6,
    "/books/": 3,
    "/partners/": 6,
    "/news/": 4,
    "/documents/": 3,
    "/organisations/": 4,
    "/language": 0,
}
# The same pages for a visitor (the page cache is off in tests).
VISITOR_BUDGET = {
    "/": 3,
    "/offers/": 0,
    "{listing}": 3,
    "/events/": 6,
    "/books/": 3,
    "/partners/": 6,
    "/news/": 4,
    "/documents/": 3,
    "/organisations/": 4,
    "/language": 0,
}



def add_content(people: dict[str, Any], round_: int) -> None:
    """One batch of everything the main pages list, from several owners."""
    admin, member, org = people["admin"], people["member"], people["org"]
    other = people["other_org_member"]
    for owner in (member, other):
        host = factories.make_member(display_name=f"Host {round_} {owner.id}")
        make_listing(owner, f"Fietsherstelling {round_} {owner.id}")
        factories.make_transfer(owner, host, 5, f"Klus {round_}")
        factories.make_transfer(host, owner, 3, f"Terug {round_}")
        make_book(owner, f"Boek {round_} {owner.id}")
    make_listing(org, f"Soep {round_}", contact=people["intermediary"])
    # Organisations on both sides of the member's lines (their intermediaries are not
    # read for a statement's names).
    factories.make_transfer(member, org, 2, f"Soep {round_}")
    factories.make_transfer(people["other_org"], member, 1, f"Zaal {round_}")
    make_listing(member, f"Open tuin {round_}", visibility=ListingVisibility.PUBLIC)
    make_book(org, f"Boek van Hedera {round_}")
    partner = make_partner(admin, f"Partner {round_}")
    partners.add_contact(admin, partner, partners.ContactData(name=f"Contact {round_}"))
    make_collaboration(admin, partner, f"Filmavond {round_}")
    db.session.commit()
    organiser = factories.make_member(display_name=f"Organiser {round_}",
                                      roles=[Role.MEMBER, Role.ORGANISER])
    for days in (3, 9):
        make_event(organiser, days=days + round_, title=f"Event {round_} {days}",
                   host_codes=(member.account_code, other.account_code),
                   partner_ids=(partner.id,))
    content.save_news(admin, None, content.NewsInput(
        title=f"Nieuws {round_}", summary="Kort", body="Lang", pinned=False,
        news_date=date.today() - timedelta(days=round_), visibility=NewsVisibility.PUBLIC))
    db.session.commit()
    assert events  # the events service made the events above through make_event


def counts(client: Any, pages: dict[str, int], places: dict[str, str]) -> dict[str, int]:
    result = {}
    for page in pages:
        url = page.format(**places)
        client.get(url)  # once to warm what a process keeps (compiled templates, caches)
        with counted() as statements:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        result[page] = len(statements)
    return result


@pytest.mark.parametrize("who", ["member", "visitor"])
def test_main_pages_stay_within_their_query_budget_as_the_data_grows(
        app: Any, client: Any, login_as: Any, people: dict[str, Any], who: str) -> None:
    app.config["PAGE_CACHE_SECONDS"] = 0  # what a visitor's page costs to make
    budget = MEMBER_BUDGET if who == "member" else VISITOR_BUDGET
    if who == "member":
        login_as("member")
    add_content(people, 1)
    listing = db.session.scalar(select(Listing.id).where(
        Listing.visibility == ListingVisibility.PUBLIC).order_by(Listing.id))
    places = {"listing": f"/offers/{listing}",
              "statement": f"/ledger/accounts/{people['member'].account_code}"}
    first = counts(client, budget, places)
    add_content(people, 2)
    second = counts(client, budget, places)
    grown = {page: (first[page], second[page]) for page in budget
             if second[page] != first[page]}
    assert not grown, f"queries grow with the rows (a query per row?): {grown}"
    over = {page: (second[page], budget[page]) for page in budget
            if second[page] > budget[page]}
    assert not over, f"over the query budget (count, budget): {over}"
