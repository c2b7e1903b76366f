"""Checks on the raw request before anything else reads it (WSGI middleware).

- **Host.** A request for a host that is not in ``TRUSTED_HOSTS`` (by its Host header, or
  by X-Forwarded-Host when ``PROXY_COUNT`` > 0: the middleware sits inside ProxyFix) is
  refused with 400. Links in mails never come from the request anyway (``mail.external_url``
  uses ``BASE_URL``); this keeps the site from answering under a name it does not own.
- **Cookies.** A cookie whose bytes are not UTF-8 (another site on the same domain can set
  one) is dropped before Werkzeug's cookie parser, which would raise on it.
- **Path and query.** NUL and other control characters (C0, DEL, C1) in the path, or in the
  decoded query (TAB, LF and CR allowed there), and percent-escapes that are not UTF-8,
  are refused with 400: no view, search or database sees them.

A refused request is answered by the Flask app itself (the usual error page, in the
visitor's language) with a harmless path, query and host, so the error page can build its
links; it never reaches the page cache.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, Response
from flask_babel import lazy_gettext as _l
from werkzeug.sansio.utils import host_is_trusted

BAD_REQUEST = "lets.bad_request"

# Control characters: C0, DEL and C1.
_PATH_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# In a decoded query value TAB, LF and CR may be meant (a multi-line prefill).
_QUERY_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

HOST_MESSAGE = _l("This site does not answer to that address.")
INPUT_MESSAGE = _l("The address contains characters that are not allowed.")


def _utf8(raw: str) -> str | None:
    """A WSGI string (bytes as latin-1) decoded as UTF-8, or None when it is not UTF-8."""
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def clean_cookie_header(raw: str) -> str:
    """The Cookie header without the pairs that are not UTF-8 or hold control characters."""
    kept = []
    for part in raw.split(";"):
        text = _utf8(part)
        if text is not None and not _PATH_BAD.search(text):
            kept.append(part.strip())
    return "; ".join(p for p in kept if p)


def path_problem(path_info: str) -> bool:
    text = _utf8(path_info)
    return text is None or bool(_PATH_BAD.search(text))


def query_problem(query: str) -> bool:
    text = _utf8(query)  # the raw query should be ASCII; a browser escapes the rest
    if text is None or _PATH_BAD.search(text):
        return True
    for part in query.replace(";", "&").split("&"):
        try:
            decoded = unquote_to_bytes(part.replace("+", " ")).decode("utf-8")
        except UnicodeDecodeError:
            return True
        if _QUERY_BAD.search(decoded):
            return True
    return False


class RequestGuard:
    """The middleware: ``wsgi_app`` is what it protects (the page cache and the app),
    ``flask_app`` the bare Flask app that renders a refusal."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]],
                 flask_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app

    def _host(self, environ: dict[str, Any]) -> str:
        host = environ.get("HTTP_HOST")
        if host:
            return str(host)
        name, port = environ.get("SERVER_NAME", ""), environ.get("SERVER_PORT", "")
        return f"{name}:{port}" if port else str(name)

    def problem(self, environ: dict[str, Any]) -> str | None:
        trusted = self.app.config.get("TRUSTED_HOSTS")
        if trusted is not None and not host_is_trusted(self._host(environ), trusted):
            return "host"
        if path_problem(environ.get("PATH_INFO", "")) or query_problem(
            environ.get("QUERY_STRING", "")
        ):
            return "input"
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        cookie = environ.get("HTTP_COOKIE")
        if cookie:
            environ["HTTP_COOKIE"] = clean_cookie_header(cookie)
        problem = self.problem(environ)
        if problem is None:
            return self.wsgi_app(environ, start_response)
        environ[BAD_REQUEST] = problem
        environ["PATH_INFO"] = "/"
        environ["QUERY_STRING"] = ""
        trusted = self.app.config.get("TRUSTED_HOSTS")
        if problem == "host" and trusted:
            # A name the app may build its error page's links with (a leading dot
            # stands for subdomains: the bare name is one of them).
            environ["HTTP_HOST"] = trusted[0].lstrip(".")
        return self.flask_app(environ, start_response)


def _refuse() -> Response | None:
    from flask import request

    from lets_site.web.errors import render_error

    problem = request.environ.get(BAD_REQUEST)
    if problem is None:
        return None
    return render_error(400, HOST_MESSAGE if problem == "host" else INPUT_MESSAGE)


def init_app(app: Flask) -> None:
    """Wrap ``app.wsgi_app`` (call after the page cache, before ProxyFix)."""
    app.wsgi_app = RequestGuard(  # type: ignore[method-assign]
        app, app.wsgi_app, app.extensions["page_cache"].wsgi_app
    )
    # First of all before_request functions: nothing else looks at a refused request.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse)
