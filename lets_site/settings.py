"""The group's settings (one row edited by admins) and the one per-request cache for
settings of any feature.

:func:`cached` keeps a value for the current app context (one request, or one command)
and forgets it when the database session commits or rolls back, so a page that formats
many amounts reads the settings once, and nobody sees settings that a later transaction
changed. Features keep their own settings rows (the ledger's) and read them through
:func:`cached` too.

:func:`shared` keeps a value for the whole process (each gunicorn worker) until any
process commits a write: the anonymous page cache's generation file
(``lets_site/web/pagecache.py``) changes with every such commit, and each request looks at
it once (one ``os.stat``). So the settings and the category tree, which every page reads
and an admin rarely changes, cost no query, and an admin's change in one worker is seen by
every worker on its next request. Values kept this way are copies attached to no database
session (:func:`detached_copy`): read them, never change or add them.

Base layer: imports no feature.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import current_app, g, has_app_context
from flask_babel import get_locale
from sqlalchemy import Integer, String, Text, event, inspect
from sqlalchemy.orm import Mapped, Session, make_transient_to_detached, mapped_column

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db
from lets_site.web.pagecache import GENERATION_FILE, read_generation, session_wrote

T = TypeVar("T")
LANGUAGES = ("nl", "fr", "en")
SETTINGS_ID = 1
_CACHE = "lets_settings_cache"
_SITE_KEY = "site"
_SHARED = "lets_shared_cache"  # in app.extensions: the per-process store
_GENERATION_KEY = "lets.generation"  # in the per-request cache: the generation seen


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


# --- The per-process cache -----------------------------------------------------------------


class _SharedStore:
    def __init__(self) -> None:
        self.generation: tuple[int, int] | None = None
        self.values: dict[str, Any] = {}
        self.lock = threading.Lock()


def shared(key: str, load: Callable[[], T]) -> T:
    """``load()`` once per process until a commit that wrote (in any process) changes the
    page cache's generation; within a request, :func:`cached`. ``load`` must return values
    attached to no session (:func:`detached_copy`). A value read while this request's own
    transaction holds writes not committed yet is used for this request only."""
    if not has_app_context():
        return load()
    return cached(key, lambda: _shared_value(key, load))


def _shared_value(key: str, load: Callable[[], T]) -> T:
    session = db.session()
    if session_wrote(session) or session.new or session.dirty or session.deleted:
        return load()  # this transaction's own changes: for this request only
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    store: _SharedStore = app.extensions.setdefault(_SHARED, _SharedStore())
    # Read before loading: a value loaded after a commit elsewhere is at worst loaded again.
    generation: tuple[int, int] = cached(
        _GENERATION_KEY, lambda: read_generation(Path(app.instance_path) / GENERATION_FILE))
    with store.lock:
        if store.generation != generation:
            store.values.clear()
            store.generation = generation
        if key in store.values:
            return store.values[key]  # type: ignore[no-any-return]
    value = load()
    if not session_wrote(session):
        with store.lock:
            if store.generation == generation:
                store.values[key] = value
    return value


def forget_shared() -> None:
    """Empty this process's shared values (the next reads load them again)."""
    if has_app_context():
        store = current_app.extensions.get(_SHARED)
        if store is not None:
            with store.lock:
                store.values.clear()


def detached_copy(obj: T) -> T:
    """A copy of a loaded row's columns in a new object that belongs to no session, so it
    outlives the request that read it (a loaded row expires at its session's commit).
    Added to a session, the copy is that row again (changes are saved as an update).

    Made without the model's constructor (its attribute events and defaults): the values
    go straight into the new object's state, as a load does. Settings are copied this way
    on every request, so the constructor's cost showed in the layout's profile."""
    manager, keys = _columns(type(obj))
    source = obj.__dict__  # type: ignore[attr-defined]
    values = {key: source[key] if key in source else getattr(obj, key) for key in keys}
    copy = manager.new_instance()
    copy.__dict__.update(values)
    make_transient_to_detached(copy)
    return copy  # type: ignore[no-any-return]


@cache
def _columns(model: type) -> tuple[Any, tuple[str, ...]]:
    """The class manager and the column attributes' names of a model (once per model)."""
    mapper = inspect(model)
    return mapper.class_manager, tuple(attr.key for attr in mapper.column_attrs)


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


def _load_site_row() -> SiteSettings | None:
    row = db.session.get(SiteSettings, SETTINGS_ID)
    return None if row is None else detached_copy(row)


def _load_site_settings() -> SiteSettings:
    # The row is kept per process; unsaved defaults are a new object per request (the site
    # feature adds that object to the session when an admin first saves).
    row = shared("site.row", _load_site_row)
    # Each request its own copy: one that a request changes stays that request's.
    settings = None if row is None else detached_copy(row)
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
    per process until someone writes (:func:`shared`); every page asks several times
    (layout, language, time zone). A copy attached to no session: to change the settings,
    load the row (the site feature's ``update_settings``)."""
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
