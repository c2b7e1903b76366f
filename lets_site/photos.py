"""The safe image pipeline every feature uses (listing photos, partner logos, book covers):
check that an upload really is an image, re-encode it without metadata, make it small,
store it under ``instance/uploads/<store>`` with a content hash as name, and serve it only
to who may see it.

Only JPEG, PNG, WebP and GIF are accepted, judged by what Pillow finds in the bytes, not
by the file name: SVG, HTML, PDF and files that are something else with an image name
are refused. Pillow's ``verify()`` checks the file, then a fresh open decodes it fully;
images over ``MAX_PIXELS`` (decompression bombs) are refused. The stored photo is a new
JPEG (so no EXIF, GPS or comments survive, and polyglot tails are gone) of at most
1024 px and 80 KB, plus a thumbnail of at most 8 KB.

A feature makes one :class:`PhotoStore` (its folder and the form field its refusals belong
to) and serves its files with :meth:`PhotoStore.serve`, giving it the question only the
feature can answer: who may see the image with this key. This module is part of the base
layer: it imports no feature.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from flask import Response, abort, current_app, request
from flask_babel import lazy_gettext as _l

from lets_site.domain import DomainError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
PHOTO_SIDE = 1024
PHOTO_BYTES = 80 * 1024
THUMB_SIDE = 240
THUMB_BYTES = 8 * 1024
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
NAME_RE = re.compile(r"^[0-9a-f]{32}(-t)?\.jpg$")
# Not immutable: an image stops being public when what shows it is withdrawn or made
# members-only, so shared caches keep it a few minutes at most and then ask again (a cheap
# 304 by its ETag); a members-only image is cached by the member's browser alone.
PUBLIC_CACHE = "public, max-age=300, must-revalidate"
PRIVATE_CACHE = "private, max-age=3600, must-revalidate"
PUBLIC = "public"
MEMBERS = "members"

if TYPE_CHECKING:
    from PIL import Image


def _pil() -> None:
    """Pillow is imported by the first upload, not at start (most requests show no new
    image): a worker starts faster and smaller."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class StoredPhoto:
    key: str
    width: int
    height: int
    thumb_width: int
    thumb_height: int


def file_name(key: str, thumb: bool = False) -> str:
    return f"{key}-t.jpg" if thumb else f"{key}.jpg"


def key_of(name: str) -> str:
    """The photo key in a file name made by :func:`file_name`."""
    return name.removesuffix(".jpg").removesuffix("-t")


def _not_an_image(field: str) -> DomainError:
    return DomainError(
        _l("This file is not a photo we can use. Send a JPEG, PNG, WebP or GIF image."),
        field=field,
    )


def _read_limited(stream: IO[bytes], field: str) -> bytes:
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise DomainError(
            _l("This photo is larger than 10 MB. Choose a smaller photo or make it smaller "
               "first."),
            field=field,
        )
    if not data:
        raise _not_an_image(field)
    return data


def _open_checked(data: bytes, field: str) -> Image.Image:
    _pil()
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ALLOWED_FORMATS:
                    raise _not_an_image(field)
                probe.verify()
            image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise _not_an_image(field)
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DomainError(
                _l("This image has too many pixels. Send a photo of at most 40 megapixels."),
                field=field,
            ) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
                EOFError) as exc:
            raise _not_an_image(field) from exc
    return image


def _flatten(image: Image.Image) -> Image.Image:
    from PIL import Image, ImageOps

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
    from PIL import Image

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


@dataclass(frozen=True)
class PhotoStore:
    """One feature's images: the folder under ``instance/uploads`` and the form field a
    refusal is shown on."""

    name: str
    field: str = "photo"

    def folder(self) -> Path:
        path = Path(current_app.instance_path) / "uploads" / self.name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def store(self, stream: IO[bytes]) -> StoredPhoto:
        """Check, shrink and save an uploaded image. Raises DomainError on ``field``."""
        data = _read_limited(stream, self.field)
        image = _open_checked(data, self.field)
        try:
            flat = _flatten(image)
        finally:
            image.close()
        photo, width, height = _encode(flat, PHOTO_SIDE, PHOTO_BYTES)
        thumb, t_width, t_height = _encode(flat, THUMB_SIDE, THUMB_BYTES)
        key = hashlib.sha256(photo).hexdigest()[:32]
        target = self.folder()
        (target / file_name(key)).write_bytes(photo)
        (target / file_name(key, thumb=True)).write_bytes(thumb)
        return StoredPhoto(key, width, height, t_width, t_height)

    def path_for(self, name: str) -> Path | None:
        """The file for a URL name, or None if the name is not one we make."""
        if not NAME_RE.match(name):
            return None
        path = self.folder() / name
        return path if path.is_file() else None

    def serve(self, name: str, audience: Callable[[str], str | None]) -> Response:
        """The response for ``GET .../<name>``: 404 unless the file exists and
        ``audience(key)`` says who may see it (``PUBLIC``, ``MEMBERS`` for the viewer, or
        None: nobody here, a 404 so a private image's existence does not show). The name
        holds a hash of the content, so its ETag never changes."""
        path = self.path_for(name)
        if path is None:
            abort(404)
        who = audience(key_of(name))
        if who is None:
            abort(404)
        # At most 80 KB: read whole, so no file handle outlives the request.
        response = Response(path.read_bytes(), mimetype="image/jpeg")
        response.headers["Cache-Control"] = PUBLIC_CACHE if who == PUBLIC else PRIVATE_CACHE
        response.set_etag(name.split(".")[0])
        return response.make_conditional(request)
