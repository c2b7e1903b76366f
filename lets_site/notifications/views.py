"""The member's notification choices; the admins' defaults, undeliverable mail, flags."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from lets_site.domain import NotFound
from lets_site.extensions import db
from lets_site.members.models import Member
from lets_site.notifications import services
from lets_site.notifications.forms import EmptyForm, switches_form
from lets_site.web.forms import see_other
from lets_site.web.security import admin_required
from lets_site.web.submit import act, submit

bp = Blueprint("notifications", __name__)


@bp.route("/members/me/notifications", methods=["GET", "POST"])
@login_required
def preferences() -> Response | str:
    member = current_user._get_current_object()
    kinds = services.kinds_for(member)
    form = switches_form(kinds, services.preferences(member))
    done = submit(form, lambda: services.save_preferences(member, member, form.enabled()),
                  success=url_for("notifications.preferences"),
                  message=_("Your notification choices are saved."))
    return done or render_template("notifications/preferences.html", form=form, kinds=kinds)


@bp.route("/admin/notifications", methods=["GET", "POST"])
@admin_required
def defaults() -> Response | str:
    kinds = services.kinds()
    form = switches_form(kinds, services.group_defaults())
    done = submit(form, lambda: services.save_defaults(current_user, form.enabled()),
                  success=url_for("notifications.defaults"),
                  message=_("The group's defaults are saved."))
    return done or render_template("notifications/defaults.html", form=form, kinds=kinds)


@bp.route("/admin/notifications/undeliverable")
@admin_required
def undeliverable() -> str:
    return render_template("notifications/undeliverable.html",
                           mails=services.undeliverable(current_user), form=EmptyForm())


@bp.route("/admin/notifications/undeliverable/<int:mail_id>/retry", methods=["POST"])
@admin_required
def retry(mail_id: int) -> Response:
    back = url_for("notifications.undeliverable")
    if not EmptyForm().validate_on_submit():
        abort(400)
    return act(lambda: services.retry(current_user, mail_id), back=back,
               message=_("The mail is queued again."), propagate=(NotFound,))


@bp.route("/admin/notifications/flags/<int:member_id>/clear", methods=["POST"])
@admin_required
def clear_flag(member_id: int) -> Response:
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    back = url_for("members.admin_member", member_id=member_id)
    if not EmptyForm().validate_on_submit():
        return see_other(back)
    return act(lambda: services.clear_flag(current_user, member), back=back,
               message=_("The address is no longer flagged."))
