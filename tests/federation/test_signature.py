"""Signature verification in the aggregator: a group with a registered Ed25519 key is
read only when its feed's signature verifies over the RFC 8785 canonical JSON. The feeds
are served by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import select

from lets_site import signing
from lets_site.extensions import db
from lets_site.federation import fetch, services
from lets_site.federation.models import Feed, FeedItem, FetchLog, Health
from tests.federation import feeds
from tests.federation.servers import FeedServer, feed_server, static

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as running:
        yield running


@pytest.fixture
def limits(app: Flask) -> fetch.Limits:
    app.config.update(FEDERATION_ALLOW_HTTP=True, ALLOWED_PRIVATE_NETWORKS=["127.0.0.1/32"],
                      FEDERATION_DEADLINE=3, FEDERATION_READ_TIMEOUT=2,
                      FEDERATION_CONNECT_TIMEOUT=2)
    return fetch.Limits.from_config(app.config)


def _document(server: FeedServer, titles: tuple[str, ...] = ("Soup", "Bread")) -> dict[str, Any]:
    base = server.base
    return feeds.feed(base, "ieper", [feeds.offer(base, n, title=title)
                                      for n, title in enumerate(titles)])


def _signed(document: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    signed = copy.deepcopy(document)
    signed["_lets"]["signature"] = signing.sign(document, key, "2026-12-01T10:00:00Z")
    return signed


def _fetch(server: FeedServer, limits: fetch.Limits, document: dict[str, Any],
           key: str | None = signing.public_key_text(KEY), at: datetime = NOW) -> str:
    """Serve ``document`` and fetch it once for the followed group ``ieper``."""
    server.routes["/feed.json"] = static(json.dumps(document).encode())
    feed = db.session.scalar(select(Feed).where(Feed.slug == "ieper"))
    if feed is None:
        feed = services.add_feed(None, "ieper", server.url("/feed.json"), key)
    feed.next_fetch_at = at - timedelta(seconds=1)
    db.session.flush()
    claim = services.claim("t", at, at, 60)
    assert claim is not None
    try:
        result: fetch.Response | fetch.FetchError = fetch.get(claim.feed_url, limits)
    except fetch.FetchError as error:
        result = error
    outcome = services.record(claim, "t", at, at, result, 5, services.Schedule())
    db.session.flush()
    return outcome


def _titles() -> list[str]:
    return sorted(db.session.scalars(select(FeedItem.title).where(FeedItem.deleted.is_(False))))


def _feed() -> Feed:
    feed = db.session.scalar(select(Feed).where(Feed.slug == "ieper"))
    assert feed is not None
    return feed


def test_feed_signed_with_the_registered_key_is_merged(server: FeedServer,
                                                       limits: fetch.Limits) -> None:
    assert _fetch(server, limits, _signed(_document(server), KEY)) == "ok"
    assert _titles() == ["Bread", "Soup"]
    assert _feed().health == Health.OK


@pytest.mark.parametrize("case,reason", [
    ("wrong key", "the feed's signature does not match the registered key"),
    ("tampered item", "the feed's signature does not match the registered key"),
    ("no signature", "the feed is not signed, but a key is registered for this group"),
    ("other algorithm", "the feed's signature is not an Ed25519 signature over RFC 8785 JSON"),
])
def test_feed_that_does_not_verify_is_refused_and_the_last_good_snapshot_stays(
        server: FeedServer, limits: fetch.Limits, case: str, reason: str) -> None:
    assert _fetch(server, limits, _signed(_document(server), KEY)) == "ok"
    changed = _document(server, ("Soup", "Bread", "Jam"))
    if case == "wrong key":
        bad = _signed(changed, OTHER)
    elif case == "tampered item":
        bad = _signed(changed, KEY)
        bad["items"][0]["title"] = "Soep"  # one item changed after signing
    elif case == "other algorithm":
        bad = _signed(changed, KEY)
        bad["_lets"]["signature"]["alg"] = "rsa"
    else:
        bad = changed
    later = NOW + timedelta(hours=1)
    assert _fetch(server, limits, bad, at=later) == "invalid"
    assert _titles() == ["Bread", "Soup"]  # nothing merged, nothing lost
    feed = _feed()
    assert feed.health == Health.INVALID and feed.reason == reason
    log = db.session.scalars(select(FetchLog).where(FetchLog.feed_id == feed.id)
                             .order_by(FetchLog.started_at.desc())).first()
    assert log is not None and log.outcome == "invalid" and log.message == reason


def test_unsigned_feed_is_read_when_no_key_is_registered(server: FeedServer,
                                                         limits: fetch.Limits) -> None:
    assert _fetch(server, limits, _document(server), key=None) == "ok"
    assert _titles() == ["Bread", "Soup"]


def test_signature_covers_the_canonical_form_not_the_bytes(server: FeedServer,
                                                           limits: fetch.Limits) -> None:
    """Whitespace and key order are not signed: the same feed pretty-printed verifies."""
    signed = _signed(_document(server), KEY)
    server.routes["/feed.json"] = static(json.dumps(signed, indent=3,
                                                    sort_keys=True).encode())
    services.add_feed(None, "ieper", server.url("/feed.json"), signing.public_key_text(KEY))
    feed = _feed()
    feed.next_fetch_at = NOW - timedelta(seconds=1)
    claim = services.claim("t", NOW, NOW, 60)
    assert claim is not None
    result = fetch.get(claim.feed_url, limits)
    assert services.record(claim, "t", NOW, NOW, result, 5, services.Schedule()) == "ok"


def test_check_refuses_a_key_that_is_not_a_key() -> None:
    document = _signed({"_lets": {}, "items": []}, KEY)
    assert signing.check(document, "not-a-key-at-all") == \
        "the registered public key is not a valid Ed25519 key"
    assert signing.verify(document, signing.public_key_text(KEY))
    # A standard base64 spelling of the same key is accepted too.
    standard = signing.b64(signing.raw_public(KEY)).replace("-", "+").replace("_", "/")
    assert signing.verify(document, standard)
