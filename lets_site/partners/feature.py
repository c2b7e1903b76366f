"""The partners feature: the directory of partners, collaborations, the prospects pipeline
and contact scripts."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.mail import external_url
from lets_site.partners import demo, models, services
from lets_site.partners.models import Visibility
from lets_site.partners.views import bp


def items(viewer: Any, limit: int) -> list[f.Item]:
    """Partners and collaborations; the federation feed reads the public ones."""
    found = []
    for kind, obj in services.item_rows(viewer, limit):
        if kind == "partner":
            found.append(f.Item(
                id=f"urn:lets-site:partner:{obj.id}", kind="partner", title=obj.title,
                url=f.item_url("partners.detail", slug=obj.slug),
                visibility=f.PUBLIC if obj.visibility == Visibility.PUBLIC else f.MEMBERS_ONLY,
                created=obj.created_at, updated=obj.updated_at,
                details={"text": obj.about, "kind": obj.kind, "website": obj.site,
                         "address": obj.address, "offers": obj.gives, "needs": obj.needs}))
        else:
            public = (obj.visibility == Visibility.PUBLIC
                      and obj.partner.visibility == Visibility.PUBLIC)
            found.append(f.Item(
                id=f"urn:lets-site:collaboration:{obj.id}", kind="collaboration",
                title=f"{obj.partner.title}: {obj.title}",
                url=f.item_url("partners.detail", slug=obj.partner.slug),
                visibility=f.PUBLIC if public else f.MEMBERS_ONLY,
                created=obj.created_at, updated=obj.updated_at,
                start=services.collaboration_start(obj)))
    return found


def _home(_subject: Any, _viewer: Any) -> dict[str, Any] | None:
    partners = services.home_partners()
    return {"partners": partners} if partners else None


def _event(event: Any, viewer: Any) -> dict[str, Any] | None:
    """On an event's page: the collaborations it came from (events never import
    partners for this; the page asks for the "event" place)."""
    found = services.from_event(event.id, viewer)
    return {"collaborations": found} if found else None


def _shared_link() -> tuple[str | None, Any]:
    """The feed's group block links the shared scripts while any is shared."""
    link = external_url("partners.shared_scripts") if services.any_shared() else None
    return link, services.shared_changed_at()


def _my_steps(_subject: Any, viewer: Any) -> dict[str, Any] | None:
    steps = services.next_steps_of(viewer)
    return {"steps": steps, "today": services.today()} if steps else None


# The audit log's words for what coordinators and admins do here.
AUDIT_ACTIONS = {
    "partners.coordinator_add": _l("Made a member partner coordinator"),
    "partners.coordinator_remove": _l("Took away a partner coordinator's role"),
    "partners.create": _l("Added a partner"),
    "partners.adopt": _l("Gave a member organisation a partner record"),
    "partners.edit": _l("Changed a partner"),
    "partners.delete": _l("Removed a partner"),
    "partners.contact_add": _l("Added a partner's contact person"),
    "partners.contact_remove": _l("Removed a partner's contact person"),
    "partners.collaboration_add": _l("Recorded a collaboration"),
    "partners.collaboration_edit": _l("Changed a collaboration"),
    "partners.collaboration_delete": _l("Removed a collaboration"),
    "partners.prospect_create": _l("Added a prospective partner"),
    "partners.prospect_edit": _l("Changed a prospective partner"),
    "partners.prospect_move": _l("Moved a prospective partner to another stage"),
    "partners.prospect_contact": _l("Logged a contact with a prospective partner"),
    "partners.script_create": _l("Wrote a contact script"),
    "partners.script_edit": _l("Changed a contact script"),
    "partners.script_delete": _l("Removed a contact script"),
    "partners.script_values": _l("Changed the values contact scripts fill in"),
    "partners.script_send": _l("Sent a contact script"),
    "partners.script_import": _l("Imported contact scripts"),
}

FEATURE = f.Feature(
    name="partners",
    blueprint=bp,
    menu=[f.MenuLink("partners.index", _l("Partners"), order=25)],
    admin=[
        f.AdminLink("partners.coordinators", _l("Partner coordinators"), order=60),
        f.AdminLink("partners.prospects", _l("Prospective partners"), order=61),
        f.AdminLink("partners.scripts", _l("Contact scripts"), order=62),
    ],
    panels=[f.Panel(f.HOME, "partners/_my_steps.html", _my_steps, order=28),
            f.Panel(f.HOME, "partners/_home.html", _home, order=60),
            f.Panel(f.EVENT, "partners/_event.html", _event, order=50)],
    demo=f.DemoStep(60, demo.seed),
    export=f.ExportSection("partners", services.export_section),
    items=items,
    item_kinds={"partner": _l("Partners"), "collaboration": _l("Collaborations")},
    audit_actions=AUDIT_ACTIONS,
    notifications=(f.NotificationKind(
        services.STEP_DUE, _l("The next step of a prospect I follow is due"),
        due=services.step_due_notices, receives=services.is_coordinator),),
    group_fields=(f.GroupField("contact_scripts", _shared_link),),
    portable=f.Portable(
        tables=(models.Coordinator, models.Partner, models.PartnerContact,
                models.Collaboration, models.Prospect, models.ProspectLog,
                models.ContactScript, models.ScriptValues),
        files=("partners",),
    ),
)
