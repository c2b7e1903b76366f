"""Readable URL parts made from names (base layer)."""

from __future__ import annotations

import re
import unicodedata


def slugify(text: str, fallback: str = "organisation", max_length: int = 60) -> str:
    """ASCII lower case words joined by dashes: "Café Ôde" -> "cafe-ode"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length] or fallback
