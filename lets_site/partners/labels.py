"""The translatable names of the partners feature's lists (sectors, support, stages ...)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

SECTORS: dict[str, Any] = {
    "adult_education": _l("Adult education"),
    "local_government": _l("Local government"),
    "culture": _l("Culture"),
    "library": _l("Library"),
    "social": _l("Social work and welfare"),
    "care": _l("Care and health"),
    "environment": _l("Environment and sustainability"),
    "food": _l("Food"),
    "schools": _l("Schools and youth"),
    "media": _l("Media"),
    "events": _l("Festivals and events"),
    "migration": _l("Migration and integration"),
    "umbrella": _l("Umbrella bodies and networks"),
    "other": _l("Other"),
}

SUPPORT: dict[str, Any] = {
    "room": _l("room"),
    "money": _l("money"),
    "material": _l("material"),
    "publicity": _l("publicity"),
    "people": _l("people"),
}

STATUSES: dict[str, Any] = {
    "idea": _l("Idea"),
    "to_contact": _l("To contact"),
    "contacted": _l("Contacted"),
    "meeting": _l("Meeting planned"),
    "partner": _l("Partner"),
    "not_now": _l("Not now"),
}

MEDIA: dict[str, Any] = {
    "email": _l("e-mail"),
    "phone": _l("phone"),
    "visit": _l("visit"),
    "letter": _l("letter"),
    "meeting": _l("meeting"),
}

KINDS: dict[str, Any] = {
    "member": _l("Member organisation"),
    "collaboration": _l("Collaboration partner"),
}

VISIBILITY: dict[str, Any] = {
    "public": _l("Everyone, also visitors"),
    "members": _l("Members of the group"),
}

CONTACT_VISIBILITY: dict[str, Any] = {
    "members": _l("Members of the group"),
    "coordinators": _l("Partner coordinators only"),
}

LANGUAGES: dict[str, Any] = {"nl": _l("Dutch"), "fr": _l("French"), "en": _l("English")}


def label(table: dict[str, Any], key: str) -> str:
    """The label of ``key``, or the key itself for a value no longer in the list."""
    value = table.get(key)
    return str(value) if value is not None else key
