"""Factories for the partners tests: rows made through the feature's services (so the
rules apply) and committed, like tests/factories.py does."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

from lets_site.extensions import db
from lets_site.partners import services
from lets_site.partners.models import Collaboration, ContactScript, Partner, Prospect


def make_partner(actor: Any, name: str = "Vormingplus", **overrides: Any) -> Partner:
    data = services.PartnerData(name=name, sector=overrides.pop("sector", "adult_education"),
                                **overrides)
    partner = services.create_partner(actor, data)
    db.session.commit()
    return partner


def make_collaboration(actor: Any, partner: Partner, title: str = "Filmavond",
                       **overrides: Any) -> Collaboration:
    values: dict[str, Any] = {"happened_on": date(2019, 5, 18), "title": title,
                              "support": ["material"], "visitors": 34,
                              "open_to_non_members": True}
    values.update(overrides)
    item = services.add_collaboration(actor, partner, services.CollaborationData(**values))
    db.session.commit()
    return item


def make_prospect(actor: Any, name: str = "Repair Café", **overrides: Any) -> Prospect:
    prospect = services.create_prospect(actor, services.ProspectData(name=name, **overrides))
    db.session.commit()
    return prospect


def make_script(actor: Any, title: str = "Kennismaking", language: str = "nl",
                subject: str = "Kennismaking met {group_name}",
                body: str = "Beste {contact_name},\n\nWij zijn {group_name}. Kom naar "
                            "{next_intro_evening}.\n\n{sender_name}") -> ContactScript:
    script = services.create_script(actor, services.ScriptData(title=title, language=language,
                                                               subject=subject, body=body))
    db.session.commit()
    return script


def route_objects(people: dict[str, Any]) -> dict[str, Any]:
    """Objects for the route table: a public partner with a collaboration and a logo, a
    members-only partner with a logo, a prospect and a script."""
    if "_partners" not in people:
        from lets_site.photos import file_name
        from tests.uploads import png

        admin = people["admin"]
        partner = make_partner(admin, "Routebibliotheek", logo=io.BytesIO(png()))
        hidden = make_partner(admin, "Routevoedselteam", visibility="members",
                              logo=io.BytesIO(png((0, 90, 0))))
        item = make_collaboration(admin, partner, "Boekenruil", support=["room", "money"],
                                  amount=Decimal("80"))
        people["_partners"] = {
            "partner": partner.slug,
            "members_partner": hidden.slug,
            "logo": file_name(partner.logo_key or "", thumb=True),
            "members_logo": file_name(hidden.logo_key or "", thumb=True),
            "collaboration": item.id,
            "prospect": make_prospect(admin, "Routeprospect").id,
            "script": make_script(admin).id,
        }
    return people["_partners"]
