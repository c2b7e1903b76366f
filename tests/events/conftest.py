from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask

from lets_site.events import services
from lets_site.events.models import Event
from lets_site.events.services import EventData
from lets_site.extensions import db
from lets_site.members.models import Member, Role
from lets_site.settings import zone
from tests import factories


def make_organiser(**overrides: Any) -> Member:
    overrides.setdefault("roles", [Role.MEMBER, Role.ORGANISER])
    return factories.make_member(**overrides)


def make_event(organiser: Member, days: int = 10, **values: Any) -> Event:
    """An event ``days`` from today at 19:30 (the group's zone and date: between midnight
    there and midnight UTC the machine's date is a day behind), committed."""
    today = datetime.now(zone()).date()
    data = EventData(**{"title": "Film night", "start_date": today + timedelta(days=days),
                        "start_time": time(19, 30), **values})
    event = services.create_event(organiser, data)
    db.session.commit()
    return event


@pytest.fixture
def organiser(app: Flask) -> Member:
    return make_organiser(display_name="Olga Organiser", locale="en")


@pytest.fixture
def new_event(app: Flask) -> Callable[..., Event]:
    return make_event
