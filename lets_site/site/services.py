from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import available_timezones

from lets_site.audit import services as audit
from lets_site.database import utcnow
from lets_site.domain import DomainError, PermissionDenied
from lets_site.extensions import db
from lets_site.members.models import Member
from lets_site.settings import (
    LANGUAGES,
    SETTINGS_ID,
    SiteSettings,
    get_settings,
    remember_settings,
    zone,
)

__all__ = ["LANGUAGES", "SettingsData", "get_settings", "update_settings", "zone"]


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


def update_settings(actor: Member, data: SettingsData) -> SiteSettings:
    if not actor.is_admin:
        raise PermissionDenied("admins only")
    if data.timezone not in available_timezones():
        raise DomainError("unknown time zone", field="timezone")
    if data.default_language not in LANGUAGES:
        raise DomainError("unknown language", field="default_language")
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
    remember_settings(settings)
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
