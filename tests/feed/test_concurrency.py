"""Real concurrent clients: a real server (gunicorn, several processes and threads) on the
test's database (SQLite file, or PostgreSQL with LETS_TEST_DATABASE_URL).

Many readers GET /feed.json at the same moment while the id table is empty, then again
after an edit and after a withdrawal: one uuid per item, one revision per change."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lets_site.database import utcnow, write_transaction
from lets_site.extensions import db
from lets_site.feed import services
from lets_site.feed.models import FeedEntry
from lets_site.offers import services as offers
from lets_site.offers.models import Listing
from tests.feed.helpers import make_world
from tests.ledger.test_concurrency import server  # noqa: F401

pytestmark = [pytest.mark.real_commits, pytest.mark.slow]

READERS = 12


def _get_all_at_once(base: str) -> list[dict[str, Any]]:
    start = threading.Barrier(READERS)
    bodies: list[dict[str, Any]] = []
    errors: list[str] = []
    lock = threading.Lock()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def read() -> None:
        try:
            start.wait()
            with opener.open(base + "/feed.json", timeout=60) as response:
                assert response.status == 200
                feed = json.loads(response.read())
            with lock:
                bodies.append(feed)
        except Exception as exc:  # a failed reader must fail the test
            with lock:
                errors.append(repr(exc))

    threads = [threading.Thread(target=read) for _ in range(READERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(bodies) == READERS
    return bodies


def _ids(feed: dict[str, Any]) -> dict[str, tuple[str, int]]:
    return {i["id"]: (i["_lets"]["type"], i["_lets"]["revision"]) for i in feed["items"]}


def test_concurrent_gets_mint_one_uuid_per_item_and_count_a_change_once(
        app: Flask, server: tuple[str, dict[str, str], Path]) -> None:  # noqa: F811
    base, _env, _log = server
    world = make_world()
    offer_uuid, want_id = world.offer.uuid, world.want.id
    db.session.commit()

    first = _get_all_at_once(base)
    assert all(_ids(feed) == _ids(first[0]) for feed in first)
    assert len(first[0]["items"]) == 6
    db.session.rollback()  # a new transaction sees what the server committed
    rows = db.session.scalar(select(func.count(FeedEntry.id)))
    uuids = db.session.scalar(select(func.count(func.distinct(FeedEntry.uuid))))
    assert rows == uuids == 6

    listing = db.session.get(Listing, want_id)
    offers.update_listing(world.hidden, listing, offers.ListingData(
        kind="want", title="Ladder van 3 meter gezocht", price_basis="agree",
        valid_until=listing.valid_until, visibility=listing.visibility))
    db.session.commit()
    second = _get_all_at_once(base)
    revisions = {feed["items"][0]["_lets"]["revision"] for feed in second}
    assert all(_ids(feed) == _ids(second[0]) for feed in second)
    edited = next(i for i in second[0]["items"] if i.get("title") == "Ladder van 3 meter gezocht")
    assert edited["_lets"]["revision"] == 2, revisions

    offer = db.session.scalar(select(Listing).where(Listing.uuid == offer_uuid))
    offers.withdraw(offer.owner_member, offer)
    db.session.commit()
    third = _get_all_at_once(base)
    stones = [next(i for i in feed["items"] if i["id"] == f"urn:uuid:{offer_uuid}")
              for feed in third]
    assert {(s["_lets"]["type"], s["_lets"]["revision"]) for s in stones} == {("deleted", 2)}
    db.session.rollback()
    assert db.session.scalar(select(func.count(FeedEntry.id))) == 6


def test_two_refreshes_from_the_same_stale_view_change_things_once(app: Flask) -> None:
    """Two GETs that both read the table before either wrote (the race a server makes now
    and then) each apply what they saw, on their own connections: still one uuid per item
    and one revision per change. Without "on conflict do nothing" and the UPDATEs'
    conditions the second fails or counts twice."""
    world = make_world()
    want_id = world.want.id
    db.session.commit()

    def race(prepare: Any = None) -> None:
        if prepare is not None:
            prepare()
            db.session.commit()
        views: list[Any] = []
        errors: list[str] = []
        loaded = threading.Barrier(2)

        def refresh() -> None:
            try:
                with app.app_context():
                    current = services._load()
                    db.session.expunge_all()  # keep this view, stale or not
                    db.session.rollback()
                    views.append(current)
                    loaded.wait()
                    with write_transaction():
                        services.apply(current, utcnow())
                        db.session.commit()
            except Exception as exc:  # a failed refresh must fail the test
                errors.append(repr(exc))
                loaded.abort()

        threads = [threading.Thread(target=refresh) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors

    race()
    db.session.rollback()
    rows = list(db.session.scalars(select(FeedEntry)))
    assert len(rows) == 6 and len({r.uuid for r in rows}) == 6
    assert {r.revision for r in rows} == {1}

    def edit() -> None:
        db.session.get(Listing, want_id).title = "Ladder van 3 meter gezocht"

    race(edit)
    db.session.rollback()
    revisions = {r.item_key: r.revision for r in db.session.scalars(select(FeedEntry))}
    want_key = db.session.get(Listing, want_id).urn
    assert revisions.pop(want_key) == 2
    assert set(revisions.values()) == {1}
