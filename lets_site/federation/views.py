"""Admin pages of the aggregator: the followed feeds, one feed's fetches, dropped items
and the decisions held for an admin."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lets_site.database import utcnow
from lets_site.domain import NotFound, PermissionDenied
from lets_site.federation import services
from lets_site.federation.forms import ButtonForm, FeedForm
from lets_site.federation.models import Feed, Status
from lets_site.paging import Page
from lets_site.settings import get_settings
from lets_site.web.security import admin_required
from lets_site.web.submit import act, submit

bp = Blueprint("federation", __name__)


def _feed(slug: str) -> Feed:
    try:
        return services.feed_by_slug(slug)
    except NotFound:
        abort(404)


@bp.route("/agenda/")
def agenda() -> str:
    """The common agenda: every followed group's upcoming events, in the site's zone."""
    zone = ZoneInfo(get_settings().timezone or "Europe/Brussels")
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    group = request.args.get("group", "").strip()[:63] or None
    page = request.args.get("page", "1")
    number = int(page) if page.isascii() and page.isdigit() and len(page) < 6 else 1
    rows, total = services.agenda(today.astimezone(UTC), group, number)
    for row in rows:
        row.data["own_time"] = _own_time(row, zone)
    return render_template("federation/agenda.html", rows=rows, group=group,
                           groups=services.group_choices(),
                           page=Page(rows, total, max(number, 1), per_page=50))


def _own_time(row: services.AgendaRow, zone: ZoneInfo) -> str | None:
    """The event's start in its own zone, when that is not the site's."""
    if row.all_day or not row.zone or row.zone == zone.key:
        return None
    try:
        start = datetime.fromisoformat(str(row.data.get("start")))
    except ValueError:
        return None
    return f"{start.strftime('%H:%M')} {row.zone}"


@bp.route("/admin/federation", methods=["GET", "POST"])
@admin_required
def index() -> Response | str:
    form = FeedForm()
    done = submit(form, lambda: services.add_feed(current_user, form.slug.data or "",
                                                  form.feed_url.data or "",
                                                  form.public_key.data),
                  success=lambda feed: url_for("federation.detail", slug=feed.slug),
                  message=lambda feed: _("Following %(slug)s: it is fetched at the next "
                                         "sweep.", slug=feed.slug))
    decisions = services.decisions()
    return done or render_template(
        "federation/index.html", form=form, feeds=services.feeds(),
        counts=services.item_counts(),
        pending={d.feed_id for d in decisions if not d.refused})


@bp.route("/admin/federation/<slug>")
@admin_required
def detail(slug: str) -> str:
    feed = _feed(slug)
    return render_template(
        "federation/detail.html", feed=feed, log=services.fetch_log(feed),
        dropped=services.dropped_items(feed), decisions=services.decisions(feed),
        count=services.item_counts().get(feed.id, 0), button=ButtonForm())


@bp.route("/admin/federation/<slug>/pause", methods=["POST"])
@admin_required
def pause(slug: str) -> Response:
    return act(lambda: services.set_status(current_user, slug, Status.PAUSED, utcnow()),
               back=url_for("federation.detail", slug=slug),
               message=_("The feed is paused."), propagate=(NotFound, PermissionDenied))


@bp.route("/admin/federation/<slug>/resume", methods=["POST"])
@admin_required
def resume(slug: str) -> Response:
    return act(lambda: services.set_status(current_user, slug, Status.ACTIVE, utcnow()),
               back=url_for("federation.detail", slug=slug),
               message=_("The feed is fetched again at the next sweep."),
               propagate=(NotFound, PermissionDenied))


@bp.route("/admin/federation/<slug>/remove", methods=["POST"])
@admin_required
def remove(slug: str) -> Response:
    return act(lambda: services.remove_feed(current_user, slug),
               back=url_for("federation.detail", slug=slug),
               success=url_for("federation.index"),
               message=_("The feed is no longer followed; its items are gone."),
               propagate=(NotFound, PermissionDenied))


def _decide(decision_id: int, accept: bool) -> Response:
    return act(lambda: services.decide(current_user, decision_id, accept, utcnow()),
               back=url_for("federation.index"),
               message=_("Accepted.") if accept else
               _("Refused: nothing changes and the same change is not asked again."),
               propagate=(PermissionDenied,))


@bp.route("/admin/federation/decisions/<int:decision_id>/accept", methods=["POST"])
@admin_required
def accept(decision_id: int) -> Response:
    return _decide(decision_id, True)


@bp.route("/admin/federation/decisions/<int:decision_id>/refuse", methods=["POST"])
@admin_required
def refuse(decision_id: int) -> Response:
    return _decide(decision_id, False)
