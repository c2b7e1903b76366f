"""A collaboration names the event it came from: a select of the group's events (latest
first, optional) on its form, a link on the partner's page, the year page and the CSV, the
collaborations listed on the event's page through the "event" place, and the entry kept
when the event is deleted."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

import pytest

from lets_site import features
from lets_site.events.models import Event, Visibility
from lets_site.extensions import db
from lets_site.partners import services
from lets_site.partners.models import Collaboration
from tests.events.conftest import make_event, make_organiser
from tests.html import main_text, select_text
from tests.partners.helpers import make_collaboration, make_partner


def _form(event_id: str = "", **extra: str) -> dict[str, Any]:
    data = {"happened_on": "18/05/2026", "title": "Filmavond A Plastic Ocean",
            "support": "material", "visitors": "34", "visibility": "public",
            "event_id": event_id}
    data.update(extra)
    return data


@pytest.fixture
def events(app: Any) -> dict[str, Event]:
    organiser = make_organiser(display_name="Olga Organiser", locale="en")
    return {
        "early": make_event(organiser, days=-40, title="Boekenruil"),
        "late": make_event(organiser, days=-5, title="Filmavond"),
        "members": make_event(organiser, days=-20, title="Ledenavond",
                              visibility=Visibility.MEMBERS),
    }


def test_the_form_offers_the_events_latest_first(client: Any, auth: Any, coordinator: Any,
                                                 events: dict[str, Event]) -> None:
    partner = make_partner(coordinator, "Vormingplus")
    assert auth.login(coordinator.account_code).status_code == 303
    page = client.get(f"/partners/{partner.slug}/collaborations/new").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="event_id".*?</select>', page, re.S)
    assert select is not None
    values = re.findall(r'<option[^>]*value="(\d*)"', select.group(0))
    assert values == ["", str(events["late"].id), str(events["members"].id),
                      str(events["early"].id)]


def test_an_entry_links_its_event_both_ways(client: Any, auth: Any, coordinator: Any,
                                            events: dict[str, Event]) -> None:
    partner = make_partner(coordinator, "Vormingplus")
    event = events["late"]
    assert auth.login(coordinator.account_code).status_code == 303
    response = client.post_form(f"/partners/{partner.slug}/collaborations/new",
                                _form(str(event.id)))
    assert response.status_code == 303
    item = db.session.scalar(db.select(Collaboration))
    assert item is not None and item.event_id == event.id
    auth.logout()
    # The partner's page links the event ...
    page = client.get(f"/partners/{partner.slug}")
    together = main_text(page)
    assert "Event: Filmavond" in together
    assert f'href="/events/{event.id}"' in page.get_data(as_text=True)
    # ... and the event's page lists the collaboration it came from.
    event_page = client.get(f"/events/{event.id}")
    listed = select_text(event_page, "#event-collaborations")
    assert "Vormingplus : Filmavond A Plastic Ocean" in listed
    # Another event's page has no such panel.
    assert "event-collaborations" not in client.get(
        f"/events/{events['early'].id}").get_data(as_text=True)


def test_the_year_page_and_csv_carry_the_events_title(client: Any, coordinator: Any,
                                                      events: dict[str, Event]) -> None:
    partner = make_partner(coordinator, "Bibliotheek")
    make_collaboration(coordinator, partner, "Boekenruil in de bib",
                       happened_on=date(2026, 3, 1), event_id=events["early"].id)
    make_collaboration(coordinator, partner, "Zonder evenement", happened_on=date(2026, 4, 1))
    page = client.get("/partners/collaborations?year=2026")
    table = select_text(page, "#collaborations")
    assert "Event: Boekenruil" in table
    response = client.get("/partners/collaborations.csv?year=2026")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";" if ";" in response.get_data(as_text=True) else ","))
    assert rows[0][-1] == "Event"
    assert [row[-1] for row in rows[1:]] == ["Boekenruil", ""]


def test_a_members_only_event_is_not_shown_to_visitors(client: Any, auth: Any,
                                                       people: dict[str, Any],
                                                       coordinator: Any,
                                                       events: dict[str, Event]) -> None:
    partner = make_partner(coordinator, "Vormingplus")
    make_collaboration(coordinator, partner, "Ledenfeest", event_id=events["members"].id)
    assert "Ledenavond" not in main_text(client.get(f"/partners/{partner.slug}"))
    assert auth.login(people["member"].account_code).status_code == 303
    assert "Event: Ledenavond" in main_text(client.get(f"/partners/{partner.slug}"))


def test_an_event_that_is_not_offered_is_refused_on_the_field(
        client: Any, auth: Any, coordinator: Any, events: dict[str, Event]) -> None:
    partner = make_partner(coordinator, "Vormingplus")
    assert auth.login(coordinator.account_code).status_code == 303
    response = client.post_form(f"/partners/{partner.slug}/collaborations/new",
                                _form("999999"))
    assert response.status_code == 200
    assert "Choose an event from the list." in select_text(response, "#event_id-error")
    assert db.session.scalar(db.select(Collaboration)) is None


def test_a_visitor_cannot_name_a_members_only_event_in_the_service(
        app: Any, events: dict[str, Event]) -> None:
    assert features.linked("event", [events["members"].id], None) == {}
    assert set(features.linked("event", [events["members"].id, events["late"].id, None],
                               None)) == {events["late"].id}


def test_deleting_the_event_keeps_the_entry(client: Any, auth: Any, coordinator: Any,
                                            events: dict[str, Event]) -> None:
    partner = make_partner(coordinator, "Vormingplus")
    item = make_collaboration(coordinator, partner, "Filmavond met Vormingplus",
                              happened_on=date(2026, 5, 18), event_id=events["late"].id)
    db.session.delete(events["late"])
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(Collaboration, item.id)
    assert kept is not None and kept.event_id is None
    assert (kept.title, kept.happened_on) == ("Filmavond met Vormingplus", date(2026, 5, 18))
    together = main_text(client.get(f"/partners/{partner.slug}"))
    assert "Filmavond met Vormingplus" in together and "Event:" not in together
    # The entry can still be edited, and names no event unless one is chosen.
    assert auth.login(coordinator.account_code).status_code == 303
    assert client.post_form(f"/partners/{partner.slug}/collaborations/{item.id}/edit",
                            _form(title="Filmavond")).status_code == 303


def test_the_event_a_collaboration_names_stays_when_edited(coordinator: Any,
                                                          events: dict[str, Event]) -> None:
    partner = make_partner(coordinator, "Vormingplus")
    item = make_collaboration(coordinator, partner, event_id=events["early"].id)
    choices = services.event_choices(coordinator, item.event_id)
    assert events["early"].id in [i for i, _item in choices]
