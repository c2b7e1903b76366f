"""The shared image pipeline (lets_site/photos.py) at its edges: the size limit to the
byte, what only looks like an image, metadata, the field a refusal belongs to, and the
response that serves a file to who may see it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from werkzeug.exceptions import NotFound

from lets_site import photos
from lets_site.domain import DomainError


@pytest.fixture(autouse=True)
def request_ctx(app: Any) -> Any:
    """Messages and responses need a request (its locale, its conditional headers)."""
    with app.test_request_context("/"):
        yield

STORE = photos.PhotoStore("test-pipeline", field="logo")


def jpeg_of_size(size: int) -> io.BytesIO:
    """A real JPEG padded after its end marker to exactly ``size`` bytes."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 90, 200)).save(out, "JPEG")
    data = out.getvalue()
    return io.BytesIO(data + b"\0" * (size - len(data)))


def test_an_upload_of_exactly_the_limit_is_accepted(app: Any) -> None:
    stored = STORE.store(jpeg_of_size(photos.MAX_UPLOAD_BYTES))
    assert (stored.width, stored.height) == (40, 30)
    assert (STORE.folder() / photos.file_name(stored.key)).is_file()


def test_one_byte_over_the_limit_is_refused_on_the_features_field(app: Any) -> None:
    with pytest.raises(DomainError) as info:
        STORE.store(jpeg_of_size(photos.MAX_UPLOAD_BYTES + 1))
    assert info.value.field == "logo"
    assert "10 MB" in str(info.value.message)
    assert list(STORE.folder().iterdir()) == []


@pytest.mark.parametrize("content", [
    b"<!doctype html><html><body><script>alert(1)</script></body></html>",
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    # The PNG signature, then HTML: an image's name and first bytes, no image.
    b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",
])
def test_a_png_that_is_really_html_or_svg_is_refused(app: Any, content: bytes) -> None:
    with pytest.raises(DomainError) as info:
        STORE.store(io.BytesIO(content))
    assert info.value.field == "logo"
    assert "not a photo" in str(info.value.message)
    assert list(STORE.folder().iterdir()) == []


def test_exif_and_gps_are_stripped_from_photo_and_thumbnail(app: Any) -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif[0x8825] = {2: (50.0, 51.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 60)).save(out, "JPEG", exif=exif.tobytes())
    original = out.getvalue()
    assert b"Exif" in original and b"SecretCam" in original
    stored = STORE.store(io.BytesIO(original))
    for thumb in (False, True):
        data = (STORE.folder() / photos.file_name(stored.key, thumb)).read_bytes()
        assert b"Exif" not in data and b"SecretCam" not in data
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif()


def test_stores_keep_their_files_apart(app: Any) -> None:
    other = photos.PhotoStore("test-pipeline-other")
    stored = STORE.store(jpeg_of_size(2000))
    name = photos.file_name(stored.key)
    assert STORE.path_for(name) is not None
    assert other.path_for(name) is None


def test_serve_answers_by_audience(app: Any) -> None:
    stored = STORE.store(jpeg_of_size(2000))
    name = photos.file_name(stored.key, thumb=True)
    public = STORE.serve(name, lambda key: photos.PUBLIC if key == stored.key else None)
    assert public.status_code == 200 and public.mimetype == "image/jpeg"
    assert public.headers["Cache-Control"] == photos.PUBLIC_CACHE
    members = STORE.serve(name, lambda key: photos.MEMBERS)
    assert members.headers["Cache-Control"] == photos.PRIVATE_CACHE
    with pytest.raises(NotFound):
        STORE.serve(name, lambda key: None)
    with pytest.raises(NotFound):
        STORE.serve("../" + name, lambda key: photos.PUBLIC)
