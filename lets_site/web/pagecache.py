"""Anonymous full-page cache: pages for visitors who are not logged in, kept in memory.

A WSGI middleware around ``app.wsgi_app`` answers a hit without entering Flask. Only these
requests take part: GET or HEAD, no cookie but ``lang`` (so no session, no "remember me"),
no Authorization header. A response is stored only when it is a 200 ``text/html`` page
without ``Set-Cookie`` that the app marked storable in ``after_request``: nobody logged in,
session untouched, no flashed message, no CSRF token generated (forms), and the view did not
opt out with :func:`no_page_cache`. The stored bytes are final (compressed, with ETag).

Key: host, path and query string, language (the ``lang`` cookie, else the Accept-Language
best match, as ``lets_site/locale.py`` chooses for anonymous visitors), the htmx headers and the
content encoding Flask-Compress will choose.

Freshness: every database commit that wrote something replaces the file
``instance/page-cache-generation``; each request compares that file's inode and mtime (one
``os.stat``) and empties the cache when it changed, so every process (gunicorn worker)
sees a change at once. Entries also expire after ``PAGE_CACHE_SECONDS`` (pages that change
with time: listings expire); 0 turns the cache off. Memory is bounded by
``PAGE_CACHE_MAX_ENTRIES`` and ``PAGE_CACHE_MAX_BYTES`` (least recently used goes first).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, has_app_context, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie, parse_etags

from lets_site.extensions import compress

try:  # the exact choice Flask-Compress makes; else the raw header is part of the key
    from flask_compress.flask_compress import _choose_algorithm
except ImportError:  # pragma: no cover
    _choose_algorithm = None

log = logging.getLogger(__name__)

GENERATION_FILE = "page-cache-generation"
ALLOWED_COOKIES = frozenset({"lang"})
HTMX_HEADERS = ("HTTP_HX_REQUEST", "HTTP_HX_BOOSTED", "HTTP_HX_HISTORY_RESTORE_REQUEST")
STORABLE_TYPES = ("text/html",)
_KEY = "lets.page_cache.key"
_STORABLE = "lets.page_cache.storable"
_WROTE = "lets_page_cache_wrote"
# Headers a 304 repeats (RFC 9110 15.4.5), and the security headers (web/security.py) that
# every response of the app carries, as the app's own 304 does.
_NOT_MODIFIED_HEADERS = {"cache-control", "content-location", "date", "etag", "expires", "vary",
                         "content-security-policy", "x-content-type-options", "x-frame-options",
                         "referrer-policy", "permissions-policy", "cross-origin-opener-policy"}


def _now() -> float:
    return time.monotonic()


def no_page_cache(view: Callable[..., Any]) -> Callable[..., Any]:
    """Never store this view's page (e.g. it shows something per visitor without a session)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.no_page_cache = True
        return view(*args, **kwargs)

    return wrapper


@dataclass
class _Entry:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str | None
    stored_at: float


class PageCache:
    """The WSGI middleware and its per-process store."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.generation_path = Path(app.instance_path) / GENERATION_FILE
        self._entries: OrderedDict[tuple[str, ...], _Entry] = OrderedDict()
        self._bytes = 0
        self._generation: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self.hits = 0

    # --- the store ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _current_generation(self) -> tuple[int, int]:
        return read_generation(self.generation_path)

    def _sync_generation(self) -> tuple[int, int]:
        generation = self._current_generation()
        if generation != self._generation:
            with self._lock:
                self._entries.clear()
                self._bytes = 0
                self._generation = generation
        return generation

    def _get(self, key: tuple[str, ...], max_age: float) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if _now() - entry.stored_at >= max_age:
                del self._entries[key]
                self._bytes -= len(entry.body)
                return None
            self._entries.move_to_end(key)
            return entry

    def _put(self, key: tuple[str, ...], entry: _Entry, generation: tuple[int, int]) -> None:
        config = self.app.config
        max_entries = int(config.get("PAGE_CACHE_MAX_ENTRIES", 500))
        max_bytes = int(config.get("PAGE_CACHE_MAX_BYTES", 16 * 1024 * 1024))
        if len(entry.body) > max_bytes // 4:
            return
        with self._lock:
            # A commit since this request began: its page may be stale, do not keep it.
            if generation != self._generation:
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = entry
            self._bytes += len(entry.body)
            while self._entries and (len(self._entries) > max_entries
                                     or self._bytes > max_bytes):
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)

    # --- the middleware ----------------------------------------------------------------

    def key(self, environ: dict[str, Any]) -> tuple[str, ...] | None:
        """The cache key, or None when this request must not touch the cache."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        if environ.get("HTTP_AUTHORIZATION"):
            return None
        cookies = parse_cookie(environ)
        if any(name not in ALLOWED_COOKIES for name in cookies):
            return None
        languages = tuple(self.app.config["LANGUAGES"])
        lang = cookies.get("lang")
        if lang not in languages:
            accept = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
            lang = accept.best_match(languages) or ""  # "": the group's default language
        accept_encoding = environ.get("HTTP_ACCEPT_ENCODING", "")
        if _choose_algorithm is not None:
            encoding = _choose_algorithm(compress.enabled_algorithms, accept_encoding) or ""
        else:  # pragma: no cover
            encoding = accept_encoding
        return (
            environ.get("wsgi.url_scheme", ""),
            environ.get("HTTP_HOST", ""),
            environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            lang,
            encoding,
            *(environ.get(name, "") for name in HTMX_HEADERS),
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        max_age = float(self.app.config.get("PAGE_CACHE_SECONDS") or 0)
        key = self.key(environ) if max_age > 0 else None
        if key is None:
            return self.wsgi_app(environ, start_response)

        generation = self._sync_generation()
        entry = self._get(key, max_age)
        if entry is not None:
            self.hits += 1
            return self._answer(environ, start_response, entry)

        environ[_KEY] = key
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = status
            captured["headers"] = headers
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, capture)
        if not (
            environ["REQUEST_METHOD"] == "GET"
            and environ.get(_STORABLE)
            and captured.get("status", "").startswith("200 ")
            and _storable_headers(captured["headers"])
        ):
            return body
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        headers = list(captured["headers"])
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        self._put(key, _Entry(captured["status"], headers, data, etag, _now()), generation)
        return [data]

    def _answer(self, environ: dict[str, Any], start_response: Callable[..., Any],
                entry: _Entry) -> list[bytes]:
        if entry.etag and environ.get("HTTP_IF_NONE_MATCH"):
            etags = parse_etags(environ["HTTP_IF_NONE_MATCH"])
            if etags.contains_weak(entry.etag.removeprefix("W/").strip('"')):
                headers = [(k, v) for k, v in entry.headers
                           if k.lower() in _NOT_MODIFIED_HEADERS]
                start_response("304 Not Modified", headers)
                return []
        start_response(entry.status, list(entry.headers))
        if environ["REQUEST_METHOD"] == "HEAD":
            return []
        return [entry.body]


def _storable_headers(headers: list[tuple[str, str]]) -> bool:
    content_type = ""
    for name, value in headers:
        lower = name.lower()
        if lower == "set-cookie":
            return False
        if lower == "content-type":
            content_type = value.split(";")[0].strip().lower()
    return content_type in STORABLE_TYPES


def _mark_storable(response: Response) -> Response:
    """after_request: may this page be shared with every anonymous visitor?"""
    from flask import request

    if _KEY not in request.environ:
        return response
    if (
        g.get("no_page_cache")
        or "csrf_token" in g  # a form: the token belongs to one visitor
        or session.modified
        or "_flashes" in session
        or current_user.is_authenticated
    ):
        return response
    request.environ[_STORABLE] = True
    return response


# --- invalidation: a commit that wrote something bumps the generation ----------------------


def read_generation(path: str | Path) -> tuple[int, int]:
    """The generation file's identity (inode, mtime): it changes with every commit that
    wrote, in any process. The per-process caches of ``lets_site/settings.py`` use it too."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (0, 0)
    return (st.st_ino, st.st_mtime_ns)


def session_wrote(session: Session) -> bool:
    """Has this session written something its transaction has not committed yet?"""
    return bool(session.info.get(_WROTE))


def bump_generation(instance_path: str | Path) -> None:
    """Replace the generation file (new inode and mtime): every process drops its pages.

    The new file is written under a temporary name first; if that fails (a full disk) the
    temporary file is removed again. One left by a killed process is removed at the next
    start (:func:`remove_stray_generation_files`)."""
    path = Path(instance_path) / GENERATION_FILE
    tmp = path.with_name(f"{GENERATION_FILE}.{os.getpid()}.{threading.get_ident()}")
    try:
        tmp.write_text(f"{time.time_ns()}\n")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


STRAY_AGE_SECONDS = 60


def remove_stray_generation_files(instance_path: str | Path) -> int:
    """Remove temporary generation files a killed process left behind (older than a minute,
    so a bump in progress in another process is never disturbed). Returns how many."""
    removed = 0
    cutoff = time.time() - STRAY_AGE_SECONDS
    for stray in Path(instance_path).glob(f"{GENERATION_FILE}.*"):
        try:
            if stray.stat().st_mtime < cutoff:
                stray.unlink()
                removed += 1
        except OSError:
            continue
    return removed


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, flush_context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_execute(state: Any) -> None:
    if not state.is_select:  # bulk UPDATE/DELETE/INSERT, or raw SQL: assume it wrote
        state.session.info[_WROTE] = True


def changes_no_page(session: Session) -> None:
    """What this transaction wrote so far shows on no page (the federation sweep's lease
    on a feed, a fetch answered 304): its commit leaves the cached pages alone."""
    session.info.pop(_WROTE, None)


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    if session.info.pop(_WROTE, False) and has_app_context():
        try:
            bump_generation(current_app.instance_path)
        except OSError:
            # The change is saved; cached pages now live out PAGE_CACHE_SECONDS at most.
            log.exception("could not bump the page cache generation")


def init_app(app: Flask) -> None:
    remove_stray_generation_files(app.instance_path)
    cache = PageCache(app, app.wsgi_app)
    app.wsgi_app = cache  # type: ignore[method-assign]
    app.extensions["page_cache"] = cache
    app.after_request(_mark_storable)
