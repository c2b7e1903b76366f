"""Thirty members registering at once for the last ten places, through a real server
(gunicorn, several processes and threads) on the test's database (SQLite file or
LETS_TEST_DATABASE_URL): exactly ten get a place, the other twenty wait in the order the
server took them, and unregistering promotes the first of them, in order."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from lets_site.events import services
from lets_site.events.models import Registration, RegState
from lets_site.extensions import db
from tests import factories
from tests.events.conftest import make_event, make_organiser
from tests.ledger.test_concurrency import Browser, server  # noqa: F401 - the server fixture

pytestmark = pytest.mark.real_commits

CLIENTS = 30
PLACES_LEFT = 10
ALREADY = 5
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.mark.slow
def test_thirty_clients_fill_the_last_ten_places_and_queue_in_order(
        app: Flask, server: tuple[str, dict[str, str], Path]) -> None:  # noqa: F811
    base, _env, server_log = server
    organiser = make_organiser()
    event = make_event(organiser, capacity=ALREADY + PLACES_LEFT)
    for _ in range(ALREADY):
        services.register(factories.make_member(), event)
    members = [factories.make_member() for _ in range(CLIENTS)]
    db.session.commit()
    event_id = event.id
    codes = [m.account_code or "" for m in members]

    errors: list[str] = []
    answers: dict[int, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(n: int) -> None:
        try:
            browser = Browser(base)
            browser.login(codes[n])
            page = browser.get(f"/events/{event_id}")
            token = CSRF_RE.search(page)
            assert token, page[:300]
            start.wait()
            status, location, text = browser.post(f"/events/{event_id}/register",
                                                  {"csrf_token": token.group(1)})
            with lock:
                answers[n] = status
            if status != 303 or location != f"/events/{event_id}":
                with lock:
                    errors.append(f"client {n}: {status} {location} {text[:200]}")
        except Exception as exc:  # a failed thread must fail the test
            with lock:
                errors.append(f"client {n}: {exc!r}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, [*errors, server_log.read_text(errors="replace")[-2000:]]

    db.session.rollback()  # end the test's read transaction: see what the server wrote
    rows = list(db.session.scalars(select(Registration).where(
        Registration.event_id == event_id, Registration.member_id.in_(
            [m.id for m in members]))))
    assert len(rows) == CLIENTS  # each exactly once
    registered = [r for r in rows if r.state == RegState.REGISTERED]
    waiting = sorted((r for r in rows if r.state == RegState.WAITING),
                     key=lambda r: r.position)
    assert len(registered) == PLACES_LEFT
    assert len(waiting) == CLIENTS - PLACES_LEFT
    positions = [r.position for r in rows]
    assert len(set(positions)) == CLIENTS  # one queue number each
    # In order: everyone who got a place was taken before everyone who waits.
    assert max(r.position for r in registered) < min(r.position for r in waiting)

    # Three places free up: the first three waiting get them, the rest keep their order.
    event = db.session.get(type(event), event_id)
    for reg in registered[:3]:
        services.unregister(reg.member, event)
        db.session.commit()
    db.session.expire_all()
    states = {r.id: db.session.get(Registration, r.id).state for r in waiting}
    assert [states[r.id] for r in waiting] == (
        [RegState.REGISTERED] * 3 + [RegState.WAITING] * (len(waiting) - 3))
