"""The contact scripts the followed groups share (docs/federation.md, "Shared contact
scripts").

A group that shares scripts links its document (``lets-site-contact-scripts`` v1,
docs/partners.md) from its feed's group block (``_lets.group.contact_scripts``). After a
good fetch of the feed the sweep fetches that document with the same guarded fetcher
(conditional GET, a 512 KB cap as the partners' import has) and keeps its scripts here,
each checked on its own: a bad one is dropped with its reason in the feed's log. A failed
fetch changes nothing; a good one that no longer has a script removes it, and a feed that
no longer links a document removes them all.

Partners never import this module, nor this one partners: the scripts page lists what
``features.coming_subjects(features.SHARED_SCRIPTS, ...)`` gives and imports one by its
``ref`` through ``features.find_subject``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from lets_site import features
from lets_site.extensions import db
from lets_site.federation import parse, services
from lets_site.federation.fetch import FetchError, Limits, Response
from lets_site.federation.models import Feed, ScriptSource, SharedScript, Status

FORMAT = "lets-site-contact-scripts"
VERSION = 1
MAX_BYTES = 512 * 1024  # as the partners' import
MAX_SCRIPTS = 200
LANGUAGES = ("nl", "fr", "en")
CAPS = {"title": 120, "subject": 200, "body": 20_000}
# The feed outcomes after which the group block is the group's current one.
GOOD = ("ok", "not_modified", "unchanged")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class DocumentInvalid(Exception):
    """The whole document is refused (kept: what was held before)."""


class ScriptInvalid(Exception):
    """One script is dropped."""


@dataclass(frozen=True)
class Script:
    language: str
    title: str
    subject: str
    body: str


@dataclass
class Document:
    scripts: list[Script] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Due:
    """A document to fetch now: where, and the validators of the last good copy."""

    feed_id: int
    url: str
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class Held:
    """A held script as the scripts page reads it (``features.SHARED_SCRIPTS``)."""

    ref: str
    group_name: str
    group_slug: str
    group_url: str
    source_url: str
    language: str
    title: str
    subject: str
    body: str
    preview_url: str


# --- reading a document --------------------------------------------------------------------


def _line(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise ScriptInvalid(f"{key} is missing or not text")
    value = " ".join(_CONTROL.sub("", value).split())
    if not value:
        raise ScriptInvalid(f"{key} is empty")
    if len(value) > CAPS[key]:
        raise ScriptInvalid(f"{key} is longer than {CAPS[key]} characters")
    return value


def _script(raw: Any) -> Script:
    if not isinstance(raw, dict):
        raise ScriptInvalid("not an object")
    title = _line(raw, "title")
    subject = _line(raw, "subject")
    language = raw.get("language")
    if language not in LANGUAGES:
        raise ScriptInvalid(f"language is not one of {', '.join(LANGUAGES)}")
    body = raw.get("body")
    if not isinstance(body, str):
        raise ScriptInvalid("body is missing or not text")
    body = _CONTROL.sub("", body).strip()
    if not body:
        raise ScriptInvalid("body is empty")
    if len(body) > CAPS["body"]:
        raise ScriptInvalid(f"body is longer than {CAPS['body']} characters")
    return Script(language=str(language), title=title, subject=subject, body=body)


def parse_document(body: bytes) -> Document:
    """A shared scripts document, strictly: the JSON as the feed's parser reads it (no
    duplicate keys, bounded depth), the format and version, at most ``MAX_SCRIPTS``; each
    script checked on its own (dropped with its reason)."""
    try:
        doc = parse.loads(body)
    except parse.FeedInvalid as error:
        raise DocumentInvalid(str(error)) from error
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DocumentInvalid(f"not a {FORMAT} document")
    if doc.get("version") != VERSION:
        raise DocumentInvalid(f"version {str(doc.get('version'))[:20]} is not {VERSION}, the "
                              "one this site reads")
    entries = doc.get("scripts")
    if not isinstance(entries, list):
        raise DocumentInvalid("scripts is not a list")
    if len(entries) > MAX_SCRIPTS:
        raise DocumentInvalid(f"more than {MAX_SCRIPTS} scripts")
    found = Document()
    seen: set[tuple[str, str]] = set()
    for number, raw in enumerate(entries, start=1):
        title = raw.get("title") if isinstance(raw, dict) else None
        label = f"script {number}" + (f" ({title[:80]})" if isinstance(title, str) else "")
        try:
            script = _script(raw)
        except ScriptInvalid as error:
            found.dropped.append((label, str(error)))
            continue
        key = (script.language, script.title.casefold())
        if key in seen:
            found.dropped.append((label, "the title appears twice in this language"))
            continue
        seen.add(key)
        found.scripts.append(script)
    return found


# --- the sweep -----------------------------------------------------------------------------


def limits(feed_limits: Limits) -> Limits:
    """The feed's limits with the import's size cap (the smaller of the two)."""
    return dataclasses.replace(feed_limits, max_bytes=min(feed_limits.max_bytes, MAX_BYTES))


def _forget(feed_id: int) -> None:
    db.session.execute(delete(SharedScript).where(SharedScript.feed_id == feed_id))
    db.session.execute(delete(ScriptSource).where(ScriptSource.feed_id == feed_id))


def after_feed(feed_id: int, outcome: str) -> Due | None:
    """After the feed's own fetch was recorded (same transaction): the document to fetch
    now, or None. A good fetch of a feed whose group block links no document any more
    forgets that group's scripts; a failed one changes nothing."""
    if outcome not in GOOD:
        return None
    feed = db.session.get(Feed, feed_id)
    source = db.session.get(ScriptSource, feed_id)
    if feed is None:
        return None
    url = feed.group.get("contact_scripts")
    if not isinstance(url, str) or not url:
        if source is not None:
            _forget(feed_id)
        return None
    if source is None:
        source = ScriptSource(feed_id=feed_id, url=url)
        db.session.add(source)
    elif source.url != url:
        # Another address: its validators mean nothing there.
        source.url, source.etag, source.last_modified = url, None, None
    db.session.flush()
    return Due(feed_id, url, source.etag, source.last_modified)


def _sync(feed_id: int, scripts: list[Script], now: datetime) -> tuple[int, int, int]:
    """The held scripts become the document's: (added, changed, removed). A script keeps
    its row (and id) while the group shares it."""
    rows = {(row.language, row.title_key): row for row in db.session.scalars(
        select(SharedScript).where(SharedScript.feed_id == feed_id))}
    added = changed = 0
    incoming: set[tuple[str, str]] = set()
    for script in scripts:
        key = (script.language, script.title.casefold()[:120])
        incoming.add(key)
        row = rows.get(key)
        if row is None:
            db.session.add(SharedScript(feed_id=feed_id, language=script.language,
                                        title=script.title, title_key=key[1],
                                        subject=script.subject, body=script.body,
                                        fetched_at=now))
            added += 1
        elif (row.title, row.subject, row.body) != (script.title, script.subject,
                                                     script.body):
            row.title, row.subject, row.body = script.title, script.subject, script.body
            row.fetched_at = now
            changed += 1
    removed = 0
    for key, row in rows.items():
        if key not in incoming:
            db.session.delete(row)
            removed += 1
    db.session.flush()
    return added, changed, removed


def record(due: Due, started: datetime, now: datetime, result: Response | FetchError,
           duration_ms: int) -> str:
    """Apply the document's fetch: the outcome, also in the feed's log. Only a document
    that was read and accepted changes the held scripts."""
    feed = db.session.get(Feed, due.feed_id)
    source = db.session.get(ScriptSource, due.feed_id)
    if feed is None or source is None or source.url != due.url:
        return "scripts_gone"  # unfollowed, or the link changed meanwhile
    if isinstance(result, FetchError):
        services.log_fetch(feed, started, now, "scripts_error",
                           f"contact scripts {due.url}: {result.outcome}: {result.message}",
                           duration_ms=duration_ms)
        return "scripts_error"
    if result.status == 304:
        source.fetched_at = now
        services.log_fetch(feed, started, now, "scripts_not_modified",
                           f"contact scripts {due.url}: not modified", status=304,
                           duration_ms=duration_ms)
        return "scripts_not_modified"
    if result.status != 200:
        services.log_fetch(feed, started, now, "scripts_error",
                           f"contact scripts {due.url}: HTTP {result.status}",
                           status=result.status, duration_ms=duration_ms)
        return "scripts_error"
    try:
        document = parse_document(result.body)
    except DocumentInvalid as error:
        services.log_fetch(feed, started, now, "scripts_invalid",
                           f"contact scripts {due.url}: refused: {error}", status=200,
                           size=result.wire_bytes, duration_ms=duration_ms)
        return "scripts_invalid"
    added, changed, removed = _sync(due.feed_id, document.scripts, now)
    source.etag = (result.headers.get("etag") or "")[:200] or None
    source.last_modified = (result.headers.get("last-modified") or "")[:100] or None
    source.fetched_at = now
    message = (f"contact scripts {due.url}: {len(document.scripts)} held ({added} new, "
               f"{changed} changed, {removed} removed), {len(document.dropped)} dropped")
    if document.dropped:
        message += ": " + "; ".join(f"{label}: {reason}" for label, reason in document.dropped)
    services.log_fetch(feed, started, now, "scripts_ok", message, status=200,
                       size=result.wire_bytes, duration_ms=duration_ms,
                       dropped=document.dropped)
    return "scripts_ok"


# --- reading what is held ------------------------------------------------------------------


def _held(row: SharedScript, feed: Feed) -> Held:
    group = feed.group
    return Held(ref=str(row.id), group_name=feed.group_name or feed.slug, group_slug=feed.slug,
                group_url=str(group.get("url") or ""),
                source_url=str(group.get("contact_scripts") or ""),
                language=row.language, title=row.title, subject=row.subject, body=row.body,
                preview_url=features.item_url("federation.shared_script", slug=feed.slug,
                                              script_id=row.id))


def _query() -> Any:
    return (select(SharedScript, Feed).join(Feed, Feed.id == SharedScript.feed_id)
            .where(Feed.status != Status.GONE))


def coming(_viewer: Any, language: str, limit: int) -> list[Held]:
    """Every held script (of ``language`` if given), by group, language and title."""
    query = _query()
    if language:
        query = query.where(SharedScript.language == language)
    query = query.order_by(Feed.group_name, Feed.slug, SharedScript.language,
                           SharedScript.title_key).limit(max(0, limit))
    return [_held(row, feed) for row, feed in db.session.execute(query)]


def find(ref: str) -> Held | None:
    """The held script with this ref (its id), or None."""
    if not (ref.isascii() and ref.isdigit() and len(ref) < 10):
        return None
    found = db.session.execute(_query().where(SharedScript.id == int(ref))).first()
    return _held(*found) if found is not None else None


def of_feed(feed: Feed) -> list[SharedScript]:
    """A group's held scripts (its page on the hub)."""
    return list(db.session.scalars(
        select(SharedScript).where(SharedScript.feed_id == feed.id)
        .order_by(SharedScript.language, SharedScript.title_key)))


def get(feed: Feed, script_id: int) -> SharedScript | None:
    row = db.session.get(SharedScript, script_id)
    return row if row is not None and row.feed_id == feed.id else None

