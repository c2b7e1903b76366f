from __future__ import annotations

from typing import Any

from tests.access import ADMINS_ONLY, LOGIN, MEMBERS_ONLY, A, Table, everyone

# Admins are partner coordinators; the coordinator role itself is walked in
# tests/partners/test_views.py (a member with the role sees what an admin sees here).
COORDINATORS = ADMINS_ONLY


def _values(people: dict[str, Any]) -> dict[str, Any]:
    from tests.partners.helpers import route_objects

    return route_objects(people)


TABLE = Table(
    routes={
        "/partners/": everyone(200),
        "/partners/{partner}": everyone(200),
        "/partners/{members_partner}": {**MEMBERS_ONLY, A: LOGIN},
        "/partners/{org}": everyone(200),
        "/partners/logos/{logo}": everyone(200),
        # A members-only partner's logo: a visitor is not told it exists.
        "/partners/logos/{members_logo}": {**MEMBERS_ONLY, A: 404},
        "/partners/new": COORDINATORS,
        "/partners/{partner}/edit": COORDINATORS,
        "/partners/{partner}/contacts": COORDINATORS,
        "/partners/{partner}/collaborations/new": COORDINATORS,
        "/partners/{partner}/collaborations/{collaboration}/edit": COORDINATORS,
        "/partners/collaborations": everyone(200),
        "/partners/collaborations.csv": everyone(200),
        "/partners/prospects": COORDINATORS,
        "/partners/prospects/new": COORDINATORS,
        "/partners/prospects/{prospect}": COORDINATORS,
        "/partners/prospects/{prospect}/edit": COORDINATORS,
        "/partners/prospects/{prospect}/scripts/{script}": COORDINATORS,
        "/partners/scripts": COORDINATORS,
        "/partners/scripts/new": COORDINATORS,
        "/partners/scripts/{script}/edit": COORDINATORS,
        "/partners/scripts/export.json": COORDINATORS,
        # What the group shares with other groups is public (never the filled-in values).
        "/partners/scripts/shared.json": everyone(200),
        "/admin/partners/coordinators": ADMINS_ONLY,
    },
    post_only={
        "/partners/<slug>/adopt",
        "/partners/<slug>/delete",
        "/partners/<slug>/contacts/remove",
        "/partners/<slug>/collaborations/<int:collaboration_id>/delete",
        "/partners/prospects/<int:prospect_id>/move",
        "/partners/prospects/<int:prospect_id>/send",
        "/partners/scripts/values",
        "/partners/scripts/<int:script_id>/delete",
        "/partners/scripts/import",
        "/partners/scripts/shared/<ref>/import",
        "/admin/partners/coordinators/remove",
    },
    rules={
        "/partners/<slug>": "/partners/{partner}",
        "/partners/<slug>/edit": "/partners/{partner}/edit",
        "/partners/logos/<name>": "/partners/logos/{logo}",
        "/partners/<slug>/contacts": "/partners/{partner}/contacts",
        "/partners/<slug>/collaborations/new": "/partners/{partner}/collaborations/new",
        "/partners/<slug>/collaborations/<int:collaboration_id>/edit":
            "/partners/{partner}/collaborations/{collaboration}/edit",
        "/partners/prospects/<int:prospect_id>": "/partners/prospects/{prospect}",
        "/partners/prospects/<int:prospect_id>/edit": "/partners/prospects/{prospect}/edit",
        "/partners/prospects/<int:prospect_id>/scripts/<int:script_id>":
            "/partners/prospects/{prospect}/scripts/{script}",
        "/partners/scripts/<int:script_id>/edit": "/partners/scripts/{script}/edit",
    },
    values=_values,
)
