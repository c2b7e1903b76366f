"""The digests feature: the e-mail digest of new items (weekly, monthly or never), its
signed unsubscribe links, and the paper lists admins print."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.digests import commands, models
from lets_site.digests.views import bp, profile_panel

FEATURE = f.Feature(
    name="digests",
    blueprint=bp,
    admin=[
        f.AdminLink("digests.admin", _l("Digest and paper lists"), order=70),
        f.AdminLink("digests.paper", _l("Print the offers and wants"), order=71),
    ],
    panels=[f.Panel(f.PROFILE, "digests/_profile.html", profile_panel, order=90)],
    commands=commands.COMMANDS,
    audit_actions={
        "digest.default": _l("Changed how often members get the digest by default"),
        "digest.member": _l("Changed how often someone else gets the digest"),
    },
    portable=f.Portable(tables=(models.DigestSettings, models.DigestPreference, models.DigestSent)),
)
