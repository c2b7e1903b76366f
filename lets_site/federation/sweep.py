"""One sweep of the fetch queue: ``lets-site federation fetch``.

A bounded pool of worker threads; each leases the next due feed (one short transaction),
fetches it with no database connection held, waits for a free slot of the feed's host
(at most ``FEDERATION_PER_HOST`` requests per host at once) and records the result (one
more transaction). A feed that crashes is logged and backed off; the sweep goes on.
Several processes or hosts may sweep at once on PostgreSQL: the leases keep them apart.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import Engine

from lets_site.database import write_transaction
from lets_site.extensions import db
from lets_site.federation import fetch, netguard, scripts, services
from lets_site.web.pagecache import changes_no_page

# Outcomes that change nothing a visitor sees: their commit keeps the cached pages.
UNSEEN = ("not_modified", "unchanged", "lost_lease")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Report:
    outcomes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def fetched(self) -> int:
        return sum(self.outcomes.values())


class HostSlots:
    """At most ``limit`` requests per host at once (in this process)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}

    def __call__(self, url: str) -> threading.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            if host not in self._slots:
                self._slots[host] = threading.Semaphore(self.limit)
            return self._slots[host]


def _turns(engine: Engine) -> AbstractContextManager[Any]:
    """What a worker holds while it uses the database. SQLite has one writer at a time:
    the workers take turns here rather than in SQLite's busy handler, which sleeps in
    growing steps. On PostgreSQL at most as many workers as the connection pool holds
    (there may be more workers than connections: they mostly wait on the network), so a
    worker waits for a turn rather than running into the pool's time-out."""
    if engine.dialect.name == "sqlite":
        return threading.Lock()
    size = getattr(engine.pool, "size", None)
    overflow = int(getattr(engine.pool, "_max_overflow", -1))
    if callable(size) and overflow >= 0:
        return threading.BoundedSemaphore(max(1, int(size()) + overflow))
    return contextlib.nullcontext()


def run(app: Flask, *, workers: int | None = None, clock: Clock = system_clock,
        resolver: netguard.Resolver | None = None, owner: str | None = None) -> Report:
    """Fetch every feed due now; return what happened."""
    config = app.config
    limits = fetch.Limits.from_config(config)
    scripts_limits = scripts.limits(limits)
    schedule = services.Schedule.from_config(config)
    count = int(workers or config["FEDERATION_WORKERS"])
    slots = HostSlots(int(config["FEDERATION_PER_HOST"]))
    owner = owner or uuid.uuid4().hex
    # The lease outlives a fetch's deadline with room to record it.
    lease = limits.deadline * 2 + 60
    due_before = clock()
    report = Report()
    lock = threading.Lock()
    with app.app_context():
        turns = _turns(db.engine)
    begun = time.monotonic()

    def one_feed() -> bool:
        with turns, write_transaction():
            claimed = services.claim(owner, clock(), due_before, lease)
            changes_no_page(db.session)  # a lease shows nowhere
            db.session.commit()
        if claimed is None:
            return False
        started = clock()
        t0 = time.monotonic()
        try:
            with slots(claimed.feed_url):
                try:
                    result: fetch.Response | fetch.FetchError = fetch.get(
                        claimed.feed_url, limits, claimed.etag, claimed.last_modified,
                        resolver)
                except fetch.FetchError as error:
                    result = error
            duration = int((time.monotonic() - t0) * 1000)
            with turns, write_transaction():
                outcome = services.record(claimed, owner, started, clock(), result,
                                          duration, schedule)
                due = scripts.after_feed(claimed.feed_id, outcome)
                if outcome in UNSEEN:
                    changes_no_page(db.session)
                db.session.commit()
            if due is not None:
                shared_scripts(due)
        except Exception as error:  # one feed's bug never stops the sweep
            db.session.rollback()
            app.logger.exception("federation: fetching %s failed", claimed.slug)
            with turns, write_transaction():
                services.record_crash(claimed.feed_id, owner, started, clock(), error,
                                      schedule)
                db.session.commit()
            outcome = "crash"
        with lock:
            report.outcomes[outcome] += 1
        return True

    def shared_scripts(due: scripts.Due) -> None:
        """The contact scripts the group shares (federation/scripts.py): the same guarded
        fetcher and host slots, the import's size cap."""
        started = clock()
        t0 = time.monotonic()
        with slots(due.url):
            try:
                result: fetch.Response | fetch.FetchError = fetch.get(
                    due.url, scripts_limits, due.etag, due.last_modified, resolver)
            except fetch.FetchError as error:
                result = error
        duration = int((time.monotonic() - t0) * 1000)
        try:
            with turns, write_transaction():
                scripts.record(due, started, clock(), result, duration)
                db.session.commit()
        except Exception:  # the feed itself was recorded; the sweep goes on
            db.session.rollback()
            app.logger.exception("federation: the contact scripts at %s failed", due.url)

    def worker() -> None:
        with app.app_context():
            try:
                while one_feed():
                    pass
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=max(1, count),
                            thread_name_prefix="federation-fetch") as pool:
        futures = [pool.submit(worker) for _ in range(max(1, count))]
        for future in futures:
            future.result()
    report.seconds = time.monotonic() - begun
    return report
