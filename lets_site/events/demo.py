"""Demo events from the group's own story: the film night with Vormingplus, the book swap
at the library, a cooking workshop with BMLIK, intro evenings at the service centre (a
monthly series), the festival stand with neighbouring groups invited; with registrations,
a full event with a waiting list, a cancelled one and a past one."""

from __future__ import annotations

import random
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from lets_site.events import services
from lets_site.events.models import Event, Kind, PriceKind, Status, Visibility
from lets_site.events.services import EventData
from lets_site.extensions import db
from lets_site.features import DemoGroup
from lets_site.members.models import Member
from lets_site.partners.models import Partner


def _partners(*prefixes: str) -> tuple[int, ...]:
    """The demo partners (the partners feature's demo step runs first) whose names start
    so; none when partners has no demo data."""
    ids = []
    for prefix in prefixes:
        found = db.session.scalars(select(Partner.id).where(Partner.name.startswith(prefix))
                                   .limit(1)).first()
        if found is not None:
            ids.append(found)
    return tuple(ids)


def seed(rng: random.Random, members: list[Member], _organisations: list[Any],
         group: DemoGroup | None = None) -> None:
    """The events; ``group`` (default LETS Ieper) gives the town of the addresses and moves
    every date by its ``day_shift``."""
    group = group or DemoGroup()
    town = f"{group.postcode} {group.locality}"

    def _day(offset: int) -> date:
        return date.today() + timedelta(days=offset + group.day_shift)

    # The monthly series keeps its weekday: moved by whole weeks.
    first_tuesday = _first_weekday(1) + timedelta(weeks=group.day_shift // 7)

    active = [m for m in members if m.is_active and m.account_code]
    if len(active) < 8:
        return
    organiser = next((m for m in active if m.is_admin), active[0])

    def make(data: EventData, repeat: str = "", count: int = 1) -> Event:
        return services.create_event(organiser, data, repeat, count)

    film = make(EventData(
        title="Filmavond: A Plastic Ocean", kind=Kind.FILM, start_date=_day(9),
        start_time=time(19, 30), end_time=time(22, 0), venue_name="Zaal De Schakel",
        venue_address="Marktplein 3, " + town, partner_ids=_partners("Vormingplus"),
        description="Documentaire over plastic in de oceaan, met nagesprek. "
                    "Ook voor wie (nog) geen lid is.",
        visibility=Visibility.PUBLIC, open_to_non_members=True, capacity=40))
    swap = make(EventData(
        title="Boekenruil in de bibliotheek", kind=Kind.BOOK_SWAP, start_date=_day(23),
        all_day=True, venue_name="Stadsbibliotheek", venue_address="Weverijstraat 1, " + town,
        partner_ids=_partners("Stadsbibliotheek"), visibility=Visibility.PUBLIC,
        description="Breng boeken mee en neem er andere mee naar huis. Jaarlijks terug."))
    cooking = make(EventData(
        title="Kookworkshop met overschotten", kind=Kind.WORKSHOP, start_date=_day(5),
        start_time=time(18, 0), end_time=time(21, 0), venue_name="Sociale kruidenier",
        partner_ids=_partners("BMLIK", "De Antenne"), visibility=Visibility.MEMBERS,
        price_kind=PriceKind.UNITS, price=Decimal(1), capacity=4,
        description="Samen koken met voedseloverschotten. Vol? Zet je op de wachtlijst."))
    intro = make(EventData(
        title="Instapavond: kennismaken met LETS", kind=Kind.INTRO_EVENING,
        start_date=first_tuesday, start_time=time(19, 30), end_time=time(21, 30),
        venue_name="Dienstencentrum De Zonnebloem", venue_address="Kalfvaartstraat 10, " + town,
        partner_ids=_partners("Lokaal dienstencentrum"), visibility=Visibility.PUBLIC,
        open_to_non_members=True, capacity=15,
        description="Nieuwsgierig? Kom kennismaken en probeer meteen de website uit."),
        repeat="monthly_weekday", count=6)
    festival = make(EventData(
        title="Stand op het Borderland-festival", kind=Kind.FESTIVAL_STAND,
        start_date=_day(40), end_date=_day(41), all_day=True, venue_name="Festivalweide",
        partner_ids=_partners("Borderland"),
        visibility=Visibility.PUBLIC, price_kind=PriceKind.EURO, price=Decimal("12.50"),
        guests="LETS Poperinge\nSEL Lille-Métropole", capacity=30,
        closes_date=_day(33), closes_time=time(20, 0),
        description="Wie vooraf inschrijft krijgt gratis toegang en drankbonnetjes."))
    speaker = make(EventData(
        title="Sprekersavond over deeleconomie", kind=Kind.MEETING, start_date=_day(14),
        start_time=time(20, 0), venue_name="Stadhuis, raadzaal",
        partner_ids=_partners("Stad Ieper"),
        visibility=Visibility.PUBLIC))
    services.set_status(organiser, speaker, Status.CANCELLED)
    past = make(EventData(
        title="Ruilmarkt in het park", kind=Kind.MARKET, start_date=_day(-20),
        start_time=time(14, 0), end_time=time(17, 0), venue_name="Stadspark",
        visibility=Visibility.PUBLIC))

    others = [m for m in active if m.id != organiser.id]
    rng.shuffle(others)
    for member in others[:6]:  # 4 places: 2 on the waiting list
        services.register(member, cooking)
    for member in others[:12]:
        services.register(member, film)
    for member in others[2:9]:
        services.register(member, intro)
    for member in others[:5]:
        services.register(member, festival)
    _ = (swap, past)
    db.session.flush()


def _first_weekday(weekday: int) -> date:
    """The first such weekday (Monday 0) of next month."""
    today = date.today()
    year, month = (today.year, today.month + 1) if today.month < 12 else (today.year + 1, 1)
    day = date(year, month, 1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day
