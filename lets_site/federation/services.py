"""The aggregator's rules: the registry, what one fetch's result does to the stored
snapshot (merge, backoff, health), the fetch queue's leases and the admin's decisions.

Functions flush and never commit: the views commit once, and the sweep
(:mod:`lets_site.federation.sweep`) commits once per step of each feed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, or_, select

from lets_site.audit import services as audit
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.federation import agenda, parse
from lets_site.federation.fetch import FetchError, Response
from lets_site.federation.models import (
    Decision,
    DecisionKind,
    Feed,
    FeedItem,
    FetchLog,
    Health,
    Status,
)
from lets_site.search import normalise_text

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# The mass-deletion guard: at least this many items, and more than half of the group's.
MASS_DELETE_MIN = 10
# Fetch log rows kept per feed.
LOG_KEEP = 20


# Failures that held a worker until a time limit ran out (docs/federation.md): they wait
# longer before the next try than a quick refusal does.
TIMED_OUT = ("timeout", "deadline")


@dataclass(frozen=True)
class Schedule:
    interval: float = 1800.0  # seconds between fetches of a healthy feed
    backoff: float = 300.0  # the first wait after an error; doubles each time
    max_backoff: float = 86400.0
    # The first wait after a fetch that timed out (TIMED_OUT); doubles each time too.
    timeout_backoff: float = 3600.0

    @classmethod
    def from_config(cls, config: Any) -> Schedule:
        return cls(float(config["FEDERATION_INTERVAL_SECONDS"]),
                   float(config["FEDERATION_BACKOFF_SECONDS"]),
                   float(config["FEDERATION_MAX_BACKOFF_SECONDS"]),
                   float(config["FEDERATION_TIMEOUT_BACKOFF_SECONDS"]))


@dataclass
class Claim:
    """A feed a worker leased: what it needs to fetch it without the database."""

    feed_id: int
    slug: str
    feed_url: str
    etag: str | None
    last_modified: str | None


@dataclass
class Merged:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    stale: int = 0
    held: int = 0
    dropped: list[tuple[str, str]] = field(default_factory=list)


def _admin(actor: Any) -> None:
    if actor is not None and not getattr(actor, "is_admin", False):
        raise PermissionDenied(_l("Only admins manage the followed feeds."))


# --- registry ------------------------------------------------------------------------------


def feeds() -> list[Feed]:
    return list(db.session.scalars(select(Feed).order_by(Feed.slug)))


def feed_by_slug(slug: str) -> Feed:
    feed = db.session.scalar(select(Feed).where(Feed.slug == slug))
    if feed is None:
        raise NotFound(_l("No followed feed has that name."))
    return feed


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise DomainError(_l("Give the feed's full http or https address."), field="feed_url")
    return url


def add_feed(actor: Any, slug: str, feed_url: str, public_key: str | None = None) -> Feed:
    """Follow a group's feed (``actor`` None: the command line)."""
    _admin(actor)
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise DomainError(_l("The short name takes lower-case letters, digits and hyphens."),
                          field="slug")
    url = check_url(feed_url)
    if db.session.scalar(select(Feed.id).where(Feed.slug == slug)) is not None:
        raise DomainError(_l("A followed feed has that short name already."), field="slug")
    if db.session.scalar(select(Feed.id).where(Feed.feed_url == url)) is not None:
        raise DomainError(_l("That feed is followed already."), field="feed_url")
    key = (public_key or "").strip() or None
    if key is not None and not re.fullmatch(r"[A-Za-z0-9+/=_-]{16,200}", key):
        raise DomainError(_l("The public key is not in base64."), field="public_key")
    feed = Feed(slug=slug, feed_url=url, public_key=key, status=Status.ACTIVE,
                health=Health.NEW, reason="", group_name="", group_info="{}", errors=0)
    db.session.add(feed)
    db.session.flush()
    audit.record(actor, "federation.add", target_type="federation_feed", target_id=feed.id,
                 target_label=slug, details={"feed_url": url})
    return feed


def remove_feed(actor: Any, slug: str) -> None:
    """Stop following a feed; its items, log and decisions go with it."""
    _admin(actor)
    feed = feed_by_slug(slug)
    for model in (FeedItem, FetchLog, Decision):
        db.session.execute(delete(model).where(model.feed_id == feed.id))
    db.session.delete(feed)
    db.session.flush()
    audit.record(actor, "federation.remove", target_type="federation_feed",
                 target_id=feed.id, target_label=slug)


def set_status(actor: Any, slug: str, status: str, now: datetime) -> Feed:
    """Pause a feed, or make it active again (fetched at the next sweep)."""
    _admin(actor)
    if status not in (Status.ACTIVE, Status.PAUSED):
        raise DomainError(_l("Unknown status."))
    feed = feed_by_slug(slug)
    feed.status = status
    if status == Status.ACTIVE:
        feed.next_fetch_at = now
        feed.errors = 0
    db.session.flush()
    audit.record(actor, f"federation.{status}", target_type="federation_feed",
                 target_id=feed.id, target_label=slug)
    return feed


def item_counts() -> dict[int, int]:
    rows = db.session.execute(
        select(FeedItem.feed_id, func.count()).where(FeedItem.deleted.is_(False))
        .group_by(FeedItem.feed_id))
    return {feed_id: count for feed_id, count in rows}


def fetch_log(feed: Feed, limit: int = LOG_KEEP) -> list[FetchLog]:
    return list(db.session.scalars(
        select(FetchLog).where(FetchLog.feed_id == feed.id)
        .order_by(FetchLog.started_at.desc(), FetchLog.id.desc()).limit(limit)))


def decisions(feed: Feed | None = None) -> list[Decision]:
    query = select(Decision).order_by(Decision.created_at)
    if feed is not None:
        query = query.where(Decision.feed_id == feed.id)
    return list(db.session.scalars(query))


def pending_count() -> int:
    return int(db.session.scalar(
        select(func.count()).select_from(Decision).where(Decision.refused.is_(False))) or 0)


# --- the queue -----------------------------------------------------------------------------


def claim(owner: str, now: datetime, due_before: datetime, lease_seconds: float) -> Claim | None:
    """Lease the next due feed for ``owner`` (None when none is left). On PostgreSQL the
    row is locked with ``FOR UPDATE SKIP LOCKED``, so concurrent workers (threads,
    processes or hosts) each get another feed; the lease keeps it theirs until they
    record the result or the lease runs out (a crashed worker)."""
    feed = db.session.scalar(
        select(Feed)
        .where(Feed.status == Status.ACTIVE, Feed.next_fetch_at <= due_before,
               or_(Feed.lease_until.is_(None), Feed.lease_until < now))
        .order_by(Feed.next_fetch_at, Feed.id).limit(1)
        .with_for_update(skip_locked=True))
    if feed is None:
        return None
    feed.lease_until = now + timedelta(seconds=lease_seconds)
    feed.lease_owner = owner
    db.session.flush()
    return Claim(feed.id, feed.slug, feed.feed_url, feed.etag, feed.last_modified)


def _release(feed: Feed, owner: str) -> bool:
    """Give the lease back; False if it is no longer ours (it ran out and another worker
    took the feed: then this result is not recorded)."""
    if feed.lease_owner != owner:
        return False
    feed.lease_owner = None
    feed.lease_until = None
    return True


def _later(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=max(seconds, 1.0))


def _log(feed: Feed, started: datetime, now: datetime, outcome: str, message: str = "",
         status: int | None = None, size: int = 0, duration_ms: int = 0,
         dropped: list[tuple[str, str]] | None = None) -> None:
    db.session.add(FetchLog(feed_id=feed.id, started_at=started, status_code=status,
                            duration_ms=duration_ms, bytes=size, outcome=outcome,
                            message=message[:2000],
                            dropped=json.dumps(dropped or [], ensure_ascii=False)))
    db.session.flush()
    old = list(db.session.scalars(
        select(FetchLog.id).where(FetchLog.feed_id == feed.id)
        .order_by(FetchLog.started_at.desc(), FetchLog.id.desc()).offset(LOG_KEEP)))
    if old:
        db.session.execute(delete(FetchLog).where(FetchLog.id.in_(old)))


# The fetch log, for the shared contact scripts' fetches too (federation/scripts.py).
log_fetch = _log


def _failed(feed: Feed, now: datetime, schedule: Schedule, health: str, reason: str,
            first_wait: float | None = None) -> None:
    feed.errors += 1
    first = schedule.backoff if first_wait is None else first_wait
    wait = min(first * 2 ** min(feed.errors - 1, 30), schedule.max_backoff)
    feed.next_fetch_at = _later(now, wait)
    if health == Health.ERROR and feed.last_success_at is not None:
        health = Health.STALE
    feed.health = health
    feed.reason = reason[:2000]


def _succeeded(feed: Feed, now: datetime, schedule: Schedule) -> None:
    feed.errors = 0
    feed.health = Health.OK
    feed.reason = ""
    feed.last_success_at = now
    feed.next_fetch_at = _later(now, schedule.interval)


def _moved(feed: Feed, url: str) -> None:
    existing = db.session.scalar(select(Decision).where(
        Decision.feed_id == feed.id, Decision.kind == DecisionKind.MOVED))
    if existing is not None:
        if existing.detail == url:
            return  # already asked (or refused) for this address
        existing.detail = url
        existing.refused = False
        return
    db.session.add(Decision(feed_id=feed.id, kind=DecisionKind.MOVED, detail=url,
                            refused=False))


def record(claimed: Claim, owner: str, started: datetime, now: datetime,
           result: Response | FetchError, duration_ms: int, schedule: Schedule) -> str:
    """Apply one fetch's result to the feed: the outcome key (also logged). A failure
    never deletes anything: the items stay and the feed is marked stale."""
    feed = db.session.get(Feed, claimed.feed_id)
    if feed is None or not _release(feed, owner):
        return "lost_lease"
    feed.last_fetch_at = now
    if isinstance(result, FetchError):
        _failed(feed, now, schedule, Health.ERROR, result.message,
                schedule.timeout_backoff if result.outcome in TIMED_OUT else None)
        _log(feed, started, now, result.outcome, result.message, duration_ms=duration_ms)
        return result.outcome
    size = result.wire_bytes
    status = result.status
    if result.moved_to:
        _moved(feed, result.moved_to)
    if status == 304:
        _succeeded(feed, now, schedule)
        _log(feed, started, now, "not_modified", status=304, duration_ms=duration_ms)
        return "not_modified"
    if status == 410:
        feed.status = Status.GONE
        feed.health = Health.GONE
        feed.reason = "The server says the feed is gone for good (410)."
        _log(feed, started, now, "gone", status=410, duration_ms=duration_ms)
        return "gone"
    if status in (429, 503) and result.retry_after is not None:
        feed.next_fetch_at = _later(now, min(result.retry_after, schedule.max_backoff))
        _log(feed, started, now, "retry_later",
             f"asked to come back in {result.retry_after:.0f} s", status=status,
             duration_ms=duration_ms)
        return "retry_later"
    if status != 200:
        _failed(feed, now, schedule, Health.ERROR, f"HTTP {status}")
        _log(feed, started, now, "http_error", f"HTTP {status}", status=status,
             duration_ms=duration_ms)
        return "http_error"
    digest = hashlib.sha256(result.body).hexdigest()
    if digest == feed.body_hash and feed.health == Health.OK:
        _succeeded(feed, now, schedule)
        _log(feed, started, now, "unchanged", "the same body as last time", status=200,
             size=size, duration_ms=duration_ms)
        return "unchanged"
    try:
        parsed = parse.parse(result.body, feed.feed_url, feed.slug, now, feed.public_key)
    except parse.FeedInvalid as error:
        if result.moved_to and result.url != feed.feed_url:
            try:
                parsed = parse.parse(result.body, result.url, feed.slug, now,
                                     feed.public_key)
            except parse.FeedInvalid:
                parsed = None
        else:
            parsed = None
        if parsed is None:
            _failed(feed, now, schedule, Health.INVALID, str(error))
            _log(feed, started, now, "invalid", str(error), status=200, size=size,
                 duration_ms=duration_ms)
            return "invalid"
    merged = merge(feed, parsed, now)
    # The validators are kept only for a body that was read: a 304 then means "as
    # merged", never "as refused".
    feed.etag = (result.headers.get("etag") or "")[:200] or None
    feed.last_modified = (result.headers.get("last-modified") or "")[:100] or None
    feed.body_hash = digest
    feed.group_name = str(parsed.group.get("name") or "")[:200]
    feed.group_info = json.dumps(parsed.group, ensure_ascii=False, sort_keys=True)
    _succeeded(feed, now, schedule)
    message = (f"{merged.added} new, {merged.updated} changed, {merged.deleted} deleted, "
               f"{merged.stale} older revisions ignored, {len(parsed.dropped)} dropped")
    if merged.held:
        message += f"; {merged.held} deletions held for an admin"
    _log(feed, started, now, "ok", message, status=200, size=size, duration_ms=duration_ms,
         dropped=parsed.dropped)
    return "ok"


def record_crash(feed_id: int, owner: str, started: datetime, now: datetime,
                 error: BaseException, schedule: Schedule) -> None:
    """A feed whose processing raised: logged and backed off; the sweep goes on."""
    feed = db.session.get(Feed, feed_id)
    if feed is None or not _release(feed, owner):
        return
    message = f"internal error: {type(error).__name__}: {error}"
    _failed(feed, now, schedule, Health.ERROR, message)
    _log(feed, started, now, "crash", message)


# --- merge ---------------------------------------------------------------------------------


def _clamp(value: datetime | None, now: datetime) -> datetime | None:
    return min(value, now) if value is not None else None


def _values(item: parse.Item, now: datetime) -> dict[str, Any]:
    deleted = item.type == "deleted"
    return {
        "type": item.type, "revision": item.revision, "deleted": deleted, "url": item.url,
        "title": item.title, "content_text": item.content_text,
        "data": json.dumps(item.data, ensure_ascii=False, sort_keys=True),
        "search_text": searchable(item.title, item.content_text, item.data),
        "date_published": _clamp(item.date_published, now),
        "date_modified": _clamp(item.date_modified, now),
        "start_at": item.start,
        "end_at": agenda.event_end(item.data, item.start) if item.type == "event" else None,
        "kind": item.data.get("kind") if item.type == "event" else None,
        "deleted_at": _clamp(item.deleted_at, now) if deleted else None,
        "merged_at": now,
    }


def searchable(title: str, text: str, data: dict[str, Any]) -> str:
    """The folded text the cross-group search matches (federation/crosssearch.py)."""
    parts = [title, text, str(data.get("book_title") or ""), str(data.get("book_authors") or "")]
    return normalise_text(" ".join(part for part in parts if part))


def _fill(row: FeedItem, item: parse.Item, now: datetime) -> None:
    for key, value in _values(item, now).items():
        setattr(row, key, value)


def merge(feed: Feed, parsed: parse.Feed, now: datetime) -> Merged:
    """Merge a parsed feed into the feed's items, keyed by (feed, item id)."""
    report = Merged(dropped=list(parsed.dropped))
    rows = {row.item_id: row for row in db.session.scalars(
        select(FeedItem).where(FeedItem.feed_id == feed.id))}
    live_before = sum(1 for row in rows.values() if not row.deleted)
    incoming = set()
    new: list[dict[str, Any]] = []
    for item in parsed.items:
        incoming.add(item.id)
        row = rows.get(item.id)
        if row is None:
            # New items go in with one multi-row INSERT (a first fetch brings hundreds).
            new.append({"feed_id": feed.id, "item_id": item.id, **_values(item, now)})
            report.added += 1
        elif item.revision > row.revision:
            was_live = not row.deleted
            _fill(row, item, now)
            if was_live and row.deleted:
                report.deleted += 1
            else:
                report.updated += 1
        else:
            report.stale += 1  # an older or equal revision (a rollback): ignored
    if new:
        db.session.execute(insert(FeedItem.__table__), new)
    held = db.session.scalar(select(Decision).where(
        Decision.feed_id == feed.id, Decision.kind == DecisionKind.MASS_DELETE))
    if parsed.complete:
        missing = sorted(key for key, row in rows.items()
                         if not row.deleted and key not in incoming)
        if len(missing) >= MASS_DELETE_MIN and 2 * len(missing) > live_before:
            report.held = len(missing)
            detail = json.dumps(missing, ensure_ascii=False)
            if held is None:
                db.session.add(Decision(feed_id=feed.id, kind=DecisionKind.MASS_DELETE,
                                        detail=detail, refused=False))
            elif held.detail != detail:
                held.detail = detail
                held.refused = False
        else:
            for key in missing:
                db.session.delete(rows.pop(key))
                report.deleted += 1
            if held is not None:
                db.session.delete(held)
        # Tombstones are kept as long as the publisher keeps them, then forgotten.
        limit = now - timedelta(days=parsed.tombstone_days)
        for key, row in list(rows.items()):
            if row.deleted and key not in incoming and row.deleted_at and \
                    row.deleted_at < limit:
                db.session.delete(row)
    db.session.flush()
    return report


# --- decisions -----------------------------------------------------------------------------


def decide(actor: Any, decision_id: int, accept: bool, now: datetime) -> Decision:
    """Accept or refuse a held change. A moved URL accepted becomes the registered URL;
    a mass deletion accepted deletes the vanished items. Refused, the row stays marked
    (the same change is not asked again) and nothing changes."""
    _admin(actor)
    decision = db.session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(_l("That decision was taken already."))
    feed = db.session.get(Feed, decision.feed_id)
    assert feed is not None
    if not accept:
        decision.refused = True
        db.session.flush()
        audit.record(actor, "federation.refuse", target_type="federation_feed",
                     target_id=feed.id, target_label=feed.slug,
                     details={"kind": decision.kind})
        return decision
    if decision.kind == DecisionKind.MOVED:
        url = check_url(decision.detail)
        if db.session.scalar(select(Feed.id).where(Feed.feed_url == url,
                                                   Feed.id != feed.id)) is not None:
            raise DomainError(_l("Another followed feed has that address already."))
        feed.feed_url = url
        feed.etag = feed.last_modified = feed.body_hash = None
        feed.next_fetch_at = now
    else:
        ids = decision.item_ids
        db.session.execute(delete(FeedItem).where(FeedItem.feed_id == feed.id,
                                                  FeedItem.item_id.in_(ids)))
    details = {"kind": decision.kind, "detail": decision.detail[:500]}
    db.session.delete(decision)
    db.session.flush()
    audit.record(actor, "federation.accept", target_type="federation_feed",
                 target_id=feed.id, target_label=feed.slug, details=details)
    return decision


def dropped_items(feed: Feed) -> list[tuple[str, str]]:
    """The items the latest parsed fetch dropped, with the reasons."""
    last = db.session.scalar(
        select(FetchLog).where(FetchLog.feed_id == feed.id,
                               FetchLog.outcome == "ok")
        .order_by(FetchLog.started_at.desc(), FetchLog.id.desc()).limit(1))
    return last.dropped_items if last is not None else []
