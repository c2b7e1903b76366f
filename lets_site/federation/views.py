"""Admin pages of the aggregator: the followed feeds, one feed's fetches, dropped items
and the decisions held for an admin."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lets_site.database import utcnow
from lets_site.domain import NotFound, PermissionDenied
from lets_site.federation import services
from lets_site.federation.forms import ButtonForm, FeedForm
from lets_site.federation.models import Feed, Status
from lets_site.web.security import admin_required
from lets_site.web.submit import act, submit

bp = Blueprint("federation", __name__)


def _feed(slug: str) -> Feed:
    try:
        return services.feed_by_slug(slug)
    except NotFound:
        abort(404)


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
