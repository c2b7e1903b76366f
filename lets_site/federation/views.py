"""Admin pages of the aggregator: the followed feeds, one feed's fetches, dropped items
and the decisions held for an admin."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.http import is_resource_modified
from werkzeug.wrappers import Response

from lets_site.database import utcnow
from lets_site.domain import NotFound, PermissionDenied
from lets_site.federation import agenda, ical, services
from lets_site.federation.forms import AgendaForm, ButtonForm, FeedForm
from lets_site.federation.models import Feed, Status
from lets_site.settings import get_settings, zone
from lets_site.web import htmx
from lets_site.web.forms import choices
from lets_site.web.security import admin_required
from lets_site.web.submit import act, submit

bp = Blueprint("federation", __name__)


def _feed(slug: str) -> Feed:
    try:
        return services.feed_by_slug(slug)
    except NotFound:
        abort(404)


def _filters() -> tuple[AgendaForm, agenda.Filters, int]:
    """The agenda's filters from the query; a value the form cannot read is left out."""
    form = AgendaForm(request.args)
    form.validate()

    def value(f: Any, size: int) -> str:
        return str(f.data or "").strip()[:size] if not f.errors else ""

    period = value(form.period, 8)
    filters = agenda.Filters(
        group=value(form.group, 63), region=value(form.region, 200), kind=value(form.kind, 40),
        period=period if period in agenda.PERIODS else "",
        start=form.start.data if not form.start.errors else None,
        end=form.end.data if not form.end.errors else None)
    page = form.page.data if form.page.data and not form.page.errors else 1
    return form, filters, page


@bp.route("/agenda/", endpoint="agenda")
def agenda_page() -> Response:
    """The common agenda: every followed group's coming events, in the site's zone."""
    form, filters, number = _filters()
    page, found = agenda.agenda(filters, zone(), utcnow(), number)
    # Too many groups to list: the group is typed in (a slug or part of a name).
    form.group.choices = choices([("", _("All groups")), *found.groups]) \
        if found.groups is not None else []
    form.region.choices = choices([("", _("All regions")), *((r, r) for r in found.regions)])
    form.kind.choices = choices([("", _("All kinds")), *found.kinds])
    return htmx.render("federation/agenda.html", "federation/_agenda_list.html", form=form,
                       page=page, filters=filters, typed=found.groups is None,
                       matched=found.matched)


@bp.route("/agenda.ics")
def agenda_ics() -> Response:
    """The common agenda for calendar programs, with the page's filters. The ETag comes
    from a fingerprint of the rows it shows, read before anything is built, so a
    conditional GET that matches answers 304 after two queries. No Last-Modified: an
    event that ends leaves the calendar without any change stamped in the database."""
    _form, filters, _page = _filters()
    site = get_settings()
    now = utcnow()
    name = _("%(site)s: common agenda", site=site.group_name)
    host = urlsplit(str(current_app.config["BASE_URL"])).hostname or "lets-site"
    fingerprint = agenda.calendar_fingerprint(filters, zone(), now)
    etag = ical.etag(fingerprint, name, host, str(get_locale()))
    response = Response(content_type="text/calendar; charset=utf-8")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=900"
    response.vary.update(("Accept-Language", "Cookie"))  # the name and kinds' language
    if not is_resource_modified(request.environ, etag=etag):
        response.status_code = 304
        return response
    response.set_data(ical.calendar(agenda.calendar_rows(filters, zone(), now), name, host))
    return response.make_conditional(request)


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
