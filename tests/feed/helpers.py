"""Demo-like content of every type the feed carries, made through the features' own
factories (tests/<feature>/...), committed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lets_site.books.models import Visibility as BookVisibility
from lets_site.events.models import Visibility as EventVisibility
from lets_site.offers.models import ListingVisibility
from lets_site.partners.models import Visibility as PartnerVisibility
from tests import factories
from tests.books.helpers import make_book
from tests.events.conftest import make_event, make_organiser
from tests.offers.conftest import make_category, make_listing
from tests.partners.helpers import make_partner

PUBLIC = ListingVisibility.PUBLIC
SECRETS = ("secret.mail@example.org", "+32 470 12 34 56", "Geheimstraat 7")


@dataclass
class World:
    shown: Any  # a member who opted in to be shown publicly
    hidden: Any  # a member who did not
    org: Any
    admin: Any
    offer: Any
    want: Any
    org_offer: Any
    members_offer: Any
    event: Any
    members_event: Any
    book: Any
    partner: Any
    members_partner: Any


def make_world() -> World:
    """One item of every type, plus members-only ones, owned by members whose e-mail,
    phone and address are public on their profile (they still never go into the feed)."""
    shown = factories.make_member(display_name="Sanne Shown", profile_public=True,
                                  email=SECRETS[0], phone=SECRETS[1], address=SECRETS[2],
                                  email_visibility="public", phone_visibility="public",
                                  address_visibility="public")
    hidden = factories.make_member(display_name="Hugo Hidden", profile_public=False)
    admin = factories.make_admin(display_name="Ada Admin")
    org = factories.make_organisation(intermediaries=[hidden], name="Kringwinkel Ieper",
                                      slug="kringwinkel")
    category = make_category("Fietsen", en="Bikes")
    offer = make_listing(shown, "Fietsherstelling", visibility=PUBLIC, category=category,
                         price_amount=150, description="Ik herstel je fiets.")
    want = make_listing(hidden, "Ladder gezocht", kind="want", visibility=PUBLIC,
                        price_basis="agree", price_amount=None)
    org_offer = make_listing(org, "Tweedehands kasten", visibility=PUBLIC)
    members_offer = make_listing(shown, "Alleen voor leden", visibility="members")
    organiser = make_organiser(display_name="Olga Organiser")
    event = make_event(organiser, title="Ruilmarkt", visibility=EventVisibility.PUBLIC,
                       description="Breng mee wat je niet meer nodig hebt.",
                       venue_name="Zaal Ons Huis", venue_address="Markt 1, 8900 Ieper")
    members_event = make_event(organiser, days=12, title="Ledenvergadering",
                               visibility=EventVisibility.MEMBERS)
    book = make_book(shown, "Het verdriet van België", authors="Hugo Claus",
                     isbn="9789023484332")
    partner = make_partner(admin, "Vormingplus Westhoek", website="https://vormingplus.example",
                           gives="Zalen", needs="Vrijwilligers")
    members_partner = make_partner(admin, "Stille partner",
                                   visibility=PartnerVisibility.MEMBERS)
    return World(shown, hidden, org, admin, offer, want, org_offer, members_offer, event,
                 members_event, book, partner, members_partner)


def feed_of(client: Any, **headers: str) -> dict[str, Any]:
    response = client.get("/feed.json", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return json.loads(response.get_data())


def by_title(feed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["title"]: item for item in feed["items"] if "title" in item}


__all__ = ["BookVisibility", "World", "by_title", "feed_of", "make_world"]
