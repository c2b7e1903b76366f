"""Links that keep the current page's query (filters, search) with a few values changed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import request
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
