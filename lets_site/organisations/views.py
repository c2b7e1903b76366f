from __future__ import annotations

from flask import Blueprint, Response, abort, flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lets_site import features
from lets_site.domain import DomainError
from lets_site.organisations import services
from lets_site.organisations.forms import (
    IntermediaryForm,
    NewOrganisationForm,
    OrganisationForm,
    RemoveIntermediaryForm,
)
from lets_site.organisations.models import Organisation
from lets_site.web.forms import see_other
from lets_site.web.security import admin_required
from lets_site.web.submit import act, submit

bp = Blueprint("organisations", __name__)


def _org_or_404(slug: str) -> Organisation:
    try:
        return services.get_by_slug(slug)
    except DomainError:
        abort(404)


@bp.route("/organisations/")
def index() -> str:
    return render_template("organisations/index.html",
                           organisations=services.list_organisations())


@bp.route("/organisations/<slug>")
def detail(slug: str) -> str:
    org = _org_or_404(slug)
    viewer = current_user if current_user.is_authenticated else None
    return render_template("organisations/detail.html", org=org,
                           panels=features.panels(features.ORGANISATION, org, viewer))


@bp.route("/organisations/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str) -> Response | str:
    org = _org_or_404(slug)
    if not org.can_act_for(current_user):
        abort(403)
    form = OrganisationForm(obj=org)
    done = submit(form,
                  lambda: services.update_organisation(current_user, org,
                                                       form.organisation_data()),
                  success=lambda _result: url_for("organisations.detail", slug=org.slug),
                  message=_("The organisation is saved."))
    return done or render_template("organisations/form.html", form=form, org=org)


@bp.route("/admin/organisations/new", methods=["GET", "POST"])
@admin_required
def admin_new() -> Response | str:
    form = NewOrganisationForm()
    done = submit(form,
                  lambda: services.create_organisation(current_user, form.organisation_data(),
                                                       form.account_code.data or ""),
                  success=lambda org: url_for("organisations.admin_detail", slug=org.slug),
                  message=_("The organisation is added."))
    return done or render_template("organisations/form.html", form=form, org=None)


@bp.route("/admin/organisations/<slug>", methods=["GET", "POST"])
@admin_required
def admin_detail(slug: str) -> Response | str:
    """Intermediaries: the list, a form to add one (POST here) and a button per row."""
    org = _org_or_404(slug)
    form = IntermediaryForm()
    done = submit(form,
                  lambda: services.add_intermediary(current_user, org,
                                                    form.account_code.data or ""),
                  success=url_for("organisations.admin_detail", slug=org.slug),
                  message=_("The intermediary is added."))
    return done or render_template("organisations/admin_detail.html", org=org, form=form,
                           remove_form=RemoveIntermediaryForm())


@bp.route("/admin/organisations/<slug>/remove", methods=["POST"])
@admin_required
def admin_remove(slug: str) -> Response:
    org = _org_or_404(slug)
    form = RemoveIntermediaryForm()
    member_id = form.member_id.data or ""
    back = url_for("organisations.admin_detail", slug=org.slug)
    if not (form.validate_on_submit() and member_id.isascii() and member_id.isdigit()):
        flash(_("Nothing was removed: the form was incomplete."), "error")
        return see_other(back)
    return act(lambda: services.remove_intermediary(current_user, org, int(member_id)),
               back=back, message=_("The intermediary is removed."))
