from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from lets_site import features
from lets_site.audit import services
from lets_site.web.security import admin_required

bp = Blueprint("audit", __name__)


@bp.route("/admin/audit")
@admin_required
def index() -> str:
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    action = request.args.get("action", "")[:64]
    # Each feature names its actions (features.audit_actions): the filter offers those
    # words; a known key matches exactly, anything else as the start of keys.
    labels = features.audit_actions()
    entries, total = services.list_entries(current_user, action=action, page=max(1, page),
                                           exact=action in labels)
    options = sorted(((key, str(label)) for key, label in labels.items()),
                     key=lambda pair: pair[1].casefold())
    return render_template(
        "audit/index.html",
        entries=entries,
        total=total,
        page=max(1, page),
        pages=max(1, -(-total // services.PAGE_SIZE)),
        action=action,
        labels=labels,
        options=options,
        details_of=services.details_of,
    )
