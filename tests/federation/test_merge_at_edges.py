"""The feed's merge rules at their edges, as a group following another group meets them:
what a newer revision changes, what the counts say, when a tombstone is forgotten, which
held mass deletion belongs to which feed, and which times are clamped to the clock.
(The mutation module `federation-merge` runs these with tests/federation/test_services.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from lets_site.audit.models import AuditEntry
from lets_site.extensions import db
from lets_site.federation import parse, services
from lets_site.federation.models import Decision, DecisionKind, Feed, FeedItem
from tests.federation import feeds

BASE = "https://ieper.example"
URL = BASE + "/feed.json"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
# feeds.tombstone's deleted_at, and the 30 days a publisher keeps tombstones at least.
DELETED_AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
FORGET_AT = DELETED_AT + timedelta(days=30)


@pytest.fixture
def feed(app: Any) -> Feed:
    return services.add_feed(None, "ieper", URL)


def _merge(feed: Feed, items: list[dict[str, Any]], now: datetime = NOW,
           base: str = BASE, **lets: Any) -> services.Merged:
    body = json.dumps(feeds.feed(base, feed.slug, items, **lets)).encode()
    return services.merge(feed, parse.parse(body, feed.feed_url, feed.slug, now), now)


def _items(feed: Feed) -> dict[str, FeedItem]:
    return {row.item_id: row for row in db.session.scalars(
        select(FeedItem).where(FeedItem.feed_id == feed.id))}


def _counts(report: services.Merged) -> tuple[int, int, int, int, int]:
    return report.added, report.updated, report.deleted, report.stale, report.held


def test_counts_of_added_updated_deleted_and_stale_items(feed: Feed) -> None:
    report = _merge(feed, [feeds.offer(BASE, n, revision=2) for n in range(5)])
    assert _counts(report) == (5, 0, 0, 0, 0)
    report = _merge(feed, [
        feeds.offer(BASE, 0, revision=3), feeds.offer(BASE, 1, revision=3),  # updated
        feeds.tombstone(BASE, 2, revision=3),  # deleted
        feeds.offer(BASE, 3, revision=2), feeds.offer(BASE, 4, revision=1),  # stale
        feeds.offer(BASE, 5), feeds.offer(BASE, 6)])  # added
    assert _counts(report) == (2, 2, 1, 2, 0)
    # A newer tombstone over a tombstone, and an item that comes back: updated, not deleted.
    report = _merge(feed, [feeds.offer(BASE, n, revision=3) for n in (0, 1)] + [
        feeds.tombstone(BASE, 2, revision=4), feeds.offer(BASE, 3, revision=5)], complete=False)
    assert _counts(report) == (0, 2, 0, 2, 0)
    assert _items(feed)[feeds.item_id(2)].deleted
    assert not _items(feed)[feeds.item_id(3)].deleted


def test_a_newer_revision_replaces_every_field(feed: Feed) -> None:
    _merge(feed, [feeds.event(BASE, 1, revision=1)])
    newer = feeds.event(BASE, 1, revision=2, start="2027-04-03T09:30:00+02:00",
                        status="cancelled")
    newer.update(url=f"{BASE}/events/1-moved", title="Repair café", content_text="Bring it",
                 date_published="2026-11-05T08:00:00Z", date_modified="2026-11-06T08:00:00Z")
    report = _merge(feed, [newer], now=NOW + timedelta(hours=1))
    assert report.updated == 1
    row = _items(feed)[feeds.item_id(1)]
    assert (row.type, row.revision, row.deleted) == ("event", 2, False)
    assert (row.url, row.title, row.content_text) == (
        f"{BASE}/events/1-moved", "Repair café", "Bring it")
    assert row.details["status"] == "cancelled"
    assert row.start_at == datetime(2027, 4, 3, 7, 30, tzinfo=UTC)
    assert row.date_published == datetime(2026, 11, 5, 8, 0, tzinfo=UTC)
    assert row.date_modified == datetime(2026, 11, 6, 8, 0, tzinfo=UTC)
    assert row.merged_at == NOW + timedelta(hours=1)
    assert row.deleted_at is None


def test_a_new_item_keeps_its_own_times_and_the_moment_it_was_merged(feed: Feed) -> None:
    _merge(feed, [feeds.event(BASE, 1, start="2027-03-27T14:00:00+01:00"),
                  feeds.offer(BASE, 2, date_modified=None)])
    event, offer = _items(feed)[feeds.item_id(1)], _items(feed)[feeds.item_id(2)]
    assert event.start_at == datetime(2027, 3, 27, 13, 0, tzinfo=UTC)
    assert event.date_published == datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    assert event.date_modified == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    assert event.merged_at == NOW and event.deleted_at is None and not event.deleted
    assert offer.date_modified is None and offer.start_at is None


def test_a_time_exactly_now_is_kept_and_one_second_later_is_clamped(feed: Feed) -> None:
    _merge(feed, [feeds.offer(BASE, 1, date_published="2026-12-03T12:00:00Z",
                              date_modified="2026-12-03T12:00:01Z")])
    row = _items(feed)[feeds.item_id(1)]
    assert row.date_published == NOW and row.date_modified == NOW
    tombstone = feeds.tombstone(BASE, 1, revision=2)
    tombstone["_lets"]["deleted_at"] = "2026-12-04T00:00:00Z"
    _merge(feed, [tombstone])
    row = _items(feed)[feeds.item_id(1)]
    assert row.deleted and row.deleted_at == NOW


def test_a_tombstone_keeps_its_deletion_time(feed: Feed) -> None:
    _merge(feed, [feeds.offer(BASE, 1)])
    _merge(feed, [feeds.tombstone(BASE, 1, revision=2)])
    row = _items(feed)[feeds.item_id(1)]
    assert row.deleted and row.type == "deleted" and row.deleted_at == DELETED_AT


def test_a_tombstone_is_forgotten_the_second_after_the_publisher_stops_keeping_it(
        feed: Feed) -> None:
    _merge(feed, [feeds.offer(BASE, n) for n in range(3)])
    _merge(feed, [feeds.tombstone(BASE, n, revision=2) for n in range(3)])
    # Gone from the feed: kept up to the tombstone days, to the second.
    report = _merge(feed, [feeds.tombstone(BASE, 2, revision=2)], now=FORGET_AT)
    assert _counts(report) == (0, 0, 0, 1, 0)
    assert set(_items(feed)) == {feeds.item_id(n) for n in range(3)}
    _merge(feed, [feeds.tombstone(BASE, 2, revision=2)], now=FORGET_AT + timedelta(seconds=1))
    # The one the publisher still lists stays, however old.
    assert set(_items(feed)) == {feeds.item_id(2)}


def test_tombstones_follow_the_publishers_longer_keeping(feed: Feed) -> None:
    _merge(feed, [feeds.tombstone(BASE, 1, revision=2)], tombstone_days=60)
    _merge(feed, [], now=FORGET_AT + timedelta(days=1), tombstone_days=60)
    assert set(_items(feed)) == {feeds.item_id(1)}
    _merge(feed, [], now=DELETED_AT + timedelta(days=60, seconds=1), tombstone_days=60)
    assert _items(feed) == {}


def test_an_incomplete_feed_forgets_no_tombstone(feed: Feed) -> None:
    _merge(feed, [feeds.tombstone(BASE, 1, revision=2)])
    _merge(feed, [], now=FORGET_AT + timedelta(days=1), complete=False)
    assert set(_items(feed)) == {feeds.item_id(1)}


def test_tombstones_that_leave_the_feed_are_not_a_mass_deletion(feed: Feed) -> None:
    # 12 tombstones dropped from a complete feed at once: nothing live vanished.
    _merge(feed, [feeds.offer(BASE, n) for n in range(14)])
    _merge(feed, [feeds.tombstone(BASE, n, revision=2) for n in range(12)]
           + [feeds.offer(BASE, 12), feeds.offer(BASE, 13)])
    report = _merge(feed, [feeds.offer(BASE, 12), feeds.offer(BASE, 13)])
    assert report.held == 0 and report.deleted == 0 and services.decisions(feed) == []
    assert len(_items(feed)) == 14


def test_the_guard_counts_only_live_items_of_this_group(feed: Feed) -> None:
    # 10 live items and 10 tombstones: all 10 live ones vanish -> held (10 of 10 live).
    _merge(feed, [feeds.offer(BASE, n) for n in range(20)])
    _merge(feed, [feeds.tombstone(BASE, n, revision=2) for n in range(10, 20)]
           + [feeds.offer(BASE, n) for n in range(10)])
    report = _merge(feed, [feeds.tombstone(BASE, n, revision=2) for n in range(10, 20)])
    assert report.held == 10 and report.deleted == 0
    (decision,) = services.decisions(feed)
    assert decision.kind == DecisionKind.MASS_DELETE and not decision.refused
    assert decision.item_ids == sorted(feeds.item_id(n) for n in range(10))
    assert services.pending_count() == 1


def test_a_held_deletion_is_dropped_once_the_items_are_back(feed: Feed) -> None:
    _merge(feed, [feeds.offer(BASE, n) for n in range(12)])
    assert _merge(feed, []).held == 12
    report = _merge(feed, [feeds.offer(BASE, n) for n in range(12)])
    assert _counts(report) == (0, 0, 0, 12, 0) and services.decisions(feed) == []


def test_a_held_deletion_below_the_guard_goes_ahead_and_drops_the_question(
        feed: Feed) -> None:
    _merge(feed, [feeds.offer(BASE, n) for n in range(12)])
    _merge(feed, [])
    report = _merge(feed, [feeds.offer(BASE, n) for n in range(3, 12)])
    assert report.deleted == 3 and report.held == 0 and services.decisions(feed) == []
    assert len(_items(feed)) == 9


def test_a_refused_deletion_is_asked_again_when_other_items_vanish(
        feed: Feed, make_admin: Any) -> None:
    _merge(feed, [feeds.offer(BASE, n) for n in range(20)])
    _merge(feed, [feeds.offer(BASE, n) for n in range(12, 20)])
    (decision,) = services.decisions(feed)
    services.decide(make_admin(), decision.id, accept=False, now=NOW)
    assert services.pending_count() == 0
    report = _merge(feed, [feeds.offer(BASE, n) for n in range(11, 20)])
    assert report.held == 11
    (decision,) = services.decisions(feed)
    assert not decision.refused and services.pending_count() == 1
    assert decision.item_ids == sorted(feeds.item_id(n) for n in range(11))


def test_held_questions_stay_with_their_feed_and_kind(feed: Feed) -> None:
    other = services.add_feed(None, "oostende", "https://oostende.example/feed.json")
    oostende = "https://oostende.example"
    db.session.add(Decision(feed_id=feed.id, kind=DecisionKind.MOVED,
                            detail="https://ieper.example/new.json", refused=False))
    _merge(other, [feeds.offer(oostende, n) for n in range(12)], base=oostende)
    _merge(other, [], base=oostende)
    _merge(feed, [feeds.offer(BASE, n) for n in range(100, 112)])
    report = _merge(feed, [])
    assert report.held == 12
    moved, mass = services.decisions(feed)
    assert (moved.kind, moved.detail) == (DecisionKind.MOVED, "https://ieper.example/new.json")
    assert mass.kind == DecisionKind.MASS_DELETE
    assert mass.item_ids == sorted(feeds.item_id(n) for n in range(100, 112))
    (theirs,) = services.decisions(other)
    assert theirs.item_ids == sorted(feeds.item_id(n) for n in range(12))
    # Back to normal at one feed: the other's question stays.
    _merge(feed, [feeds.offer(BASE, n) for n in range(100, 112)])
    assert [d.kind for d in services.decisions(feed)] == [DecisionKind.MOVED]
    assert len(services.decisions(other)) == 1


def test_the_items_a_fetch_dropped_are_reported(feed: Feed) -> None:
    broken = feeds.offer(BASE, 2)
    del broken["url"]
    report = _merge(feed, [feeds.offer(BASE, 1), broken])
    assert report.added == 1
    assert [key for key, _ in report.dropped] == [feeds.item_id(2)]


def test_an_accepted_deletion_is_audited_with_the_ids_as_published(
        feed: Feed, make_admin: Any) -> None:
    ids = [f"urn:lets:café-{n:02}" for n in range(12)]
    _merge(feed, [feeds.offer(BASE, n, id=ids[n]) for n in range(12)])
    _merge(feed, [])
    (decision,) = services.decisions(feed)
    assert decision.item_ids == ids
    services.decide(make_admin(), decision.id, accept=True, now=NOW)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "federation.accept"))
    assert entry is not None
    assert json.loads(entry.details)["detail"] == json.dumps(ids, ensure_ascii=False)
    assert "café-00" in json.loads(entry.details)["detail"]
