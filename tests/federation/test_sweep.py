"""Whole sweeps: the worker pool against real loopback servers, on a database that
really commits (workers are threads with their own sessions)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lets_site.extensions import db
from lets_site.federation import services, sweep
from lets_site.federation.models import Feed, FeedItem, Health
from tests.federation import feeds
from tests.federation.servers import FeedServer, feed_server, send

pytestmark = pytest.mark.real_commits

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


@pytest.fixture
def fed(app: Flask) -> Flask:
    app.config.update(FEDERATION_ALLOW_HTTP=True, ALLOWED_PRIVATE_NETWORKS=["127.0.0.0/8"],
                      FEDERATION_DEADLINE=2, FEDERATION_READ_TIMEOUT=2,
                      FEDERATION_CONNECT_TIMEOUT=2, FEDERATION_BACKOFF_SECONDS=60)
    return app


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as running:
        yield running


def _follow(server: FeedServer, slug: str, path: str | None = None) -> str:
    path = path or f"/{slug}/feed.json"
    feed = services.add_feed(None, slug, server.url(path))
    feed.next_fetch_at = NOW - timedelta(minutes=1)
    return path


def _serve(server: FeedServer, slug: str, items: int = 2, delay: float = 0.0) -> None:
    path = _follow(server, slug)
    base = server.base + f"/{slug}"
    body = json.dumps(feeds.feed(base, slug, [feeds.offer(base, n) for n in range(items)],
                                 path="/feed.json")).encode()

    def handler(h: BaseHTTPRequestHandler) -> None:
        if delay:
            time.sleep(delay)
        send(h, 200, body)

    server.routes[path] = handler


def _count(slug: str) -> int:
    return int(db.session.scalar(
        select(func.count()).select_from(FeedItem).join(Feed)
        .where(Feed.slug == slug, FeedItem.deleted.is_(False))) or 0)


def test_sweep_fetches_due_feeds_and_a_crash_does_not_stop_it(
        fed: Flask, server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for slug in ("ieper", "broken", "oostende"):
        _serve(server, slug)
    path = _follow(server, "missing")
    server.routes.pop(path, None)
    db.session.commit()
    real_merge = services.merge

    def merge(feed: Feed, parsed: Any, now: datetime) -> Any:
        if feed.slug == "broken":
            raise RuntimeError("a bug in one feed's merge")
        return real_merge(feed, parsed, now)

    monkeypatch.setattr(services, "merge", merge)
    report = sweep.run(fed, workers=2, clock=clock)
    assert report.outcomes == {"ok": 2, "crash": 1, "http_error": 1}
    db.session.expire_all()
    assert _count("ieper") == 2 and _count("oostende") == 2
    broken = db.session.scalar(select(Feed).where(Feed.slug == "broken"))
    assert broken is not None and broken.health == Health.ERROR
    assert "a bug in one feed's merge" in broken.reason and broken.lease_owner is None
    # Nothing is due any more: a second sweep at the same time fetches nothing.
    assert sweep.run(fed, workers=2, clock=clock).fetched == 0


def test_cli_fetch_runs_a_sweep(fed: Flask, server: FeedServer) -> None:
    _serve(server, "ieper")
    db.session.commit()
    result = fed.test_cli_runner().invoke(args=["federation", "fetch", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Fetched 1 feeds" in result.output and "ok 1" in result.output


@pytest.mark.slow
def test_200_feeds_swept_concurrently_within_the_per_host_limit(fed: Flask) -> None:
    # Two hosts (127.0.0.1 and 127.0.0.2), 100 feeds each, each answer taking 20 ms.
    with feed_server() as one, FeedServer(host="127.0.0.2").start() as two:
        for n in range(100):
            _serve(one, f"a{n}", items=3, delay=0.02)
            _serve(two, f"b{n}", items=3, delay=0.02)
        db.session.commit()
        begun = time.monotonic()
        report = sweep.run(fed, workers=8, clock=clock)
        took = time.monotonic() - begun
    assert report.outcomes == {"ok": 200}
    # At most 2 requests per host at once, and both hosts were served side by side.
    assert one.peak == 2 and two.peak == 2
    # 100 feeds per host, two at a time, 20 ms each: the network part is about 1 s; the
    # rest is 400 short transactions (10 s measured on a loaded 2-core machine).
    assert took < 40
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(FeedItem)) == 600


@pytest.mark.skipif(not (os.environ.get("LETS_TEST_DATABASE_URL") or "").startswith("postgres"),
                    reason="row leases with SKIP LOCKED need PostgreSQL")
def test_two_workers_on_postgresql_never_fetch_the_same_feed(fed: Flask) -> None:
    with feed_server() as server:
        for n in range(40):
            _serve(server, f"g{n}", items=1, delay=0.03)
        db.session.commit()
        reports: list[sweep.Report] = []

        def work(owner: str) -> None:
            reports.append(sweep.run(fed, workers=3, clock=clock, owner=owner))

        threads = [threading.Thread(target=work, args=(name,)) for name in ("w1", "w2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sorted(r.fetched for r in reports) and sum(r.fetched for r in reports) == 40
    assert all(r.fetched > 0 for r in reports)  # both workers took part
    assert set(server.requests.values()) == {1}  # every feed fetched exactly once
    assert max(server.peak_by_path.values()) == 1


def test_only_a_sweep_that_changed_items_drops_the_cached_pages(fed: Flask,
                                                               server: FeedServer) -> None:
    from pathlib import Path

    from lets_site.web.pagecache import GENERATION_FILE

    path = _follow(server, "ieper")
    base = server.base + "/ieper"
    body = json.dumps(feeds.feed(base, "ieper", [feeds.offer(base, 1)],
                                 path="/feed.json")).encode()

    def handler(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            send(h, 304, headers={"ETag": '"v1"'})
        else:
            send(h, 200, body, headers={"ETag": '"v1"'})

    server.routes[path] = handler
    db.session.commit()
    generation = Path(fed.instance_path) / GENERATION_FILE

    def stamp() -> str:
        return generation.read_text() if generation.exists() else ""

    before = stamp()
    assert sweep.run(fed, clock=clock).outcomes == {"ok": 1}
    merged = stamp()
    assert merged != before  # new items: pages showing them are made again
    later = NOW + timedelta(hours=1)
    assert sweep.run(fed, clock=lambda: later).outcomes == {"not_modified": 1}
    assert stamp() == merged  # the lease and the 304 show on no page


def test_workers_use_the_database_in_turns_no_more_at_once_than_connections(
        fed: Flask) -> None:
    with fed.app_context():
        turns = sweep._turns(db.engine)
        if db.engine.dialect.name == "sqlite":
            assert isinstance(turns, type(threading.Lock()))  # one writer at a time
            return
        pool = db.engine.pool
        connections = pool.size() + pool._max_overflow  # type: ignore[attr-defined]
        assert connections < fed.config["FEDERATION_WORKERS"]
        taken = [turns.acquire(blocking=False) for _ in range(connections + 1)]
        assert taken == [True] * connections + [False]
        for _ in range(connections):
            turns.release()
