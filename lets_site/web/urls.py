"""Links that keep the current page's query (filters, search) with a few values changed."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import request


def with_query(base: str, **changes: object) -> str:
    """``base`` with the current request's query string, ``changes`` applied (None removes a
    key). The query is copied as text, never passed to ``url_for`` as arguments, so names
    like ``endpoint`` or ``_external`` in a visitor's URL cannot change the link."""
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in changes]
    pairs += [(k, str(v)) for k, v in changes.items() if v is not None]
    query = urlencode(pairs)
    return f"{base}?{query}" if query else base
