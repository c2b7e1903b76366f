"""How many queries the main pages issue, and that the number does not grow with the data.

Each page is asked twice: with a first batch of content (listings by a member and by an
organisation, payments, events with hosts and partners, books, partners with contacts and a
collaboration, news), and again after a second batch just like it. A query per row (an
"N+1") shows as a count that grows between the two; a new query on every page shows as a
count above the page's budget. The budgets are today's counts: lower them when a page gets
cheaper, never raise them without a reason in the commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from lets_site.content import services as content
from lets_site.content.models import Visibility as NewsVisibility
from lets_site.events import services as events
from lets_site.extensions import db
from lets_site.members.models import Role
from lets_site.partners import services as partners
from tests import factories
from tests.books.helpers import make_book
from tests.events.conftest import make_event
from tests.offers.conftest import make_listing
from tests.partners.helpers import make_collaboration, make_partner

# Page: the most queries a logged-in member's request may issue (BEGIN included).
MEMBER_BUDGET = {
    "/": 29,
    "/offers/": 10,
    "/ledger/": 15,
    "/members/": 11,
    "/events/": 14,
    "/books/": 9,
    "/partners/": 13,
    "/news/": 10,
    "/language": 8,
}
# The same pages for a visitor (the page cache is off in tests).
VISITOR_BUDGET = {
    "/": 21,
    "/offers/": 7,
    "/events/": 10,
    "/books/": 5,
    "/partners/": 8,
    "/news/": 6,
}


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


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


def counts(client: Any, pages: dict[str, int]) -> dict[str, int]:
    result = {}
    for page in pages:
        client.get(page)  # once to warm what a process keeps (compiled templates)
        with counted() as statements:
            response = client.get(page)
        assert response.status_code == 200, (page, response.status_code)
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
    first = counts(client, budget)
    add_content(people, 2)
    second = counts(client, budget)
    grown = {page: (first[page], second[page]) for page in budget
             if second[page] != first[page]}
    assert not grown, f"queries grow with the rows (a query per row?): {grown}"
    over = {page: (second[page], budget[page]) for page in budget
            if second[page] > budget[page]}
    assert not over, f"over the query budget (count, budget): {over}"
