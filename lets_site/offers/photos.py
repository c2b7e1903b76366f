"""Listing photos: check that an upload really is an image, re-encode it without metadata,
make it small, and store it under ``instance/uploads/offers`` with a content hash as name.

Only JPEG, PNG, WebP and GIF are accepted, judged by what Pillow finds in the bytes, not
by the file name: SVG, HTML, PDF and files that are something else with an image name
are refused. Pillow's ``verify()`` checks the file, then a fresh open decodes it fully;
images over ``MAX_PIXELS`` (decompression bombs) are refused. The stored photo is a new
JPEG (so no EXIF, GPS or comments survive, and polyglot tails are gone) of at most
1024 px and 80 KB, plus a thumbnail of at most 8 KB.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from lets_site.domain import DomainError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
PHOTO_SIDE = 1024
PHOTO_BYTES = 80 * 1024
THUMB_SIDE = 240
THUMB_BYTES = 8 * 1024
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
NAME_RE = re.compile(r"^[0-9a-f]{32}(-t)?\.jpg$")

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class StoredPhoto:
    key: str
    width: int
    height: int
    thumb_width: int
    thumb_height: int


def folder() -> Path:
    path = Path(current_app.instance_path) / "uploads" / "offers"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_name(key: str, thumb: bool = False) -> str:
    return f"{key}-t.jpg" if thumb else f"{key}.jpg"


def key_of(name: str) -> str:
    """The photo key in a file name made by :func:`file_name`."""
    return name.removesuffix(".jpg").removesuffix("-t")


def _not_an_image() -> DomainError:
    return DomainError(
        _l("This file is not a photo we can use. Send a JPEG, PNG, WebP or GIF image."),
        field="photo",
    )


def _read_limited(stream: IO[bytes]) -> bytes:
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise DomainError(
            _l("This photo is larger than 10 MB. Choose a smaller photo or make it smaller "
               "first."),
            field="photo",
        )
    if not data:
        raise _not_an_image()
    return data


def _open_checked(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ALLOWED_FORMATS:
                    raise _not_an_image()
                probe.verify()
            image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise _not_an_image()
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DomainError(
                _l("This image has too many pixels. Send a photo of at most 40 megapixels."),
                field="photo",
            ) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
                EOFError) as exc:
            raise _not_an_image() from exc
    return image


def _flatten(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
    else:
        flat = image.convert("RGB")
    # Pillow carries comments, EXIF and ICC data along in ``info`` and writes them again.
    flat.info = {}
    return flat


def _encode(image: Image.Image, side: int, budget: int) -> tuple[bytes, int, int]:
    """A JPEG no wider or higher than ``side`` and no larger than ``budget`` bytes."""
    current = image.copy()
    current.info = {}
    current.thumbnail((side, side), Image.Resampling.LANCZOS)
    while True:
        for quality in (82, 72, 62, 52, 42, 32):
            out = io.BytesIO()
            current.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
            if out.tell() <= budget:
                return out.getvalue(), current.width, current.height
        width, height = current.size
        if width <= 16 or height <= 16:
            return out.getvalue(), current.width, current.height
        current = current.resize((max(1, int(width * 0.8)), max(1, int(height * 0.8))),
                                 Image.Resampling.LANCZOS)


def store(stream: IO[bytes]) -> StoredPhoto:
    """Check, shrink and save an uploaded photo. Raises DomainError(field="photo")."""
    data = _read_limited(stream)
    image = _open_checked(data)
    try:
        flat = _flatten(image)
    finally:
        image.close()
    photo, width, height = _encode(flat, PHOTO_SIDE, PHOTO_BYTES)
    thumb, t_width, t_height = _encode(flat, THUMB_SIDE, THUMB_BYTES)
    key = hashlib.sha256(photo).hexdigest()[:32]
    target = folder()
    (target / file_name(key)).write_bytes(photo)
    (target / file_name(key, thumb=True)).write_bytes(thumb)
    return StoredPhoto(key, width, height, t_width, t_height)


def path_for(name: str) -> Path | None:
    """The file for a URL name, or None if the name is not one we make."""
    if not NAME_RE.match(name):
        return None
    path = folder() / name
    return path if path.is_file() else None
