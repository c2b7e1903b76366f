"""The floor for the benchmark runner: a bare Flask application, none of the site's code,
that answers ``GET /<size>`` with a constant HTML page of exactly ``size`` bytes. Served by
gunicorn with the same settings as the site, it is what the same server and client can do
at most for a page of that size; every figure of ``python -m bench`` is a share of it.

    gunicorn "bench.floor:create_app()"
"""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, Response

MAX_SIZE = 4 * 1024 * 1024


@lru_cache(maxsize=64)
def _page(size: int) -> bytes:
    head = b"<!doctype html><title>floor</title><p>"
    return head + b"x" * max(0, size - len(head))


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/<int:size>")
    def page(size: int) -> Response:
        return Response(_page(min(size, MAX_SIZE)), content_type="text/html; charset=utf-8")

    return app
