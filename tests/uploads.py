"""Uploads in tests: a multipart POST encoded in memory (the test client's own encoder
leaves a temporary file open for large bodies, which the strict warning filter reports)
and small images."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart


def post_multipart(client: Any, url: str, data: dict[str, Any]) -> Any:
    """POST ``data`` as a form with its CSRF token; ``(bytes, filename)`` values are
    files."""
    fields: dict[str, Any] = {"csrf_token": client.csrf_token()}
    for key, value in data.items():
        if isinstance(value, tuple):
            value = FileStorage(io.BytesIO(value[0]), filename=value[1])
        fields[key] = value
    stream, _length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return client.post(url, data=stream.getvalue(),
                       content_type=f"multipart/form-data; boundary={boundary}")


def png(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (300, 120)
        ) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()
