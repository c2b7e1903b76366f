"""Static files: a content hash in every URL and a one-year immutable cache."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

IMMUTABLE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def content_hash(app: Flask, filename: str) -> str | None:
    if app.static_folder is None:
        return None
    path = Path(app.static_folder) / filename
    try:
        stat = path.stat()
    except OSError:
        return None
    return _digest(str(path), stat.st_mtime_ns)


def init_app(app: Flask) -> None:
    @app.url_defaults
    def add_hash(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            digest = content_hash(app, values["filename"])
            if digest:
                values["v"] = digest

    @app.after_request
    def cache_static(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") and request.args.get("v") == content_hash(app, filename):
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers["Cache-Control"] = "public, max-age=300"
        if response.status_code == 200 and response.is_streamed:
            # Read the (small) file into memory and close it. Flask-Compress would otherwise
            # wrap the open file in a compressing generator and never close it (a leaked file
            # handle per request, a ResourceWarning under a real server), and could only use
            # streaming brotli/deflate instead of gzip.
            streamed = response.response
            response.direct_passthrough = False
            response.set_data(b"".join(response.iter_encoded()))
            close = getattr(streamed, "close", None)
            if close is not None:
                close()
        return response
