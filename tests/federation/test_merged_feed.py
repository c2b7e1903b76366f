"""The federation's merged feed: cheap validators, the size cap and its cut rule, the
signature (docs/federation.md, "The federation's merged feed")."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from lets_site import signing
from lets_site.extensions import db
from lets_site.federation import merged, services
from lets_site.federation.fetch import Response
from lets_site.federation.models import Feed
from tests.federation import feeds, hub
from tests.queries import counted

URL = "/federation/feed.json"
MIB = 1024 * 1024
TEXT_CAP = 20000  # the parser's cap on content_text


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _fetch(feed: Feed, items: list[dict[str, Any]], now: datetime, **lets: Any) -> str:
    """Record one more fetch of ``feed`` (a group's feed with ``items``)."""
    feed.next_fetch_at = now
    db.session.flush()
    claim = services.claim("t", now, now, 60)
    assert claim is not None and claim.feed_id == feed.id
    body = json.dumps(feeds.feed(hub.base(feed.slug), feed.slug, items, **lets)).encode()
    outcome = services.record(claim, "t", now, now,
                              Response(200, feed.feed_url, {}, body, len(body)), 5,
                              services.Schedule())
    db.session.commit()
    return outcome


def _listings(slug: str, count: int, now: datetime, text: int = 10) -> list[dict[str, Any]]:
    """``count`` offers, the first the oldest (one minute apart)."""
    items = []
    for n in range(count):
        item = hub.listing(slug, n, f"Aanbod {n}", text="x" * text)
        item["date_modified"] = _stamp(now - timedelta(days=40) + timedelta(minutes=n))
        items.append(item)
    return items


def _ieper(now: datetime) -> tuple[Feed, list[dict[str, Any]]]:
    items = _listings("ieper", 3, now)
    feed = hub.follow("ieper", items, now=now)
    db.session.commit()
    return feed, items


def _get(client: Any, **headers: str) -> Any:
    return client.get(URL, headers=headers)


def _queries(statements: list[str]) -> list[str]:
    """The statements that read or write (not the tests' savepoints)."""
    return [s for s in statements if "SAVEPOINT" not in s]


def _ids(response: Any) -> list[str]:
    return [item["id"] for item in json.loads(response.get_data())["items"]]


# --- validators ----------------------------------------------------------------------------


def test_a_conditional_get_answers_304_without_reading_an_item(client: Any) -> None:
    _ieper(datetime.now(UTC))
    first = _get(client)
    assert first.status_code == 200
    with counted() as statements:
        again = _get(client, **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    # The followed feeds, one aggregate over the merged items and the group block's
    # optional fields (the shared scripts: one query); no item is read.
    assert len(_queries(statements)) <= 3, statements
    assert not [s for s in statements if "content_text" in s or "item_id" in s]
    with counted() as statements:
        since = _get(client, **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304 and len(_queries(statements)) <= 3


def test_the_etag_is_known_before_building_and_matches_the_body(client: Any) -> None:
    _ieper(datetime.now(UTC))
    first = _get(client)
    second = _get(client)
    assert first.get_data() == second.get_data()
    assert first.headers["ETag"] == second.headers["ETag"] == f'"{merged.state().etag}"'
    generated = json.loads(first.get_data())["_lets"]["generated_at"]
    assert first.headers["Last-Modified"] == datetime.strptime(
        generated, "%Y-%m-%dT%H:%M:%SZ").strftime("%a, %d %b %Y %H:%M:%S GMT")


def _changed_after(client: Any, change: Any) -> None:
    etag = _get(client).headers["ETag"]
    assert _get(client, **{"If-None-Match": etag}).status_code == 304
    change()
    response = _get(client, **{"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag


def test_a_new_revision_of_one_item_changes_the_etag(client: Any) -> None:
    now = datetime.now(UTC)
    feed, items = _ieper(now)
    items[1]["_lets"]["revision"] = 2
    items[1]["title"] = "Nieuwe titel"
    _changed_after(client, lambda: _fetch(feed, items, now + timedelta(seconds=1)))
    assert "Nieuwe titel" in _get(client).get_data(as_text=True)


def test_a_deletion_alone_changes_the_etag(client: Any) -> None:
    now = datetime.now(UTC)
    feed, items = _ieper(now)
    # The same clock: only the count of merged rows tells the change.
    _changed_after(client, lambda: _fetch(feed, items[:2], now))
    assert hub.uid("ieper", 2) not in _ids(_get(client))


def test_a_renamed_group_changes_the_etag(client: Any) -> None:
    now = datetime.now(UTC)
    feed, items = _ieper(now)
    group = feeds.feed(hub.base("ieper"), "ieper")["_lets"]["group"]
    renamed = {**group, "name": "LETS Ieper en omstreken"}
    _changed_after(client, lambda: _fetch(feed, items, now, group=renamed))
    item = json.loads(_get(client).get_data())["items"][0]
    assert item["_lets"]["group"]["name"] == "LETS Ieper en omstreken"


def test_a_new_signing_key_changes_the_etag(client: Any, runner: Any) -> None:
    _ieper(datetime.now(UTC))
    _changed_after(client, lambda: runner.invoke(args=["federation", "keygen"]))


def _sharing(people: dict[str, Any], client: Any) -> tuple[Any, Any]:
    """A partner coordinator and one contact script of theirs, not shared yet."""
    from lets_site.partners import services as partners
    from tests.factories import make_member

    coordinator = make_member(display_name="Cora Coordinator", locale="en")
    partners.grant_coordinator(people["admin"], coordinator.account_code)
    script = partners.create_script(coordinator, partners.ScriptData(
        title="Kennismaking", language="nl", subject="Kennismaking met {group_name}",
        body="Beste {contact_name}, wij zijn {group_name}."))
    db.session.commit()
    return coordinator, script


def _share(coordinator: Any, script: Any, shared: bool, when: datetime) -> None:
    """Share or unshare ``script``, as if at ``when`` (the shared set's change time)."""
    from lets_site.partners import services as partners
    from lets_site.partners.models import ScriptValues

    partners.update_script(coordinator, script, partners.ScriptData(
        title=script.title, language=script.language, subject=script.subject,
        body=script.body, shared=shared))
    db.session.flush()
    values = db.session.get(ScriptValues, 1)
    assert values is not None and values.shared_changed_at is not None
    values.shared_changed_at = when
    db.session.commit()


def _group_block(response: Any) -> dict[str, Any]:
    return dict(json.loads(response.get_data())["_lets"]["group"])


def test_the_group_blocks_optional_field_moves_last_modified(
        client: Any, people: dict[str, Any]) -> None:
    """The shared contact scripts' link comes and goes for a reader that sends only
    If-Modified-Since, as on the group feed (lets_site/feed/)."""
    now = datetime.now(UTC).replace(microsecond=0)
    feed, _items = _ieper(now - timedelta(hours=3))
    feed.created_at = now - timedelta(hours=3)
    coordinator, script = _sharing(people, client)
    first = _get(client)
    assert "contact_scripts" not in _group_block(first)
    assert first.last_modified == now - timedelta(hours=3)

    _share(coordinator, script, True, now - timedelta(hours=2))
    shared = _get(client, **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert shared.status_code == 200
    assert shared.last_modified == now - timedelta(hours=2)
    assert shared.headers["ETag"] != first.headers["ETag"]
    assert _group_block(shared)["contact_scripts"].endswith("/partners/scripts/shared.json")
    assert _get(client, **{"If-Modified-Since": shared.headers["Last-Modified"]}) \
        .status_code == 304

    _share(coordinator, script, False, now - timedelta(hours=1))
    gone = _get(client, **{"If-Modified-Since": shared.headers["Last-Modified"]})
    assert gone.status_code == 200 and gone.last_modified == now - timedelta(hours=1)
    assert "contact_scripts" not in _group_block(gone)


# --- the signature -------------------------------------------------------------------------


def _keygen(runner: Any) -> str:
    result = runner.invoke(args=["federation", "keygen"])
    assert result.exit_code == 0, result.output
    return result.output.split("Public key: ")[1].strip()


def test_signed_with_the_sites_key_and_verified_like_a_group_feed(client: Any,
                                                                 runner: Any) -> None:
    _ieper(datetime.now(UTC))
    assert "signature" not in json.loads(_get(client).get_data())["_lets"]
    public = _keygen(runner)
    body = _get(client).get_data()
    feed = json.loads(body)
    assert feed["_lets"]["signature"]["key_id"] == signing.key_id(signing.load_private_key())
    # The check the aggregator runs on a followed group's feed.
    assert signing.check(feed, public) is None
    index = body.index(b"Aanbod 1")
    assert signing.check(json.loads(body[:index] + b"B" + body[index + 1:]), public) \
        == "the feed's signature does not match the registered key"
    assert _get(client).get_data() == body  # deterministic: one ETag


def test_a_signed_feed_cut_to_the_cap_still_verifies(app: Flask, client: Any,
                                                     runner: Any) -> None:
    now = datetime.now(UTC)
    hub.follow("ieper", _listings("ieper", 6, now, text=500), now=now)
    db.session.commit()
    public = _keygen(runner)
    full = _get(client).get_data()
    app.config["FEDERATION_FEED_MAX_BYTES"] = len(full)
    assert _get(client).get_data() == full  # exactly the cap: nothing cut
    app.config["FEDERATION_FEED_MAX_BYTES"] = len(full) - 1
    cut = _get(client).get_data()
    assert len(cut) <= len(full) - 1
    feed = json.loads(cut)
    assert feed["_lets"]["complete"] is False and feed["_lets"]["dropped"] == 1
    assert hub.uid("ieper", 0) not in _ids(_get(client))  # the oldest went
    assert signing.check(feed, public) is None


# --- the size cap --------------------------------------------------------------------------


def _grow(feed: Feed, items: list[dict[str, Any]], missing: int, now: datetime) -> None:
    """Lengthen the items' texts (a new revision each) by ``missing`` bytes in all."""
    for item in items:
        if missing == 0:
            break
        grow = min(missing, TEXT_CAP - len(item["content_text"]))
        item["content_text"] += "y" * grow
        item["_lets"]["revision"] += 1
        missing -= grow
    assert missing == 0
    assert _fetch(feed, items, now) == "ok"


def test_a_body_of_exactly_one_mebibyte_is_whole_and_one_byte_more_is_cut(
        app: Flask, client: Any) -> None:
    assert app.config["FEDERATION_FEED_MAX_BYTES"] == MIB  # the default
    now = datetime.now(UTC) - timedelta(minutes=5)
    items = _listings("ieper", 52, now, text=19000)
    feed = hub.follow("ieper", items, now=now)
    db.session.commit()
    app.config["FEDERATION_FEED_MAX_BYTES"] = 2 * MIB
    size = len(_get(client).get_data())
    assert size < MIB
    app.config["FEDERATION_FEED_MAX_BYTES"] = MIB
    _grow(feed, items, MIB - size, now + timedelta(minutes=1))
    whole = _get(client)
    assert len(whole.get_data()) == MIB
    lets = json.loads(whole.get_data())["_lets"]
    assert lets["complete"] is True and "dropped" not in lets
    assert len(_ids(whole)) == 52
    _grow(feed, items, 1, now + timedelta(minutes=2))
    cut = _get(client)
    assert len(cut.get_data()) <= MIB
    lets = json.loads(cut.get_data())["_lets"]
    assert lets["complete"] is False and lets["dropped"] == 1
    ids = _ids(cut)
    assert hub.uid("ieper", 0) not in ids and len(ids) == 51  # the oldest went
    assert ids[0] == hub.uid("ieper", 51) and ids[-1] == hub.uid("ieper", 1)  # newest first


def test_old_tombstones_are_cut_before_the_oldest_items(app: Flask, client: Any) -> None:
    now = datetime.now(UTC)
    items = _listings("ieper", 3, now)  # 40 days old and more

    def tombstone(n: int, days: int) -> dict[str, Any]:
        gone = hub.gone("ieper", n)
        when = _stamp(now - timedelta(days=days))
        gone["date_modified"] = gone["_lets"]["deleted_at"] = when
        return gone

    old = tombstone(10, merged.OLD_TOMBSTONE_DAYS + 3)
    recent = tombstone(11, 1)
    hub.follow("ieper", [*items, old, recent], now=now)
    db.session.commit()
    full = _get(client)
    everything = _ids(full)
    assert len(everything) == 5
    size = len(full.get_data())
    app.config["FEDERATION_FEED_MAX_BYTES"] = size - 1
    assert set(everything) - set(_ids(_get(client))) == {old["id"]}
    # Less room still: then the oldest item, not the recent tombstone.
    app.config["FEDERATION_FEED_MAX_BYTES"] = size - 1 - len(json.dumps(
        json.loads(full.get_data())["items"][-1], separators=(",", ":")))
    left = _ids(_get(client))
    assert set(everything) - set(left) == {old["id"], items[0]["id"]}
    assert recent["id"] in left


@pytest.mark.parametrize("cap", [400, 1])
def test_a_cap_smaller_than_the_envelope_gives_an_empty_cut_feed(app: Flask, client: Any,
                                                                cap: int) -> None:
    _ieper(datetime.now(UTC))
    app.config["FEDERATION_FEED_MAX_BYTES"] = cap
    feed = json.loads(_get(client).get_data())
    assert feed["items"] == []
    assert feed["_lets"]["complete"] is False and feed["_lets"]["dropped"] == 3
