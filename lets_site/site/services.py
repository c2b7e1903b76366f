from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, available_timezones

from flask import g

from lets_site.audit import services as audit
from lets_site.database import utcnow
from lets_site.domain import DomainError, PermissionDenied
from lets_site.extensions import db
from lets_site.members.models import Member
from lets_site.site.models import SiteSettings

LANGUAGES = ("nl", "fr", "en")
SETTINGS_ID = 1
_CACHE_KEY = "lets_site_settings"


@dataclass(frozen=True)
class SettingsData:
    group_name: str
    slug: str
    code_prefix: str
    locality: str
    region: str
    country: str
    timezone: str
    unit_name: str
    default_language: str
    about: str
    contact_email: str


def get_settings() -> SiteSettings:
    """The group's settings; unsaved defaults when an admin has not saved any yet. Read once
    per request (or command): every page asks several times (layout, language, time zone)."""
    cached = g.get(_CACHE_KEY)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
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
            unit_name="uur",
            default_language="nl",
            about="",
            contact_email="",
        )
    g.setdefault(_CACHE_KEY, settings)
    return settings


def zone() -> ZoneInfo:
    try:
        return ZoneInfo(get_settings().timezone)
    except (KeyError, ValueError):
        return ZoneInfo("Europe/Brussels")


def update_settings(actor: Member, data: SettingsData) -> SiteSettings:
    if not actor.is_admin:
        raise PermissionDenied("admins only")
    if data.timezone not in available_timezones():
        raise DomainError("unknown time zone", field="timezone")
    if data.default_language not in LANGUAGES:
        raise DomainError("unknown language", field="default_language")
    g.pop(_CACHE_KEY, None)
    settings = db.session.get(SiteSettings, SETTINGS_ID)
    if settings is None:
        settings = get_settings()
        db.session.add(settings)
    changed = {}
    for name, value in data.__dict__.items():
        if getattr(settings, name) != value:
            changed[name] = value if name != "about" else "(changed)"
            setattr(settings, name, value)
    settings.updated_at = utcnow()
    db.session.flush()
    g.setdefault(_CACHE_KEY, settings)
    if changed:
        audit.record(
            actor,
            "settings.update",
            target_type="settings",
            target_id=SETTINGS_ID,
            target_label=settings.group_name,
            details=changed,
        )
    return settings
