"""The audit feature: the log of admin actions and ledger corrections."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.audit import models
from lets_site.audit.views import bp

FEATURE = f.Feature(
    name="audit",
    blueprint=bp,
    admin=[f.AdminLink("audit.index", _l("Audit log"), order=90)],
    portable=f.Portable(tables=(models.AuditEntry,)),
)
