from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from lets_site.domain import DomainError
from lets_site.offers import photos

pytestmark = pytest.mark.usefixtures("request_ctx")


def encoded(image: Image.Image, fmt: str, **options: Any) -> io.BytesIO:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    out.seek(0)
    return out


def stored_bytes(key: str, thumb: bool = False) -> bytes:
    return (photos.folder() / photos.file_name(key, thumb)).read_bytes()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_store_accepts_the_four_formats(app: Any, fmt: str) -> None:
    image = Image.effect_noise((300, 200), 50).convert("RGB")
    stored = photos.store(encoded(image, fmt))
    assert (stored.width, stored.height) == (300, 200)
    assert stored_bytes(stored.key).startswith(b"\xff\xd8")  # always a new JPEG


def test_store_resizes_and_fits_budgets(app: Any) -> None:
    image = Image.effect_noise((3000, 2000), 90).convert("RGB")
    stored = photos.store(encoded(image, "JPEG", quality=95))
    assert max(stored.width, stored.height) <= 1024
    assert len(stored_bytes(stored.key)) <= 80 * 1024
    assert max(stored.thumb_width, stored.thumb_height) <= 240
    assert len(stored_bytes(stored.key, thumb=True)) <= 8 * 1024


def test_store_strips_metadata(app: Any) -> None:
    image = Image.new("RGB", (200, 100), (10, 120, 60))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (50.0, 51.0, 0.0)}  # GPS latitude
    stored = photos.store(encoded(image, "JPEG", exif=exif.tobytes(), comment=b"hidden note"))
    data = stored_bytes(stored.key)
    assert b"SecretCam" not in data and b"hidden note" not in data and b"Exif" not in data


def test_store_turns_upright_by_exif_orientation(app: Any) -> None:
    image = Image.new("RGB", (200, 100), (200, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: shown as 100 x 200
    stored = photos.store(encoded(image, "JPEG", exif=exif.tobytes()))
    assert (stored.width, stored.height) == (100, 200)


def test_polyglot_tail_does_not_survive(app: Any) -> None:
    gif = encoded(Image.new("P", (20, 20)), "GIF").getvalue()
    polyglot = gif + b"<html><script>alert(document.cookie)</script></html>"
    stored = photos.store(io.BytesIO(polyglot))
    assert b"<script" not in stored_bytes(stored.key)


@pytest.mark.parametrize("content", [
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    b"<!doctype html><html><script>alert(1)</script></html>",
    b"%PDF-1.4\n1 0 obj\n",
    b"",
    b"GIF89a" + b"\x00" * 20,
])
def test_store_refuses_what_is_not_an_image(app: Any, content: bytes) -> None:
    with pytest.raises(DomainError) as info:
        photos.store(io.BytesIO(content))
    assert info.value.field == "photo"
    assert list(Path(photos.folder()).iterdir()) == []


def test_store_refuses_decompression_bomb(app: Any) -> None:
    # 9000 x 9000 = 81 million pixels, a few kilobytes on disk.
    bomb = encoded(Image.new("1", (9000, 9000)), "PNG")
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(DomainError) as info:
        photos.store(bomb)
    assert "too many pixels" in str(info.value.message)


def test_store_refuses_more_than_ten_megabytes(app: Any) -> None:
    with pytest.raises(DomainError) as info:
        photos.store(io.BytesIO(b"\xff" * (10 * 1024 * 1024 + 1)))
    assert "10 MB" in str(info.value.message)


def test_a_members_only_listings_photo_is_for_members_only(
    client: Any, login_as: Any, people: dict[str, Any]
) -> None:
    from lets_site.extensions import db
    from lets_site.offers.models import ListingVisibility
    from tests.offers.conftest import make_listing

    stored = photos.store(encoded(Image.new("RGB", (120, 80), (200, 30, 30)), "PNG"))
    listing = make_listing(people["member"], "Naaiwerk", visibility=ListingVisibility.MEMBERS,
                           photo_key=stored.key, photo_width=stored.width,
                           photo_height=stored.height)
    url = f"/offers/photos/{photos.file_name(stored.key)}"
    thumb = f"/offers/photos/{photos.file_name(stored.key, thumb=True)}"
    assert client.get(url).status_code == 404
    assert client.get(thumb).status_code == 404
    login_as("other_org_member")
    response = client.get(url)
    assert response.status_code == 200 and response.data.startswith(b"\xff\xd8")
    assert response.headers["Cache-Control"].startswith("private")
    listing.visibility = ListingVisibility.PUBLIC
    db.session.commit()
    client.post_form("/logout")
    public = client.get(url)
    assert public.status_code == 200 and public.headers["Cache-Control"].startswith("public")
