"""The group's settings (one row edited by admins) and the one per-request cache for
settings of any feature.

:func:`cached` keeps a value for the current app context (one request, or one command)
and forgets it when the database session commits or rolls back, so a page that formats
many amounts reads the settings once, and nobody sees settings that a later transaction
changed. Features keep their own settings rows (the ledger's) and read them through
:func:`cached` too.

Base layer: imports no feature.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import g, has_app_context
from flask_babel import get_locale
from sqlalchemy import Integer, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db

T = TypeVar("T")
LANGUAGES = ("nl", "fr", "en")
SETTINGS_ID = 1
_CACHE = "lets_settings_cache"
_SITE_KEY = "site"


# --- The per-request cache -----------------------------------------------------------------


def cached(key: str, load: Callable[[], T]) -> T:
    """``load()`` once per app context (and transaction); outside one, every time."""
    if not has_app_context():
        return load()
    store: dict[str, Any] = g.setdefault(_CACHE, {})
    if key not in store:
        store[key] = load()
    return store[key]  # type: ignore[no-any-return]


def remember(key: str, value: Any) -> None:
    if has_app_context():
        g.setdefault(_CACHE, {})[key] = value


def forget(key: str | None = None) -> None:
    """Forget one cached value, or all of them."""
    if not has_app_context():
        return
    store = g.get(_CACHE)
    if store is None:
        return
    if key is None:
        store.clear()
    else:
        store.pop(key, None)


@event.listens_for(Session, "after_commit")
def _forget_after_commit(_session: Session) -> None:
    forget()


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(_session: Session, _previous: Any) -> None:
    forget()


# --- The group's settings ------------------------------------------------------------------


class SiteSettings(db.Model):
    """One row: the group's own settings, edited by admins."""

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_name: Mapped[str] = mapped_column(String(120), default="LETS")
    slug: Mapped[str] = mapped_column(String(40), default="lets")
    # Prefix of new account codes, e.g. "IE" gives IE-001.
    code_prefix: Mapped[str] = mapped_column(String(6), default="LE")
    locality: Mapped[str] = mapped_column(String(80), default="")
    region: Mapped[str] = mapped_column(String(80), default="")
    country: Mapped[str] = mapped_column(String(2), default="BE")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels")
    default_language: Mapped[str] = mapped_column(String(8), default="nl")
    # The group's own words, per language; an empty one falls back to the default
    # language's (see :meth:`text`). The unit has a singular and a plural ("1 uur",
    # "2 uren"): amounts are formatted with it by the ledger's ``format_units``.
    unit_singular_nl: Mapped[str] = mapped_column(String(40), default="uur")
    unit_plural_nl: Mapped[str] = mapped_column(String(40), default="uren")
    unit_singular_fr: Mapped[str] = mapped_column(String(40), default="heure")
    unit_plural_fr: Mapped[str] = mapped_column(String(40), default="heures")
    unit_singular_en: Mapped[str] = mapped_column(String(40), default="hour")
    unit_plural_en: Mapped[str] = mapped_column(String(40), default="hours")
    about_nl: Mapped[str] = mapped_column(Text, default="")
    about_fr: Mapped[str] = mapped_column(Text, default="")
    about_en: Mapped[str] = mapped_column(Text, default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def text(self, name: str, lang: str | None = None) -> str:
        """One of the group's texts (``unit_singular``, ``unit_plural``, ``about``) in
        ``lang`` (default: the reader's language); when that one is empty, the group's
        default language's, then any language's that is filled in."""
        lang = lang or reader_language()
        order = [lang, self.default_language, *LANGUAGES]
        for code in order:
            if code in LANGUAGES:
                value = getattr(self, f"{name}_{code}", "") or ""
                if value.strip():
                    return value
        return ""

    def unit(self, plural: bool = True, lang: str | None = None) -> str:
        """The unit's name in the reader's language: "uren", "heure", "hours"."""
        return self.text("unit_plural" if plural else "unit_singular", lang)

    @property
    def unit_name(self) -> str:
        """The unit's plural in the reader's language ("in uren, niet in euro")."""
        return self.unit(plural=True)

    @property
    def about(self) -> str:
        """The "about the group" text in the reader's language (Markdown)."""
        return self.text("about")


def _load_site_settings() -> SiteSettings:
    settings = db.session.get(SiteSettings, SETTINGS_ID)
    if settings is None:
        settings = SiteSettings(
            id=SETTINGS_ID,
            group_name="LETS",
            slug="lets",
            code_prefix="LE",
            locality="",
            region="",
            country="BE",
            timezone="Europe/Brussels",
            default_language="nl",
            unit_singular_nl="uur", unit_plural_nl="uren",
            unit_singular_fr="heure", unit_plural_fr="heures",
            unit_singular_en="hour", unit_plural_en="hours",
            about_nl="", about_fr="", about_en="",
            contact_email="",
        )
    return settings


def get_settings() -> SiteSettings:
    """The group's settings; unsaved defaults when an admin has not saved any yet. Read once
    per request (or command): every page asks several times (layout, language, time zone)."""
    return cached(_SITE_KEY, _load_site_settings)


def remember_settings(settings: SiteSettings) -> None:
    """After the site feature changed them (the rest of the request sees the new row)."""
    remember(_SITE_KEY, settings)


def reader_language() -> str:
    """The language the current page (or mail, or command) is written in: the one
    Flask-Babel chose (lets_site/locale.py); outside an app, the group's."""
    locale = get_locale() if has_app_context() else None
    if locale is not None and locale.language in LANGUAGES:
        return str(locale.language)
    default = get_settings().default_language if has_app_context() else "nl"
    return default if default in LANGUAGES else "nl"


def zone() -> ZoneInfo:
    try:
        return ZoneInfo(get_settings().timezone)
    except (KeyError, ValueError):
        return ZoneInfo("Europe/Brussels")
