"""Merging, the mass-deletion guard, backoff and decisions (rolled-back database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from lets_site.domain import DomainError, PermissionDenied
from lets_site.extensions import db
from lets_site.federation import parse, services
from lets_site.federation.fetch import FetchError, Response
from lets_site.federation.models import Decision, Feed, FeedItem, FetchLog, Health, Status
from tests.federation import feeds

BASE = "https://ieper.example"
URL = BASE + "/feed.json"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SCHEDULE = services.Schedule(interval=1800, backoff=60, max_backoff=86400)


@pytest.fixture
def feed(app: Any) -> Feed:
    added = services.add_feed(None, "ieper", URL)
    added.next_fetch_at = NOW  # due at the tests' clock
    return added


def _merge(feed: Feed, items: list[dict[str, Any]], now: datetime = NOW,
           **lets: Any) -> services.Merged:
    body = json.dumps(feeds.feed(BASE, "ieper", items, **lets)).encode()
    return services.merge(feed, parse.parse(body, URL, "ieper", now), now)


def _items(feed: Feed) -> dict[str, FeedItem]:
    return {row.item_id: row for row in db.session.scalars(
        select(FeedItem).where(FeedItem.feed_id == feed.id))}


def _record(feed: Feed, result: Response | FetchError, now: datetime = NOW) -> str:
    claim = services.claim("worker", now, now, 60)
    assert claim is not None and claim.feed_id == feed.id
    return services.record(claim, "worker", now, now, result, 5, SCHEDULE)


def _ok(items: list[dict[str, Any]], **headers: str) -> Response:
    return Response(200, URL, {k.lower(): v for k, v in headers.items()},
                    json.dumps(feeds.feed(BASE, "ieper", items)).encode(), 100)


def test_registry_refuses_bad_and_twice_added_feeds(feed: Feed, make_member: Any) -> None:
    with pytest.raises(DomainError):
        services.add_feed(None, "ieper", "https://other.example/feed.json")
    with pytest.raises(DomainError):
        services.add_feed(None, "other", URL)
    with pytest.raises(DomainError):
        services.add_feed(None, "Not A Slug", "https://x.example/feed.json")
    with pytest.raises(DomainError):
        services.add_feed(None, "js", "javascript:alert(1)")
    with pytest.raises(PermissionDenied):
        services.add_feed(make_member(), "member", "https://m.example/feed.json")


def test_higher_revision_wins_and_stale_ones_are_ignored(feed: Feed) -> None:
    _merge(feed, [feeds.offer(BASE, 1, revision=2, title="Two")])
    report = _merge(feed, [feeds.offer(BASE, 1, revision=1, title="One")])
    assert report.stale == 1 and _items(feed)[feeds.item_id(1)].title == "Two"
    report = _merge(feed, [feeds.offer(BASE, 1, revision=2, title="Same revision")])
    assert report.stale == 1 and _items(feed)[feeds.item_id(1)].title == "Two"
    report = _merge(feed, [feeds.offer(BASE, 1, revision=3, title="Three")])
    assert report.updated == 1 and _items(feed)[feeds.item_id(1)].title == "Three"


def test_tombstone_stops_a_rollback_resurrecting_the_item(feed: Feed) -> None:
    _merge(feed, [feeds.offer(BASE, 1, revision=2)])
    report = _merge(feed, [feeds.tombstone(BASE, 1, revision=3)])
    assert report.deleted == 1 and _items(feed)[feeds.item_id(1)].deleted
    # The publisher restored an old backup: the item comes back at revision 2.
    report = _merge(feed, [feeds.offer(BASE, 1, revision=2)])
    assert report.stale == 1 and _items(feed)[feeds.item_id(1)].deleted
    # A real new revision brings it back.
    _merge(feed, [feeds.offer(BASE, 1, revision=4)])
    assert not _items(feed)[feeds.item_id(1)].deleted


def test_items_are_keyed_by_group_never_across_groups(feed: Feed) -> None:
    other = services.add_feed(None, "oostende", "https://oostende.example/feed.json")
    _merge(feed, [feeds.offer(BASE, 1, revision=5, title="Ieper's")])
    same_id = feeds.offer("https://oostende.example", 1, revision=1, title="Oostende's")
    body = json.dumps(feeds.feed("https://oostende.example", "oostende", [same_id])).encode()
    services.merge(other, parse.parse(body, other.feed_url, "oostende", NOW), NOW)
    assert _items(feed)[feeds.item_id(1)].title == "Ieper's"
    assert _items(other)[feeds.item_id(1)].title == "Oostende's"


def test_absence_from_a_complete_feed_deletes(feed: Feed) -> None:
    _merge(feed, [feeds.offer(BASE, n) for n in range(3)])
    report = _merge(feed, [feeds.offer(BASE, 0)])
    assert report.deleted == 2 and set(_items(feed)) == {feeds.item_id(0)}


def test_absence_from_an_incomplete_feed_deletes_nothing(feed: Feed) -> None:
    _merge(feed, [feeds.offer(BASE, n) for n in range(3)])
    _merge(feed, [feeds.offer(BASE, 0)], complete=False)
    assert len(_items(feed)) == 3


@pytest.mark.parametrize(("total", "vanish", "held"), [
    (19, 10, True),  # 10 of 19: more than half and at least 10
    (20, 10, False),  # exactly half: not more than half
    (10, 9, False),  # most of them, but fewer than 10
    (10, 10, True),  # all of them
])
def test_mass_deletion_guard_edges(feed: Feed, total: int, vanish: int, held: bool) -> None:
    _merge(feed, [feeds.offer(BASE, n) for n in range(total)])
    report = _merge(feed, [feeds.offer(BASE, n) for n in range(vanish, total)])
    live = [row for row in _items(feed).values() if not row.deleted]
    assert (report.held > 0) is held
    assert len(live) == (total if held else total - vanish)
    decisions = services.decisions(feed)
    assert len(decisions) == (1 if held else 0)


def test_mass_deletion_with_tombstones_is_not_held(feed: Feed) -> None:
    _merge(feed, [feeds.offer(BASE, n) for n in range(12)])
    report = _merge(feed, [feeds.tombstone(BASE, n, 2) for n in range(12)])
    assert report.held == 0 and report.deleted == 12


def test_held_mass_deletion_accepted_or_refused(feed: Feed, make_admin: Any) -> None:
    admin = make_admin()
    _merge(feed, [feeds.offer(BASE, n) for n in range(12)])
    _merge(feed, [])
    (decision,) = services.decisions(feed)
    assert len(decision.item_ids) == 12
    services.decide(admin, decision.id, accept=False, now=NOW)
    assert decision.refused and len(_items(feed)) == 12
    # The same change is not asked again.
    _merge(feed, [])
    assert services.decisions(feed)[0].refused
    services.decide(admin, decision.id, accept=True, now=NOW)
    assert _items(feed) == {} and services.decisions(feed) == []


def test_future_timestamps_are_clamped_to_now(feed: Feed) -> None:
    item = feeds.offer(BASE, 1, date_published="2030-01-01T00:00:00Z",
                       date_modified="2031-01-01T00:00:00+02:00")
    _merge(feed, [item])
    row = _items(feed)[feeds.item_id(1)]
    assert row.date_published == NOW and row.date_modified == NOW
    # An injected clock moves "now".
    later = NOW + timedelta(days=1)
    _merge(feed, [feeds.offer(BASE, 2, date_published="2030-01-01T00:00:00Z")], now=later)
    assert _items(feed)[feeds.item_id(2)].date_published == later


def test_failure_keeps_items_and_backs_off_exponentially_capped(feed: Feed) -> None:
    assert _record(feed, _ok([feeds.offer(BASE, 1)])) == "ok"
    assert feed.health == Health.OK and feed.next_fetch_at == NOW + timedelta(seconds=1800)
    waits = []
    now = NOW
    for _ in range(14):
        now = feed.next_fetch_at
        assert _record(feed, Response(500, URL), now) == "http_error"
        waits.append((feed.next_fetch_at - now).total_seconds())
    assert waits[:4] == [60, 120, 240, 480]
    assert max(waits) == 86400 and waits[-1] == 86400
    assert feed.health == Health.STALE and "500" in feed.reason
    assert len(_items(feed)) == 1  # the last good snapshot stays
    assert _record(feed, FetchError("timeout", "slow"), feed.next_fetch_at) == "timeout"
    assert len(_items(feed)) == 1


@pytest.mark.parametrize("outcome", ["timeout", "deadline"])
def test_a_timed_out_fetch_skips_the_next_sweep_and_backs_off(feed: Feed,
                                                              outcome: str) -> None:
    assert _record(feed, _ok([feeds.offer(BASE, 1)])) == "ok"
    now = feed.next_fetch_at
    assert _record(feed, FetchError(outcome, "no answer"), now) == outcome
    assert feed.errors == 1 and feed.health == Health.STALE
    assert SCHEDULE.timeout_backoff == 3600 > SCHEDULE.interval
    assert feed.next_fetch_at == now + timedelta(seconds=3600)
    # The next half-hourly sweep leaves it out; the one after takes it.
    later = now + timedelta(seconds=SCHEDULE.interval + 1)
    assert services.claim("other", later, later, 60) is None
    now = feed.next_fetch_at
    assert _record(feed, FetchError(outcome, "no answer"), now) == outcome
    assert feed.next_fetch_at == now + timedelta(seconds=7200)  # doubled
    # A quick refusal keeps the ordinary first wait, doubled by the errors so far.
    now = feed.next_fetch_at
    assert _record(feed, Response(500, URL), now) == "http_error"
    assert feed.next_fetch_at == now + timedelta(seconds=60 * 4)


def test_error_before_any_success_is_error_not_stale(feed: Feed) -> None:
    _record(feed, Response(404, URL))
    assert feed.health == Health.ERROR and feed.errors == 1


def test_retry_after_reschedules_without_counting_an_error(feed: Feed) -> None:
    _record(feed, Response(429, URL, retry_after=600))
    assert feed.errors == 0 and feed.next_fetch_at == NOW + timedelta(seconds=600)
    _record(feed, Response(503, URL, retry_after=30), feed.next_fetch_at)
    assert feed.errors == 0
    # A 503 without Retry-After is an error.
    _record(feed, Response(503, URL), feed.next_fetch_at)
    assert feed.errors == 1


def test_410_marks_the_feed_gone_and_keeps_its_items(feed: Feed) -> None:
    _record(feed, _ok([feeds.offer(BASE, 1)]))
    _record(feed, Response(410, URL), feed.next_fetch_at)
    assert (feed.status, feed.health) == (Status.GONE, Health.GONE)
    assert len(_items(feed)) == 1
    assert services.claim("worker", NOW + timedelta(days=9), NOW + timedelta(days=9), 60) is None


def test_not_modified_and_identical_body(feed: Feed) -> None:
    assert _record(feed, _ok([feeds.offer(BASE, 1)], ETag='"a"')) == "ok"
    assert feed.etag == '"a"'
    assert _record(feed, Response(304, URL), feed.next_fetch_at) == "not_modified"
    assert _record(feed, _ok([feeds.offer(BASE, 1)]), feed.next_fetch_at) == "unchanged"
    outcomes = [log.outcome for log in services.fetch_log(feed)]
    assert outcomes == ["unchanged", "not_modified", "ok"]


def test_invalid_feed_keeps_items_and_says_why(feed: Feed) -> None:
    _record(feed, _ok([feeds.offer(BASE, 1)], ETag='"good"'))
    spoofed = feeds.feed(BASE, "oostende", [])
    bad = Response(200, URL, {"etag": '"bad"'}, json.dumps(spoofed).encode(), 10)
    assert _record(feed, bad, feed.next_fetch_at) == "invalid"
    assert feed.health == Health.INVALID and "slug" in feed.reason
    assert len(_items(feed)) == 1
    # The refused body's validators are not kept: a 304 never stands for a refused body.
    assert feed.etag == '"good"'


def test_dropped_items_are_logged_with_reasons(feed: Feed) -> None:
    bad = feeds.offer(BASE, 2, url="https://evil.example/2")
    _record(feed, _ok([feeds.offer(BASE, 1), bad]))
    assert services.dropped_items(feed) == [(feeds.item_id(2),
                                             "url is not on the group's own site")]


def test_permanent_redirect_is_held_for_the_admin(feed: Feed, make_admin: Any) -> None:
    new = "https://ieper.example/v2/feed.json"
    moved = Response(200, new, {}, json.dumps(feeds.feed(
        BASE, "ieper", [feeds.offer(BASE, 1)], path="/v2/feed.json")).encode(), 10,
        moved_to=new)
    assert _record(feed, moved) == "ok"
    (decision,) = services.decisions(feed)
    assert (decision.kind, decision.detail) == ("moved", new)
    assert feed.feed_url == URL  # not followed silently
    services.decide(make_admin(), decision.id, accept=True, now=NOW)
    assert feed.feed_url == new and services.decisions(feed) == []


def test_leases_keep_a_feed_to_one_worker(feed: Feed) -> None:
    first = services.claim("a", NOW, NOW, 60)
    assert first is not None
    assert services.claim("b", NOW, NOW, 60) is None
    # A result from a worker whose lease ran out and was taken over is not recorded.
    later = NOW + timedelta(seconds=61)
    assert services.claim("b", later, later, 60) is not None
    assert services.record(first, "a", NOW, NOW, Response(500, URL), 1, SCHEDULE) == \
        "lost_lease"
    assert feed.errors == 0


def test_fetch_log_keeps_the_latest_rows(feed: Feed) -> None:
    now = NOW
    for _ in range(services.LOG_KEEP + 5):
        _record(feed, Response(429, URL, retry_after=1), now)
        now = feed.next_fetch_at
    count = len(list(db.session.scalars(select(FetchLog).where(FetchLog.feed_id == feed.id))))
    assert count == services.LOG_KEEP


def test_remove_feed_takes_its_items(feed: Feed) -> None:
    _merge(feed, [feeds.offer(BASE, 1)])
    services.remove_feed(None, "ieper")
    assert db.session.scalars(select(FeedItem)).all() == []
    assert db.session.scalars(select(Decision)).all() == []
