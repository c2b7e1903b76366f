from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from lets_site import features
from lets_site.domain import DomainError
from lets_site.extensions import db
from lets_site.members import services
from lets_site.members.forms import (
    AdminMemberForm,
    ApproveForm,
    ChangePasswordForm,
    CloseAccountForm,
    DirectoryForm,
    EditProfileForm,
    EmptyForm,
    ForgotPasswordForm,
    JoinForm,
    LoginForm,
    RolesForm,
    SetPasswordForm,
    StatusForm,
)
from lets_site.members.models import Member, Role, Status
from lets_site.settings import get_settings
from lets_site.web import htmx
from lets_site.web.forms import safe_next, see_other, show_error
from lets_site.web.security import admin_required
from lets_site.web.submit import act, submit

bp = Blueprint("members", __name__)


def _client_address() -> str:
    return (request.remote_addr or "unknown")[:64]


# --- Login and logout ---------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if current_user.is_authenticated:
        return see_other(url_for("site.home"))
    form = LoginForm()
    if request.method == "GET":
        # A next the redirect would refuse is dropped here, so the form can still be sent.
        form.next.data = safe_next(request.args.get("next"), "")
    if form.validate_on_submit():
        try:
            member = services.authenticate(
                form.identifier.data or "", form.password.data or "", _client_address()
            )
        except DomainError as error:
            db.session.commit()  # keep the failed attempt for throttling
            show_error(form, error)
        else:
            db.session.commit()
            # A fresh session: nothing from before the login carries over.
            session.clear()
            login_user(member, remember=bool(form.remember.data))
            # The welcome is in the member's own language (locale.py chooses again on login).
            flash(_("Welcome, %(name)s.", name=member.display_name), "success")
            return see_other(safe_next(form.next.data, url_for("site.home")))
    return render_template("members/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        # A new session token: a copy of this session or remember cookie stops working.
        services.rotate_session(current_user._get_current_object())
        db.session.commit()
        logout_user()
        session.clear()
        # The next page tells the browser to drop htmx's copies of the pages seen before.
        session["clear_history"] = True
        flash(_("You are logged out, also on your other devices."), "success")
    return see_other(url_for("site.home"))


# --- Joining -------------------------------------------------------------------------------


@bp.route("/join", methods=["GET", "POST"])
def join() -> Response | str:
    form = JoinForm()
    done = submit(form,
                  lambda: services.register_candidate(form.profile_data(),
                                                      form.password.data or "",
                                                      _client_address()),
                  success=url_for("members.join_thanks"))
    return done or render_template("members/join.html", form=form)


@bp.route("/join/thanks")
def join_thanks() -> str:
    return render_template("members/join_thanks.html")


# --- Passwords -----------------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> Response | str:
    form = ForgotPasswordForm()
    done = submit(form,
                  lambda: services.request_password_reset(form.email.data or "",
                                                          _client_address()),
                  success=url_for("members.login"),
                  message=_("If this address belongs to an account, a link to choose a new "
                            "password is on its way. Check your mail, also the spam folder."))
    return done or render_template("members/forgot.html", form=form)


def _token_password(token: str, purpose: str, template: str) -> Response | str:
    try:
        member = services.member_for_token(token, purpose)
    except services.BadToken as error:
        return render_template("members/bad_link.html", message=error.message), 400
    form = SetPasswordForm()

    def logged_in(member: Member) -> str:
        session.clear()
        login_user(member)
        return url_for("site.home")

    done = submit(form,
                  lambda: services.set_password_with_token(token, purpose,
                                                           form.password.data or ""),
                  success=logged_in,
                  message=_("Your password is set. You are logged in."))
    return done or render_template(template, form=form, member=member)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | str:
    return _token_password(token, "reset", "members/reset.html")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Response | str:
    return _token_password(token, "invite", "members/invitation.html")


@bp.route("/members/me/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | str:
    form = ChangePasswordForm()
    member: Member = current_user._get_current_object()

    def still_logged_in(_result: object) -> str:
        login_user(member)  # keep this session: it carries the new token
        return url_for("members.profile", code=member.account_code)

    done = submit(form,
                  lambda: services.change_password(member, form.current_password.data or "",
                                                   form.password.data or ""),
                  success=still_logged_in,
                  message=_("Your password is changed. Other devices are logged out."))
    return done or render_template("members/change_password.html", form=form)


# --- Directory and profiles ----------------------------------------------------------------


@bp.route("/members/")
@login_required
def directory() -> Response:
    form = DirectoryForm(request.args)
    form.validate()
    query = services.DirectoryQuery(
        q=(form.q.data or "") if not form.q.errors else "",
        status=(form.status.data or "") if current_user.is_admin else "",
        page=form.page.data if form.page.data and not form.page.errors else 1,
    )
    page = services.search_directory(current_user, query)
    return htmx.render(
        "members/index.html", "members/_list.html", form=form, page=page, query=query,
        line_panels=features.panels(features.DIRECTORY, page.items, current_user),
    )


@bp.route("/members/me")
@login_required
def me() -> Response:
    return see_other(url_for("members.profile", code=current_user.account_code))


def _member_or_404(code: str) -> Member:
    try:
        return services.get_by_code(code)
    except DomainError:
        abort(404)


@bp.route("/members/<code>")
def profile(code: str) -> Response | str:
    member = _member_or_404(code)
    viewer = current_user if current_user.is_authenticated else None
    if not member.can_view_profile(viewer):
        if viewer is None:
            from lets_site.extensions import login_manager

            return login_manager.unauthorized()
        abort(404)
    if member.status in (Status.CANDIDATE, Status.INACTIVE) and not (
        viewer is not None and viewer.is_admin
    ):
        abort(404)
    return render_template("members/detail.html", member=member, viewer=viewer,
                           panels=features.panels(features.PROFILE, member, viewer))


@bp.route("/members/<code>/edit", methods=["GET", "POST"])
@login_required
def edit_profile(code: str) -> Response | str:
    member = _member_or_404(code)
    if not member.can_edit(current_user):
        abort(403)
    form = EditProfileForm(obj=member)
    done = submit(form,
                  lambda: services.update_profile(current_user, member, form.profile_data(),
                                                  form.current_password.data or None),
                  success=lambda _result: url_for("members.profile",
                                                  code=member.account_code),
                  message=_("The profile is saved."))
    return done or render_template("members/form.html", form=form, member=member)


@bp.route("/members/<code>/export")
@login_required
def export(code: str) -> Response:
    member = _member_or_404(code)
    data = services.export_data(current_user, member)
    db.session.commit()
    body = json.dumps(data, ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="lets-{member.account_code or member.id}.json"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/members/me/close", methods=["GET", "POST"])
@login_required
def close_account() -> Response | str:
    form = CloseAccountForm()
    done = submit(form, lambda: services.request_closure(current_user),
                  success=lambda _result: url_for("members.profile",
                                                  code=current_user.account_code),
                  message=_("Your request is sent. The admins will settle your account and "
                            "contact you."))
    return done or render_template("members/close.html", form=form)


# --- Admin ---------------------------------------------------------------------------------


@bp.route("/admin/members/")
@admin_required
def admin_members() -> Response:
    form = DirectoryForm(request.args)
    form.validate()
    query = services.DirectoryQuery(
        q=form.q.data or "",
        status=form.status.data or "all",
        page=form.page.data if form.page.data and not form.page.errors else 1,
    )
    page = services.search_directory(current_user, query)
    return htmx.render(
        "members/admin_index.html", "members/_admin_list.html", form=form, page=page, query=query
    )


@bp.route("/admin/members/new", methods=["GET", "POST"])
@admin_required
def admin_new_member() -> Response | str:
    form = AdminMemberForm()
    if request.method == "GET":
        form.account_code.data = services.suggest_account_code(get_settings().code_prefix)
    done = submit(
        form,
        lambda: services.create_member(current_user, form.profile_data(),
                                       form.account_code.data or "",
                                       managed_by_admin=bool(form.managed_by_admin.data)),
        success=lambda member: url_for("members.admin_member", member_id=member.id),
        message=lambda member: (
            _("%(name)s is added and invited by e-mail to choose a password.",
              name=member.display_name) if member.email
            else _("%(name)s is added. Admins manage this account.",
                   name=member.display_name)),
    )
    return done or render_template("members/admin_new.html", form=form)


def _admin_target(member_id: int) -> Member:
    try:
        return services.get_by_id(member_id)
    except DomainError:
        abort(404)


@bp.route("/admin/members/<int:member_id>")
@admin_required
def admin_member(member_id: int) -> str:
    member = _admin_target(member_id)
    from lets_site.audit import services as audit

    approve = ApproveForm()
    if member.status == Status.CANDIDATE:
        approve.account_code.data = services.suggest_account_code(get_settings().code_prefix)
    return render_template(
        "members/admin_detail.html",
        member=member,
        approve_form=approve,
        status_form=StatusForm(status=member.status),
        roles_form=RolesForm(admin=member.has_role(Role.ADMIN),
                             organiser=member.has_role(Role.ORGANISER)),
        invite_form=EmptyForm(),
        history=audit.entries_about("member", member.account_code or member.id),
        panels=features.panels(features.MEMBER_ADMIN, member, current_user),
    )


def _admin_action(member_id: int, form_class: type, action: object, message: str) -> Response:
    member = _admin_target(member_id)
    form = form_class()
    back = url_for("members.admin_member", member_id=member_id)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return see_other(back)
    return act(lambda: action(member, form), back=back,  # type: ignore[operator]
               message=message)


@bp.route("/admin/members/<int:member_id>/approve", methods=["POST"])
@admin_required
def admin_approve(member_id: int) -> Response:
    return _admin_action(
        member_id,
        ApproveForm,
        lambda m, f: services.approve_candidate(current_user, m, f.account_code.data or ""),
        _("The member is approved."),
    )


@bp.route("/admin/members/<int:member_id>/status", methods=["POST"])
@admin_required
def admin_status(member_id: int) -> Response:
    return _admin_action(
        member_id,
        StatusForm,
        lambda m, f: services.set_status(current_user, m, f.status.data or ""),
        _("The status is saved."),
    )


@bp.route("/admin/members/<int:member_id>/roles", methods=["POST"])
@admin_required
def admin_roles(member_id: int) -> Response:
    return _admin_action(
        member_id,
        RolesForm,
        lambda m, f: services.set_roles(
            current_user, m,
            {Role.MEMBER} | ({Role.ADMIN} if f.admin.data else set())
            | ({Role.ORGANISER} if f.organiser.data else set())
        ),
        _("The roles are saved."),
    )


@bp.route("/admin/members/<int:member_id>/invite", methods=["POST"])
@admin_required
def admin_invite(member_id: int) -> Response:
    return _admin_action(
        member_id,
        EmptyForm,
        lambda m, f: services.invite(current_user, m),
        _("The invitation is sent."),
    )


@bp.app_template_global()
def status_label(status: str) -> str:
    from lets_site.members.forms import STATUS_LABELS

    return str(STATUS_LABELS.get(status, status))
