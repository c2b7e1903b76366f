"""A live group site and a second site's aggregator: the group's app under a real HTTP
server on 127.0.0.1 (in a thread) serves its own /feed.json from the demo's data; the
aggregator of another app, on a database of its own, fetches it with the real sweep."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from lets_site import create_app, features
from lets_site.extensions import db
from lets_site.federation import agenda, services, sweep
from lets_site.federation.models import FeedItem
from lets_site.offers import services as offers
from lets_site.offers.models import Listing
from tests.conftest import app_config

pytestmark = [pytest.mark.real_commits, pytest.mark.slow]


@pytest.fixture
def group_site(app: Flask) -> Iterator[str]:
    """The test's app seeded by the demo steps and served on 127.0.0.1; its address."""
    ctx = features.DemoContext(rng=random.Random(8900))
    for step in features.demo_steps():
        step.run(ctx)
        db.session.flush()
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@pytest.fixture
def aggregator(tmp_path: Path) -> Iterator[Flask]:
    config = app_config(tmp_path, f"sqlite:///{tmp_path / 'aggregator.sqlite3'}")
    other = create_app({**config, "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.1/32"],
                        "FEDERATION_ALLOW_HTTP": True, "FEDERATION_WORKERS": 2})
    with other.app_context():
        db.create_all()
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _live(other: Flask) -> dict[str, FeedItem]:
    with other.app_context():
        items = {row.item_id: row for row in db.session.scalars(select(FeedItem))}
        db.session.expunge_all()
        return items


def test_a_live_sites_feed_is_merged_and_a_withdrawn_listing_goes(
        app: Flask, group_site: str, aggregator: Flask) -> None:
    with aggregator.app_context():
        services.add_feed(None, "lets-ieper", f"{group_site}/feed.json")
        db.session.commit()
    first = sweep.run(aggregator)
    assert dict(first.outcomes) == {"ok": 1}

    merged = _live(aggregator)
    kinds = {row.type for row in merged.values()}
    assert {"offer", "want", "event"} <= kinds
    assert all(row.url.startswith(group_site + "/") for row in merged.values())
    with aggregator.app_context(), aggregator.test_request_context():
        page, _choices = agenda.agenda(agenda.Filters(), ZoneInfo("Europe/Brussels"),
                                       datetime.now(UTC), per_page=100)
        assert page.total > 0
        assert {row.group for row in page.items} == {"LETS Ieper"}
        assert "Filmavond: A Plastic Ocean" in {row.title for row in page.items}

    # A listing the feed carries is withdrawn on the group's site.
    listings = {key: db.session.get(Listing, int(row.url.rstrip("/").rsplit("/", 1)[1]))
                for key, row in sorted(merged.items()) if row.type == "offer"}
    offer, listing = next((key, found) for key, found in listings.items()
                          if found is not None and found.owner_member is not None)
    assert listing.owner_member is not None
    offers.withdraw(listing.owner_member, listing)
    db.session.commit()

    # The next fetch (the interval later): the feed has changed, the item is a tombstone.
    later = datetime.now(UTC) + timedelta(seconds=aggregator.config[
        "FEDERATION_INTERVAL_SECONDS"] + 1)
    second = sweep.run(aggregator, clock=lambda: later)
    assert dict(second.outcomes) == {"ok": 1}
    after = _live(aggregator)
    assert after[offer].deleted and after[offer].type == "deleted"
    assert after[offer].revision > merged[offer].revision
    with aggregator.app_context():
        live = set(db.session.scalars(
            select(FeedItem.item_id).where(FeedItem.deleted.is_(False))))
    assert offer not in live
    assert live == {key for key, row in merged.items() if not row.deleted} - {offer}
