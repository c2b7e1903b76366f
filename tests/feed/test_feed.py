"""/feed.json: what it carries, what it never carries, ids, revisions, tombstones, HTTP."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask import Flask

from lets_site import create_app
from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.feed import services
from lets_site.feed.models import FeedEntry
from lets_site.offers import services as offers
from lets_site.offers.models import ListingVisibility
from tests.conftest import app_config
from tests.feed.helpers import SECRETS, World, by_title, feed_of, make_world

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" /
                     "feed.schema.json").read_text())


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


def _listing_data(listing: Any, **changes: Any) -> offers.ListingData:
    values: dict[str, Any] = {
        "kind": listing.kind, "title": listing.title, "description": listing.description,
        "category_id": listing.category_id,
        "price": None if listing.price_amount is None else Decimal(listing.price_amount) / 100,
        "price_basis": listing.price_basis, "valid_until": listing.valid_until,
        "visibility": listing.visibility}
    values.update(changes)
    return offers.ListingData(**values)


def _save(listing: Any, **changes: Any) -> None:
    actor = listing.owner_member or listing.owner_org.intermediaries[0].member
    offers.update_listing(actor, listing, _listing_data(listing, **changes))
    db.session.commit()


# --- What it carries ------------------------------------------------------------------------


def test_feed_every_type_carries_its_lets_fields(client: Any, world: World) -> None:
    feed = feed_of(client)
    items = by_title(feed)
    assert {i["_lets"]["type"] for i in feed["items"]} == {"offer", "want", "event", "book",
                                                           "partner"}
    offer = items["Fietsherstelling"]
    assert offer["_lets"]["price"] == {"amount": 1.5, "unit": "uur", "basis": "hour"}
    assert offer["_lets"]["category"] == "fietsen"
    assert offer["_lets"]["mode"] == "in_person"
    assert offer["_lets"]["member"] == {"display_name": "Sanne Shown"}
    assert offer["content_text"] == "Ik herstel je fiets."
    assert offer["url"] == f"http://localhost/offers/{world.offer.id}"
    assert offer["id"] == f"urn:uuid:{world.offer.uuid}"
    org_offer = items["Tweedehands kasten"]["_lets"]
    assert org_offer["organisation"] == {"name": "Kringwinkel Ieper",
                                         "url": "http://localhost/organisations/kringwinkel"}
    assert "member" not in org_offer
    want = items["Ladder gezocht"]["_lets"]
    assert want["type"] == "want" and want["price"]["amount"] is None
    event = items["Ruilmarkt"]["_lets"]
    assert event["timezone"] == "Europe/Brussels"
    assert event["start"].endswith(":00+01:00") and "T19:30:00" in event["start"]
    assert event["status"] == "scheduled" and event["attendance_mode"] == "offline"
    assert event["location"] == {"name": "Zaal Ons Huis",
                                 "address": {"text": "Markt 1, 8900 Ieper"}}
    book = items["Het verdriet van België"]["_lets"]
    assert book["isbn"] == "9789023484332" and book["book_authors"] == "Hugo Claus"
    assert book["swap"] == "give" and book["member"] == {"display_name": "Sanne Shown"}
    partner = items["Vormingplus Westhoek"]["_lets"]
    assert partner["organization"]["url"] == "https://vormingplus.example"
    assert partner["offers"] == "Zalen" and partner["needs"] == "Vrijwilligers"
    assert all(i["_lets"]["revision"] == 1 for i in feed["items"])
    group = feed["_lets"]["group"]
    assert group["timezone"] == "Europe/Brussels" and group["unit"]["code"] == "uur"
    assert feed["_lets"]["profile"] == "1.0" and feed["_lets"]["complete"] is True
    assert feed["feed_url"] == "http://localhost/feed.json"


def test_feed_leaves_out_members_only_items_and_private_data(client: Any, world: World) -> None:
    body = client.get("/feed.json").get_data(as_text=True)
    atom = client.get("/feed.atom").get_data(as_text=True)
    for text in (body, atom):
        for secret in (*SECRETS, world.shown.full_name, world.hidden.full_name,
                       world.hidden.email, world.hidden.phone, world.hidden.address,
                       "Alleen voor leden", "Ledenvergadering", "Stille partner"):
            assert secret not in text


def test_feed_member_who_did_not_opt_in_has_no_name(client: Any, world: World) -> None:
    items = by_title(feed_of(client))
    assert "Hugo Hidden" not in json.dumps(items, ensure_ascii=False)
    assert "member" not in items["Ladder gezocht"]["_lets"]
    world.hidden.profile_public = True
    db.session.commit()
    assert by_title(feed_of(client))["Ladder gezocht"]["_lets"]["member"] == {
        "display_name": "Hugo Hidden"}


def test_feed_validates_against_the_schema(client: Any, world: World, runner: Any) -> None:
    validator = jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    validator.check_schema(SCHEMA)
    feed_of(client)  # published once, so that withdrawing leaves a tombstone
    offers.withdraw(world.shown, world.offer)  # a tombstone too
    db.session.commit()
    feed = feed_of(client)
    assert {i["_lets"]["type"] for i in feed["items"]} >= {"deleted", "offer", "want",
                                                           "event", "book", "partner"}
    validator.validate(feed)
    assert runner.invoke(args=["federation", "keygen"]).exit_code == 0
    signed = feed_of(client)
    assert "signature" in signed["_lets"]
    validator.validate(signed)
    broken = json.loads(json.dumps(feed))
    broken["items"][0]["id"] = "urn:lets:listing:1"
    assert not validator.is_valid(broken)


# --- Ids, revisions, tombstones -----------------------------------------------------------


def _item(client: Any, uid: str) -> dict[str, Any]:
    return next(i for i in feed_of(client)["items"] if i["id"] == uid)


def test_feed_revision_counts_edits_not_saves_without_change(client: Any,
                                                             world: World) -> None:
    uid = f"urn:uuid:{world.offer.uuid}"
    before = _item(client, uid)
    _save(world.offer)  # saved as it was: the listing's own revision moves, the feed's not
    assert world.offer.revision == 2
    same = _item(client, uid)
    assert same["_lets"]["revision"] == 1 and same == before
    _save(world.offer, description="Ik herstel je fiets, ook banden.")
    after = _item(client, uid)
    assert after["_lets"]["revision"] == 2
    assert after["content_text"] == "Ik herstel je fiets, ook banden."


def test_feed_ids_stay_across_renames(client: Any, world: World) -> None:
    first = {i["_lets"]["type"] + ":" + i["url"]: i["id"] for i in feed_of(client)["items"]}
    _save(world.offer, title="Fietsen en steps herstellen")
    world.partner.name = "Vormingplus Westhoek-Ieper"
    db.session.commit()
    feed = feed_of(client)
    again = {i["_lets"]["type"] + ":" + i["url"]: i["id"] for i in feed["items"]}
    assert again == first
    renamed = by_title(feed)["Fietsen en steps herstellen"]
    assert renamed["id"] == f"urn:uuid:{world.offer.uuid}"
    assert renamed["_lets"]["revision"] == 2


@pytest.mark.parametrize("how", ["withdraw", "delete", "members_only", "expired"])
def test_feed_tombstone_when_an_item_leaves_the_public_set(client: Any, world: World,
                                                           how: str) -> None:
    uid = f"urn:uuid:{world.offer.uuid}"
    assert _item(client, uid)["_lets"]["revision"] == 1
    if how == "withdraw":
        offers.withdraw(world.shown, world.offer)
    elif how == "delete":
        db.session.delete(world.offer)
    elif how == "members_only":
        world.offer.visibility = ListingVisibility.MEMBERS
    else:
        world.offer.valid_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    stone = _item(client, uid)
    assert stone["_lets"]["type"] == "deleted"
    assert stone["_lets"]["former_type"] == "offer"
    assert stone["_lets"]["revision"] == 2
    assert stone["_lets"]["deleted_at"] == stone["date_modified"]
    assert "title" not in stone and "Fietsherstelling" not in json.dumps(stone)


def test_feed_item_back_in_public_keeps_its_id(client: Any, world: World) -> None:
    uid = f"urn:uuid:{world.offer.uuid}"
    feed_of(client)
    offers.withdraw(world.shown, world.offer)
    db.session.commit()
    assert _item(client, uid)["_lets"]["revision"] == 2
    offers.publish(world.shown, world.offer)
    db.session.commit()
    back = _item(client, uid)
    assert back["_lets"]["type"] == "offer" and back["_lets"]["revision"] == 3


def test_feed_tombstone_kept_tombstone_days_then_purged(app: Flask, world: World) -> None:
    services.build()
    offers.withdraw(world.shown, world.offer)
    db.session.commit()
    services.build()
    stone = db.session.query(FeedEntry).filter_by(item_key=world.offer.urn).one()
    stamp, urn = stone.deleted_at, stone.urn
    assert stamp is not None
    kept = services.build(stamp + timedelta(days=30))
    assert any(i["id"] == urn for i in kept.feed["items"])
    gone = services.build(stamp + timedelta(days=30, seconds=1))
    assert all(i["id"] != urn for i in gone.feed["items"])
    assert db.session.query(FeedEntry).filter_by(item_key=world.offer.urn).count() == 0


def test_feed_refuses_fewer_than_30_tombstone_days(tmp_path: Path) -> None:
    config = app_config(tmp_path)
    with pytest.raises(ValueError, match="at least 30"):
        create_app({**config, "FEED_TOMBSTONE_DAYS": 29})
    assert create_app({**config, "FEED_TOMBSTONE_DAYS": 30}).config["FEED_TOMBSTONE_DAYS"] == 30


# --- HTTP -----------------------------------------------------------------------------------


def test_feed_headers(client: Any, world: World) -> None:
    response = client.get("/feed.json")
    assert response.headers["Content-Type"] == "application/feed+json; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=900"
    etag, weak = response.get_etag()
    assert not weak and len(etag) == 64
    assert response.last_modified is not None
    again = client.get("/feed.json")
    assert again.get_data() == response.get_data()  # nothing changed: byte-identical


def test_feed_conditional_get_answers_304(client: Any, world: World) -> None:
    first = client.get("/feed.json")
    etag = first.headers["ETag"]
    modified = first.headers["Last-Modified"]
    assert client.get("/feed.json", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/feed.json", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/feed.json", headers={"If-None-Match": '"other"'}).status_code == 200
    _save(world.offer, description="Nieuw")
    changed = client.get("/feed.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert client.get("/feed.json",
                      headers={"If-Modified-Since": modified}).status_code in (200, 304)
    # Last-Modified has second precision: a change in the same second must not be hidden
    # behind If-Modified-Since alone when an ETag is sent too.
    both = client.get("/feed.json", headers={"If-None-Match": etag,
                                             "If-Modified-Since": modified})
    assert both.status_code == 200


def test_feed_ignores_the_request_host(client: Any, app: Flask, world: World) -> None:
    app.config["BASE_URL"] = "https://ieper.lets.example"
    spoofed = client.get("/feed.json", headers={"Host": "127.0.0.1",
                                                "X-Forwarded-Host": "evil.example"})
    plain = client.get("/feed.json")
    assert spoofed.status_code == 200
    assert spoofed.get_data() == plain.get_data()
    body = spoofed.get_data(as_text=True)
    assert "127.0.0.1" not in body and "evil" not in body and "localhost" not in body
    feed = json.loads(body)
    urls = [feed["home_page_url"], feed["feed_url"], feed["_lets"]["about"]]
    urls += [i["url"] for i in feed["items"] if "url" in i]
    assert all(u.startswith("https://ieper.lets.example/") for u in urls), urls
    atom = client.get("/feed.atom", headers={"Host": "127.0.0.1"}).get_data(as_text=True)
    assert "127.0.0.1" not in atom and "https://ieper.lets.example/feed.atom" in atom


def test_every_page_links_the_feed(client: Any, app: Flask) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="alternate" type="application/feed+json"' in page
    assert 'href="/feed.json"' in page
