"""The month view of a database with 2,000 events (a year of them, about 167 a month):
HTML + CSS within the first-view budget (14 KB compressed), in a bounded number of
queries, and a list by day, never a table that would be wider than a phone."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event

from lets_site.events.models import Event, Kind
from lets_site.extensions import db
from tests.events.conftest import make_organiser
from tests.test_budgets import FIRST_VIEW_BUDGET, gz_size

EVENTS = 2000
TITLES = ["Filmavond", "Kookworkshop met overschotten", "Boekenruil in de bibliotheek",
          "Instapavond: kennismaken met LETS", "Repair Café", "Ruilmarkt in het park",
          "Sprekersavond over deeleconomie", "Stand op het Borderland-festival"]
VENUES = ["Dienstencentrum De Zonnebloem", "Stadsbibliotheek Ieper", "Zaal De Schakel",
          "Sociale kruidenier De Antenne", ""]


def _seed(organiser: Any) -> None:
    rng = random.Random(11)
    start = datetime(2027, 1, 1, 8, tzinfo=UTC)
    kinds = list(Kind)
    db.session.add_all(
        Event(title=rng.choice(TITLES), kind=rng.choice(kinds),
              starts_at=(at := start + timedelta(minutes=rng.randrange(365 * 24 * 60))),
              ends_at=at + timedelta(hours=2), venue_name=rng.choice(VENUES),
              organiser_id=organiser.id, visibility=rng.choice(["public", "members"]))
        for _ in range(EVENTS))
    db.session.commit()


def test_month_of_a_full_year_fits_the_budget(client: Any, auth: Any) -> None:
    _seed(make_organiser())
    css = client.get("/static/css/site.css").get_data()
    queries: list[str] = []

    def count(*args: Any) -> None:
        queries.append(str(args[2]))

    engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get("/events/month/2027-06")
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    body = response.get_data()
    listed = body.count(b"<dd")
    assert 60 < listed < 120  # the public events of June (about half of 167)
    total = gz_size(body) + gz_size(css)
    print(f"month view: {listed} events, {len(body)} bytes, HTML+CSS {total} bytes gzipped, "
          f"{len(queries)} queries")
    assert total <= FIRST_VIEW_BUDGET
    assert len(queries) <= 12
    assert b"<table" not in body  # a list by day

    # A member sees the members-only events too: about twice as many lines.
    member = make_organiser()
    auth.login(member.account_code)
    body = client.get("/events/month/2027-06").get_data()
    total = gz_size(body) + gz_size(css)
    print(f"month view (member): {body.count(b'<dd')} events, HTML+CSS {total} bytes gzipped")
    assert total <= FIRST_VIEW_BUDGET
