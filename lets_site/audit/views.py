from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from lets_site.audit import services
from lets_site.web.security import admin_required

bp = Blueprint("audit", __name__)


@bp.route("/admin/audit")
@admin_required
def index() -> str:
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    action = request.args.get("action", "")[:64]
    entries, total = services.list_entries(current_user, action=action, page=max(1, page))
    return render_template(
        "audit/index.html",
        entries=entries,
        total=total,
        page=max(1, page),
        pages=max(1, -(-total // services.PAGE_SIZE)),
        action=action,
        details_of=services.details_of,
    )
