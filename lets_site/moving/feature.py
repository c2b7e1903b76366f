"""The moving feature: import a group from eLAS, eLAND or a spreadsheet, and the site's
full export (docs/import.md)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.moving import commands
from lets_site.moving.views import bp

FEATURE = f.Feature(
    name="moving",
    blueprint=bp,
    admin=[
        f.AdminLink("moving.upload", _l("Import from eLAS, eLAND or a spreadsheet"),
                    order=90),
        f.AdminLink("moving.export", _l("Full export of the site"), order=91),
    ],
    commands=commands.COMMANDS,
    audit_actions={
        "moving.import": _l("Imported the group from its old system"),
        "moving.invite": _l("Invited the imported members to choose a password"),
    },
    # No tables of its own: it writes through the other features' Portable.
    portable=f.Portable(),
)
