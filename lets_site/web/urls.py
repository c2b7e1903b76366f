"""Links that keep the current page's query (filters, search) with a few values changed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import current_app, has_request_context, request, url_for
from werkzeug.routing import IntegerConverter, Map

# The largest id a database key holds (a signed 32-bit integer, PostgreSQL's INTEGER).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: an id beyond what the database can hold does not match
    the route (404), instead of reaching a query that overflows."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def with_query(base: str, **changes: object) -> str:
    """``base`` with the current request's query string, ``changes`` applied (None removes a
    key). The query is copied as text, never passed to ``url_for`` as arguments, so names
    like ``endpoint`` or ``_external`` in a visitor's URL cannot change the link."""
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in changes]
    pairs += [(k, str(v)) for k, v in changes.items() if v is not None]
    query = urlencode(pairs)
    return f"{base}?{query}" if query else base


_URLS = "lets_url_cache"  # in app.extensions: {key: path}
URL_CACHE_SIZE = 4096


def cached_url_for(endpoint: str, **values: Any) -> str:
    """``url_for`` for a path on this site, built once per process: the same endpoint and
    values give the same path on every request with the same script root (building one
    costs tens of microseconds, and the layout alone asks for more than twenty). Anything
    else (options such as ``_external``, a blueprint-relative endpoint, values that cannot
    be a key, the debugger's reloading app) is built each time."""
    if (not has_request_context() or endpoint.startswith(".") or current_app.debug
            or any(name.startswith("_") for name in values)):
        return url_for(endpoint, **values)
    try:
        key = (request.script_root, endpoint, *sorted(values.items()))
        hash(key)
    except TypeError:
        return url_for(endpoint, **values)
    store: dict[tuple[Any, ...], str] = current_app.extensions.setdefault(_URLS, {})
    path = store.get(key)
    if path is None:
        path = url_for(endpoint, **values)
        if len(store) >= URL_CACHE_SIZE:
            store.clear()
        store[key] = path
    return path
