"""The hub pages: the directory of followed groups (``/groups/``), cross-group search
(``/search/``, "LETS across the border") and the federation's merged feed
(``/federation/feed.json``). They answer on any site that follows at least one group
(404 otherwise); ``FEDERATION_HUB`` links them in the footer (docs/federation.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, render_template, request
from flask_babel import format_timedelta
from flask_babel import gettext as _
from werkzeug.http import is_resource_modified

from lets_site.database import utcnow
from lets_site.domain import NotFound
from lets_site.federation import crosssearch, directory, groupfilter, merged, scripts
from lets_site.federation.directory import Badge
from lets_site.federation.models import Feed
from lets_site.federation.views import bp
from lets_site.paging import Page
from lets_site.settings import get_settings
from lets_site.web import htmx

CACHE_CONTROL = "public, max-age=900"


def _hub() -> None:
    if not directory.any_followed():
        abort(404)


def _today() -> datetime:
    """The start of today in the site's zone (events count from then on), in UTC."""
    zone = ZoneInfo(get_settings().timezone or "Europe/Brussels")
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return today.astimezone(UTC)


def _number(value: str | None) -> int:
    value = value or "1"
    return max(int(value), 1) if value.isascii() and value.isdigit() and len(value) < 6 else 1



def _badge(feed: Feed, now: datetime) -> tuple[str, str, str]:
    """(badge, its label, the reason in plain words) for a group's feed."""
    state = directory.health(feed, now,
                             float(current_app.config["FEDERATION_INTERVAL_SECONDS"]))
    labels = {Badge.OK: _("OK"), Badge.NEW: _("New"), Badge.STALE: _("Stale"),
              Badge.ERROR: _("Error"), Badge.INVALID: _("Invalid"), Badge.GONE: _("Gone"),
              Badge.PAUSED: _("Paused")}
    ago = format_timedelta(now - state.last_success, add_direction=False) \
        if state.last_success is not None else None
    if state.badge == Badge.PAUSED:
        reason = _("An admin of this site paused following this group.")
    elif state.badge == Badge.GONE:
        reason = _("The group's site says its feed is gone for good.")
    elif state.badge == Badge.INVALID:
        reason = _("The feed was refused: %(detail)s.", detail=state.detail)
    elif state.badge == Badge.ERROR:
        reason = _("The feed could not be fetched yet: %(detail)s.", detail=state.detail)
    elif state.badge == Badge.NEW:
        reason = _("Not fetched yet.")
    elif state.detail:
        reason = _("The last fetch failed (%(detail)s); what is shown was fetched %(ago)s "
                   "ago.", detail=state.detail, ago=ago)
    else:
        reason = _("Last fetched %(ago)s ago.", ago=ago)
    if state.badge in (Badge.INVALID, Badge.GONE) and ago is not None:
        reason += " " + _("What is shown was fetched %(ago)s ago.", ago=ago)
    return state.badge, labels[state.badge], reason


@bp.route("/groups/")
def groups() -> str:
    """The directory of followed groups, with counts and health: one page of them, or of
    those whose name or region holds the words searched for."""
    _hub()
    now = utcnow()
    query = " ".join((request.args.get("q") or "").split())[:100]
    page = directory.groups(_today(), query, _number(request.args.get("page")))
    return render_template("federation/groups.html", groups=page.items, page=page, q=query,
                           badges={g.slug: _badge(g.feed, now) for g in page.items})


@bp.route("/groups/<slug>")
def group(slug: str) -> str:
    try:
        found = directory.group(slug, _today())
    except NotFound:
        abort(404)
    kinds = {"offer": _("Offer"), "want": _("Want"), "event": _("Event"), "book": _("Book")}
    return render_template("federation/group.html", group=found,
                           badge=_badge(found.feed, utcnow()),
                           recent=directory.recent(found.feed), kinds=kinds,
                           scripts=scripts.of_feed(found.feed),
                           scripts_url=found.feed.group.get("contact_scripts"))


@bp.route("/search/")
def cross_search() -> Response:
    """Offers, wants and books of every followed group ("LETS across the border")."""
    _hub()
    query = (request.args.get("q") or "").strip()[:200]
    group_slug = (request.args.get("group") or "").strip()[:63] or None
    kind = request.args.get("kind") or None
    kind = kind if kind in crosssearch.KINDS else None
    number = _number(request.args.get("page"))
    listed = groupfilter.choices()
    matched = None
    if listed is None and group_slug:  # many groups: the group is typed in
        matched = groupfilter.match(group_slug)
        hits, total = crosssearch.find(query, None, kind, number, feed_ids=matched.ids)
    else:
        hits, total = crosssearch.find(query, group_slug, kind, number)
    return htmx.render(
        "federation/search.html", "federation/_search.html", q=query, group=group_slug,
        kind=kind, groups=listed, matched=matched,
        page=Page(hits, total, number, per_page=crosssearch.PER_PAGE))


@bp.route("/federation/feed.json")
def merged_feed() -> Response:
    """Every followed group's merged items as one feed (docs/federation.md). The
    validators come from a fingerprint of the merged rows, read before anything is built:
    a conditional GET that matches answers 304 after three queries."""
    _hub()
    current = merged.state()
    response = Response(content_type=f"{merged.MEDIA_TYPE}; charset=utf-8")
    response.set_etag(current.etag, weak=False)
    response.last_modified = current.modified
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.vary.add("Accept-Encoding")
    if not is_resource_modified(request.environ, etag=current.etag,
                                last_modified=current.modified):
        response.status_code = 304
        return response
    response.set_data(merged.build(current).body)
    return response.make_conditional(request)
