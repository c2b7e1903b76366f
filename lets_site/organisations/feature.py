"""The organisations feature: member organisations and their intermediaries."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.organisations import demo, models, services
from lets_site.organisations.views import bp


def items(_viewer: Any, limit: int) -> list[f.Item]:
    """Organisations' pages are public: the same for every viewer."""
    return [
        f.Item(id=f"urn:lets-site:organisation:{org.id}", kind="organisation",
               title=org.name, url=f.item_url("organisations.detail", slug=org.slug),
               visibility=f.PUBLIC, created=org.created_at, updated=org.created_at)
        for org in services.newest(limit)
    ]


# The audit log's words for what this feature records.
AUDIT_ACTIONS = {
    "organisation.create": _l("Added an organisation"),
    "organisation.edit": _l("Changed an organisation"),
    "organisation.intermediary_add": _l("Added an intermediary"),
    "organisation.intermediary_remove": _l("Removed an intermediary"),
}

FEATURE = f.Feature(
    name="organisations",
    blueprint=bp,
    menu=[f.MenuLink("organisations.index", _l("Organisations"), order=20)],
    admin=[
        f.AdminLink("organisations.index", _l("Member organisations"), order=20),
        f.AdminLink("organisations.admin_new", _l("Add an organisation"), order=21),
    ],
    demo=f.DemoStep(30, demo.seed),
    account_codes=services.org_code_taken,
    items=items,
    item_kinds={"organisation": _l("Organisations")},
    audit_actions=AUDIT_ACTIONS,
    portable=f.Portable(tables=(models.Organisation, models.Intermediary)),
)
