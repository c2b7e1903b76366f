from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l

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

__all__ = ["LANGUAGES", "TEXT_FIELDS", "SettingsData", "get_settings", "update_settings",
           "zone"]


@dataclass(frozen=True)
class SettingsData:
    group_name: str
    slug: str
    code_prefix: str
    locality: str
    region: str
    country: str
    timezone: str
    default_language: str
    contact_email: str
    # The group's own words per language: unit_singular_nl, unit_plural_fr, about_en ...
    texts: dict[str, str] = field(default_factory=dict)


# The texts an admin writes per language; the default language's unit names are required.
TEXT_NAMES = ("unit_singular", "unit_plural", "about")
TEXT_FIELDS = tuple(f"{name}_{lang}" for lang in LANGUAGES for name in TEXT_NAMES)


def update_settings(actor: Member, data: SettingsData) -> SiteSettings:
    if not actor.is_admin:
        raise PermissionDenied("admins only")
    if data.timezone not in available_timezones():
        raise DomainError("unknown time zone", field="timezone")
    if data.default_language not in LANGUAGES:
        raise DomainError("unknown language", field="default_language")
    unknown = set(data.texts) - set(TEXT_FIELDS)
    if unknown:
        raise DomainError(f"unknown texts: {sorted(unknown)}")
    for name in ("unit_singular", "unit_plural"):
        # The other languages fall back to the default language's unit: it must exist.
        key = f"{name}_{data.default_language}"
        if not data.texts.get(key, "").strip():
            raise DomainError(_l("Fill in the unit's name in the default language."),
                              field=key)
    settings = db.session.get(SiteSettings, SETTINGS_ID)
    if settings is None:
        settings = get_settings()
        db.session.add(settings)
    changed = {}
    values = {k: v for k, v in data.__dict__.items() if k != "texts"}
    values.update({name: data.texts.get(name, "") for name in TEXT_FIELDS})
    for name, value in values.items():
        if getattr(settings, name) != value:
            changed[name] = value if not name.startswith("about") else "(changed)"
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
