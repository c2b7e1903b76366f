"""The session cookie and the page's CSRF token, worked out once per process, not once per
request.

Every logged-in request opens the session cookie (base64, zlib, an HMAC with a key derived
again each time, JSON), and every page with a form or the log-out button signs the
session's CSRF token (Flask-WTF: an HMAC and a timestamp on each request). For the same
cookie and the same session that is the same work again, so each worker keeps the results
(bounded, least recently used first):

- **Verified session cookies.** A cookie value whose signature was checked once is kept
  with its timestamp; the same value again is decoded without checking the signature
  again, and is still refused past ``PERMANENT_SESSION_LIFETIME`` exactly as Flask refuses
  it. Any other value (a changed session, a forged one) is checked as before; nothing is
  kept for a cookie that fails.
- **The signed CSRF token.** The session's raw token (``session["csrf_token"]``) is signed
  once and the signed token reused by the same worker for :func:`reuse_seconds` (at most
  half an hour and a sixteenth of ``WTF_CSRF_TIME_LIMIT``), so a page's token is still
  valid for at least 15/16 of that limit. The protection is Flask-WTF's, unchanged: the raw
  token lives in the session, every POST is verified against the session's raw token (the
  signature and the age), and a new session (log-in, a new password: ``session.clear()``)
  gets a new raw token, hence a new signed token.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask, Request, Response, current_app, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadData, BadSignature
from itsdangerous.encoding import base64_decode, bytes_to_int

COOKIES_KEPT = 2048
TOKENS_KEPT = 2048
_TOKENS = "lets.csrf_tokens"


def _now() -> float:
    return time.time()


class _Kept:
    """A bounded least-recently-used store, safe across threads."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.values: OrderedDict[str, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self.lock:
            value = self.values.get(key)
            if value is not None:
                self.values.move_to_end(key)
            return value

    def put(self, key: str, value: Any) -> None:
        with self.lock:
            self.values[key] = value
            self.values.move_to_end(key)
            while len(self.values) > self.entries:
                self.values.popitem(last=False)


class KeptSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session; a cookie value verified once is not verified again
    by this process (its age still is)."""

    def __init__(self, entries: int = COOKIES_KEPT) -> None:
        self.verified = _Kept(entries)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        signed_at = self.verified.get(value)
        if signed_at is not None and 0 <= _now() - signed_at <= max_age:
            payload = value.rsplit(".", 2)[0]  # the signer's "payload.timestamp.signature"
            return self.session_class(serializer.load_payload(payload.encode()))
        try:
            data, timestamp = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        self.verified.put(value, timestamp.timestamp())
        return self.session_class(data)


def reuse_seconds(app: Flask) -> float:
    """How long a worker reuses a signed CSRF token: a sixteenth of the token's lifetime,
    at most half an hour."""
    limit = app.config.get("WTF_CSRF_TIME_LIMIT")
    return 1800.0 if not limit else min(1800.0, int(limit) / 16)


def _field(app: Flask) -> str:
    return str(app.config.get("WTF_CSRF_FIELD_NAME") or "csrf_token")


def _has_session_cookie(app: Flask) -> bool:
    return bool(request.cookies.get(app.config["SESSION_COOKIE_NAME"]))


def _reuse_signed_token() -> None:
    """Before the view: this session's signed token, if this worker signed it lately, is
    the one Flask-WTF hands out for this request (it keeps its token in ``g``)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not _has_session_cookie(app):
        return  # no session yet: no raw token to reuse
    field = _field(app)
    raw = session.get(field)
    if not isinstance(raw, str):
        return
    kept = app.extensions[_TOKENS].get(raw)
    if kept is not None and _now() - kept[1] < reuse_seconds(app):
        setattr(g, field, kept[0])


def _keep_signed_token(response: Response) -> Response:
    """After the view: keep the token Flask-WTF signed for this request, when it is the
    signature of the raw token the session holds now."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    field = _field(app)
    signed = g.get(field)
    if not isinstance(signed, str):
        return response
    raw = session.get(field)
    if not isinstance(raw, str):
        return response
    store: _Kept = app.extensions[_TOKENS]
    kept = store.get(raw)
    if kept is not None and kept[0] == signed:
        return response
    made = _signed_token_parts(signed)
    if made is not None and made[0] == raw:
        store.put(raw, (signed, made[1]))
    return response


def _signed_token_parts(signed: str) -> tuple[Any, int] | None:
    """The raw token and the signing time in a signed token ("payload.timestamp.sig")."""
    try:
        payload, timestamp, _signature = signed.split(".")
        return json.loads(base64_decode(payload)), bytes_to_int(base64_decode(timestamp))
    except (ValueError, TypeError, BadData):
        return None


def init_app(app: Flask) -> None:
    app.session_interface = KeptSessionInterface()
    app.extensions[_TOKENS] = _Kept(TOKENS_KEPT)
    app.before_request(_reuse_signed_token)
    app.after_request(_keep_signed_token)
