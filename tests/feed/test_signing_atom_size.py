"""The feed's signature and key, its Atom twin, and its size cap."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from flask import Flask

from lets_site.extensions import db
from lets_site.feed import services, signing
from tests.feed.helpers import World, by_title, feed_of, make_world

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


def _keygen(runner: Any) -> str:
    result = runner.invoke(args=["federation", "keygen"])
    assert result.exit_code == 0, result.output
    return result.output.split("Public key: ")[1].strip()


# --- Signature ------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_only_the_owner_reads(app: Flask, runner: Any) -> None:
    public = _keygen(runner)
    path = Path(app.instance_path) / "feed-signing-key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    key = signing.load_private_key()
    assert key is not None and signing.public_key_text(key) == public
    again = runner.invoke(args=["federation", "keygen"])
    assert again.exit_code != 0 and "exists already" in again.output
    assert signing.public_key_text(signing.load_private_key()) == public  # not replaced


def test_signature_verifies_and_fails_after_one_byte_changes(client: Any, runner: Any,
                                                             world: World) -> None:
    assert "signature" not in feed_of(client)["_lets"]  # no key: unsigned
    public = _keygen(runner)
    body = client.get("/feed.json").get_data()
    feed = json.loads(body)
    signature = feed["_lets"]["signature"]
    assert signature["alg"] == "ed25519" and signature["canon"] == "rfc8785"
    assert signature["key_id"] == signing.key_id(signing.load_private_key())
    assert signing.verify(feed, public)
    # One byte of the body changed: a letter of an item's title.
    index = body.index(b"Fietsherstelling")
    tampered = json.loads(body[:index] + b"G" + body[index + 1:])
    assert not signing.verify(tampered, public)
    # Another site's key does not verify it either.
    other = signing.public_key_text(signing.generate(Path(client.application.instance_path)
                                                     / "other.pem"))
    assert not signing.verify(feed, other)
    # Signing is deterministic: the body (and its ETag) stays the same between GETs.
    assert client.get("/feed.json").get_data() == body


def test_public_key_shown_to_admins(client: Any, runner: Any, auth: Any, world: World) -> None:
    auth.login(world.admin.account_code)
    assert "lets-site federation keygen" in client.get("/admin/feed").get_data(as_text=True)
    public = _keygen(runner)
    page = client.get("/admin/feed").get_data(as_text=True)
    assert public in page
    assert "PRIVATE" not in page


# --- Atom -----------------------------------------------------------------------------------


def test_atom_has_the_same_items_escaped(client: Any, world: World) -> None:
    world.offer.title = 'Fiets <script>alert("x")</script> & co\x01'
    db.session.commit()
    feed = feed_of(client)
    response = client.get("/feed.atom")
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    raw = response.get_data(as_text=True)
    assert "<script>" not in raw
    root = ET.fromstring(response.get_data())  # noqa: S314 - the site's own feed
    entries = {e.findtext(f"{ATOM}id"): e for e in root.findall(f"{ATOM}entry")}
    assert set(entries) == {i["id"] for i in feed["items"]}
    offer = entries[f"urn:uuid:{world.offer.uuid}"]
    assert offer.findtext(f"{ATOM}title") == 'Fiets <script>alert("x")</script> & co'
    json_item = by_title(feed)['Fiets <script>alert("x")</script> & co']
    assert offer.findtext(f"{ATOM}updated") == json_item["date_modified"]
    assert offer.find(f"{ATOM}link").get("href") == json_item["url"]
    etag = response.headers["ETag"]
    assert client.get("/feed.atom", headers={"If-None-Match": etag}).status_code == 304


# --- Size cap -------------------------------------------------------------------------------

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _synthetic(sizes: list[tuple[str, str]]) -> dict[str, Any]:
    """A feed whose items are (date_modified, valid_through) with padding."""
    items = [{"id": f"urn:uuid:{n:08d}-0000-4000-8000-000000000000",
              "date_modified": modified, "content_text": "x" * 1000,
              "_lets": {"type": "offer", "valid_through": through}}
             for n, (modified, through) in enumerate(sizes)]
    return {"version": services.JSON_FEED_VERSION, "_lets": {"complete": True}, "items": items}


def _pad_to(feed: dict[str, Any], size: int) -> None:
    """Grow the newest item's text so that the body is exactly ``size`` bytes."""
    missing = size - len(services.encode(feed))
    assert missing >= 0
    feed["items"][-1]["content_text"] += "y" * missing
    assert len(services.encode(feed)) == size


def test_fit_keeps_a_feed_of_exactly_the_cap() -> None:
    cap = 1024 * 1024
    feed = _synthetic([("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")] * 3)
    _pad_to(feed, cap)
    assert services.fit(feed, cap, NOW) == 0
    assert feed["_lets"]["complete"] is True and len(feed["items"]) == 3


def test_fit_drops_expired_listings_first_then_the_oldest() -> None:
    cap = 1024 * 1024
    feed = _synthetic([("2026-11-01T00:00:00Z", "2027-01-01T00:00:00Z"),  # oldest, live
                       ("2026-11-20T00:00:00Z", "2026-12-01T00:00:00Z"),  # expired
                       ("2026-11-25T00:00:00Z", "2027-01-01T00:00:00Z")])  # newest, live
    _pad_to(feed, cap + 1)  # one byte too many
    ids = [i["id"] for i in feed["items"]]
    assert services.fit(feed, cap, NOW) == 1
    assert [i["id"] for i in feed["items"]] == [ids[0], ids[2]]  # the expired one went
    assert feed["_lets"]["complete"] is False and feed["_lets"]["dropped"] == 1
    assert len(services.encode(feed)) <= cap
    # Still too big without the expired one: the oldest goes next.
    feed["items"][-1]["content_text"] += "z" * 2000
    feed["_lets"]["complete"] = True
    feed["_lets"].pop("dropped")
    assert services.fit(feed, cap, NOW) == 1
    assert [i["id"] for i in feed["items"]] == [ids[2]]


def test_feed_body_stays_under_the_configured_cap(client: Any, app: Flask,
                                                  world: World) -> None:
    full = client.get("/feed.json").get_data()
    app.config["FEED_MAX_BYTES"] = len(full) - 1
    cut = client.get("/feed.json").get_data()
    assert len(cut) <= len(full) - 1
    feed = json.loads(cut)
    assert feed["_lets"]["complete"] is False and feed["_lets"]["dropped"] >= 1
    assert len(feed["items"]) == len(json.loads(full)["items"]) - feed["_lets"]["dropped"]
    app.config["FEED_MAX_BYTES"] = len(full)
    assert client.get("/feed.json").get_data() == full
