"""Kept for its callers: the language and time zone choice lives in lets_site/locale.py."""

from __future__ import annotations

from lets_site.locale import LANG_COOKIE, select_locale, select_timezone

__all__ = ["LANG_COOKIE", "select_locale", "select_timezone"]
