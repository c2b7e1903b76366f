"""The site feature: home page, language switch, group settings, admin index."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.features import Item
from lets_site.settings import SiteSettings
from lets_site.site import demo
from lets_site.site.views import bp

NEW_ON_THE_SITE = 8


def _new_on_the_site(_subject: Any, viewer: Any) -> dict[str, Any] | None:
    """The newest items, a series of events once (its soonest occurrence among those
    read), so one weekly evening added for ten weeks does not fill the panel."""
    chosen: list[Item] = []
    place: dict[str, int] = {}
    for item in f.items(viewer, NEW_ON_THE_SITE * 4):
        series = item.details.get("series")
        if series and series in place:
            at = place[series]
            if item.start is not None and (chosen[at].start is None
                                           or item.start < chosen[at].start):
                chosen[at] = item
            continue
        if len(chosen) == NEW_ON_THE_SITE:
            break
        if series:
            place[series] = len(chosen)
        chosen.append(item)
    return {"items": chosen} if chosen else None


# The audit log's words for what this feature records.
AUDIT_ACTIONS = {
    "settings.update": _l("Changed the site settings"),
}

FEATURE = f.Feature(
    name="site",
    blueprint=bp,
    menu=[f.MenuLink("site.admin_index", _l("Administration"), f.ADMINS, order=90)],
    admin=[f.AdminLink("site.admin_settings", _l("Site settings"), order=80)],
    panels=[
        f.Panel(f.HOME, "site/_new.html", _new_on_the_site, order=90, shared=True),
        f.Panel(f.FOOTER, "site/_language.html", lambda _s, _v: {}, order=10),
    ],
    demo=f.DemoStep(10, demo.seed),
    audit_actions=AUDIT_ACTIONS,
    portable=f.Portable(tables=(SiteSettings,)),
)
