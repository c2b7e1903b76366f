"""The hub's pages of the contact scripts a followed group shares: each script as its
group wrote it (the placeholders unfilled), public like the group's own document. The
group's page (``/groups/<slug>``) lists them."""

from __future__ import annotations

from flask import abort, render_template

from lets_site.domain import NotFound
from lets_site.federation import scripts, services
from lets_site.federation.views import bp


@bp.route("/groups/<slug>/scripts/<int:script_id>")
def shared_script(slug: str, script_id: int) -> str:
    try:
        feed = services.feed_by_slug(slug)
    except NotFound:
        abort(404)
    script = scripts.get(feed, script_id)
    if script is None:
        abort(404)
    return render_template("federation/script.html", feed=feed, script=script,
                           source_url=str(feed.group.get("contact_scripts") or ""))
