"""The group's settings row lives in the base layer (``lets_site/settings.py``), where every
feature can read it; this name is kept for its callers."""

from __future__ import annotations

from lets_site.settings import SiteSettings

__all__ = ["SiteSettings"]
