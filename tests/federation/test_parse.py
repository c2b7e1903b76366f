"""Strict parsing of group feeds: a bad top level fails, a bad item is dropped with its
reason, the rest kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from lets_site.federation import parse
from lets_site.federation.parse import FeedInvalid
from tests.federation import feeds

BASE = "https://ieper.example"
URL = BASE + "/feed.json"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _parse(doc: Any) -> parse.Feed:
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return parse.parse(body, URL, "ieper", NOW)


def _dropped(item: dict[str, Any]) -> str:
    result = _parse(feeds.feed(BASE, "ieper", [item, feeds.offer(BASE, "ok")]))
    assert [i.id for i in result.items] == [feeds.item_id("ok")]
    assert len(result.dropped) == 1
    return result.dropped[0][1]


def test_parse_reads_a_good_feed() -> None:
    result = _parse(feeds.feed(BASE, "ieper", [feeds.offer(BASE, 1), feeds.event(BASE, 2)]))
    assert [i.type for i in result.items] == ["offer", "event"]
    assert result.complete and not result.dropped
    assert result.group["name"] == "LETS Ieper" and result.group["timezone"] == "Europe/Brussels"
    assert result.items[1].start == datetime(2027, 3, 27, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize("body", [
    b'{"version": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b'{"a": 1, "a": 2}',
    b"[" * 100 + b"]" * 100, b'{"a": "\\ud800"}', b'{"a": "\\udfff x"}', b"\xff\xfe{}",
    b'{"a": 1} trailing', b"", b"{'a': 1}", b'{"a": 1,}', b"<html></html>",
    b"[]", b'"a string"', b"null",
])
def test_malformed_json_fails_the_feed(body: bytes) -> None:
    with pytest.raises(FeedInvalid):
        parse.parse(body, URL, "ieper", NOW)


def test_nesting_limit_edge() -> None:
    ok = b'{"a":' * (parse.MAX_DEPTH - 1) + b"1" + b"}" * (parse.MAX_DEPTH - 1)
    assert parse.loads(ok) is not None
    deep = b'{"a":' * (parse.MAX_DEPTH + 1) + b"1" + b"}" * (parse.MAX_DEPTH + 1)
    with pytest.raises(FeedInvalid, match="nested"):
        parse.loads(deep)
    # Brackets inside strings do not count.
    assert parse.loads(b'{"a": "' + b"[" * 500 + b'"}') is not None


@pytest.mark.parametrize("change", [
    lambda d: d.update(version="https://jsonfeed.org/version/1"),
    lambda d: d.pop("_lets"),
    lambda d: d.update(items={"not": "a list"}),
    lambda d: d["_lets"].pop("group"),
    lambda d: d.update(title=["x"]),
])
def test_bad_top_level_fails_the_feed(change: Any) -> None:
    doc = feeds.feed(BASE, "ieper", [feeds.offer(BASE, 1)])
    change(doc)
    with pytest.raises(FeedInvalid):
        _parse(doc)


def test_unknown_major_profile_is_refused_with_a_clear_reason() -> None:
    with pytest.raises(FeedInvalid, match=r"profile 2\.0 .*reads 1\.x"):
        _parse(feeds.feed(BASE, "ieper", profile="2.0"))
    assert _parse(feeds.feed(BASE, "ieper", [feeds.offer(BASE, 1)], profile="1.7")).items


def test_unknown_fields_are_ignored() -> None:
    item = feeds.offer(BASE, 1, future_field={"x": 1})
    item["_lets"]["shiny_new"] = [1, 2]
    doc = feeds.feed(BASE, "ieper", [item], brand_new=True)
    doc["extra"] = "yes"
    result = _parse(doc)
    assert len(result.items) == 1 and "shiny_new" not in result.items[0].data


def test_spoofed_feed_url_and_slug_are_refused() -> None:
    with pytest.raises(FeedInvalid, match="feed_url"):
        parse.parse(json.dumps(feeds.feed("https://evil.example", "ieper")).encode(),
                    URL, "ieper", NOW)
    with pytest.raises(FeedInvalid, match="slug"):
        _parse(feeds.feed(BASE, "oostende"))


@pytest.mark.parametrize("url", [
    "https://evil.example/offers/1", "http://ieper.example/offers/1",
    "https://ieper.example:8443/offers/1", "https://ieper.example.evil.example/x",
    "javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "/offers/1",
])
def test_items_off_the_groups_origin_are_dropped(url: str) -> None:
    assert "url" in _dropped(feeds.offer(BASE, 1, url=url))


def test_script_in_content_is_kept_as_plain_text() -> None:
    text = '<script>alert("x")</script> javascript:alert(1)'
    result = _parse(feeds.feed(BASE, "ieper", [feeds.offer(BASE, 1, content_text=text,
                                                           title="<b>Bold</b>")]))
    assert result.items[0].content_text == text and result.items[0].title == "<b>Bold</b>"


@pytest.mark.parametrize("image", ["javascript:alert(1)", "data:image/png;base64,AAAA", 7])
def test_non_http_image_drops_the_item(image: Any) -> None:
    assert "image" in _dropped(feeds.offer(BASE, 1, image=image))


@pytest.mark.parametrize(("field", "value"), [
    ("id", None), ("id", 12), ("id", ""), ("id", "x" * 201), ("title", 5),
    ("title", "x" * 301), ("content_text", {"html": "x"}), ("url", None),
    ("date_published", "2026-11-01T10:00:00"), ("date_published", "2026-11-01"),
    ("date_modified", 1700000000), ("summary", ["x"]), ("title", "bell\x07"),
])
def test_wrong_types_drop_the_item(field: str, value: Any) -> None:
    item = feeds.offer(BASE, 1)
    if value is None:
        item.pop(field)
    else:
        item[field] = value
    assert field in _dropped(item)


@pytest.mark.parametrize(("key", "value"), [
    ("type", "recipe"), ("type", None), ("revision", 0), ("revision", "3"),
    ("revision", True), ("revision", 1.5), ("mode", "teleport"), ("category", "A B"),
])
def test_wrong_lets_fields_drop_the_item(key: str, value: Any) -> None:
    item = feeds.offer(BASE, 1)
    item["_lets"][key] = value
    assert key in _dropped(item)


def test_item_that_is_not_an_object_is_dropped_with_its_position() -> None:
    result = _parse(feeds.feed(BASE, "ieper", [feeds.offer(BASE, 1)]) |
                    {"items": ["text", feeds.offer(BASE, 1)]})
    assert result.dropped == [("#1", "the item is not an object")]


def test_duplicate_ids_keep_the_first_and_drop_the_rest() -> None:
    first, second = feeds.offer(BASE, 1), feeds.offer(BASE, 1, title="Again")
    result = _parse(feeds.feed(BASE, "ieper", [first, second]))
    assert [i.title for i in result.items] == ["Offer 1"]
    assert result.dropped == [(feeds.item_id(1), "the id appears twice in the feed")]


@pytest.mark.parametrize(("lets", "reason"), [
    ({"timezone": "Mars/Olympus"}, "time zone"),
    ({"timezone": "../../etc/passwd"}, "time zone"),
    ({"timezone": None}, "time zone"),
    ({"start": "2027-03-27T14:00:00"}, "offset"),
    ({"start": "2027-03-27T14:00:00+05:00"}, "offset"),
    # The spring gap in Brussels: 02:30 on 28 March 2027 does not exist.
    ({"start": "2027-03-28T02:30:00+01:00"}, "offset"),
    ({"start": "2027-03-28T02:30:00+02:00"}, "offset"),
    ({"status": "maybe"}, "status"),
    ({"end": "2027-03-27T13:00:00+01:00"}, "before"),
    ({"registration_url": "javascript:alert(1)"}, "registration_url"),
])
def test_bad_events_are_dropped(lets: dict[str, Any], reason: str) -> None:
    assert reason in _dropped(feeds.event(BASE, 1, **lets) | {
        "_lets": {**feeds.event(BASE, 1)["_lets"], **lets}})


def test_autumn_overlap_accepts_either_offset() -> None:
    items = [feeds.event(BASE, 1, start="2026-10-25T02:30:00+02:00"),
             feeds.event(BASE, 2, start="2026-10-25T02:30:00+01:00")]
    result = _parse(feeds.feed(BASE, "ieper", items))
    assert [i.start for i in result.items] == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
                                               datetime(2026, 10, 25, 1, 30, tzinfo=UTC)]


def test_all_day_events_have_inclusive_dates() -> None:
    item = feeds.event(BASE, 1)
    item["_lets"] = {"type": "event", "revision": 1, "status": "cancelled",
                     "timezone": "Europe/Brussels", "all_day": True,
                     "start_date": "2027-07-01", "end_date": "2027-07-01"}
    result = _parse(feeds.feed(BASE, "ieper", [item]))
    assert result.items[0].data["end_date"] == "2027-07-01"
    assert result.items[0].start == datetime(2027, 6, 30, 22, 0, tzinfo=UTC)
    item["_lets"]["end_date"] = "2027-06-30"
    assert "before" in _dropped(item)


def test_tombstone_needs_its_deletion_time() -> None:
    assert _parse(feeds.feed(BASE, "ieper", [feeds.tombstone(BASE, 1, 3)])).items[0].deleted_at
    stone = feeds.tombstone(BASE, 1, 3)
    stone["_lets"].pop("deleted_at")
    assert "deleted_at" in _dropped(stone)


def test_tombstone_without_url_is_kept_other_items_need_one() -> None:
    # A group's own feed writes tombstones without a url (the page is gone).
    stone = feeds.tombstone(BASE, 1, 3)
    stone.pop("url")
    (item,) = _parse(feeds.feed(BASE, "ieper", [stone])).items
    assert (item.type, item.url, item.revision) == ("deleted", "", 3)
    offer = feeds.offer(BASE, 2)
    offer.pop("url")
    assert "url" in _dropped(offer)
    off_site = feeds.tombstone(BASE, 3, 2)
    off_site["url"] = "https://elsewhere.example/offers/3"
    assert "own site" in _dropped(off_site)
