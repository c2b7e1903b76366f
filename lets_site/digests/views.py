"""Digest pages: the signed-link page (change the frequency or unsubscribe without
logging in), RFC 8058's one-click unsubscribe, a member's own choice, the admins' default
and the paper lists."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, Response, abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from lets_site.digests import services
from lets_site.digests.forms import (
    DefaultFrequencyForm,
    FrequencyForm,
    PaperDigestForm,
    PaperForm,
)
from lets_site.domain import DomainError, PermissionDenied
from lets_site.extensions import csrf, db
from lets_site.members.models import Member
from lets_site.settings import reader_language, zone
from lets_site.web.forms import see_other
from lets_site.web.pagecache import no_page_cache
from lets_site.web.security import admin_required
from lets_site.web.submit import act, submit

bp = Blueprint("digests", __name__)

# How far back the paper digests reach unless the admin chooses a date.
PAPER_DAYS = 31


def _invalid(error: DomainError) -> tuple[str, int]:
    return render_template("digests/invalid.html", message=error.message), 400


@bp.route("/digest/unsubscribe/<token>", methods=["GET"])
@no_page_cache
def manage(token: str) -> Response | str | tuple[str, int]:
    """The page a digest links to: shows the choice; a GET changes nothing."""
    try:
        member = services.member_for_token(token)
    except services.InvalidLink as error:
        return _invalid(error)
    form = FrequencyForm(data={"frequency": services.frequency_of(member)})
    return render_template("digests/manage.html", form=form, member=member, token=token)


@bp.route("/digest/unsubscribe/<token>", methods=["POST"])
@csrf.exempt
def one_click(token: str) -> tuple[str, int]:
    """RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" here, with no session
    or CSRF token; the signed link alone says who. Only this endpoint is exempt."""
    try:
        member = services.member_for_token(token)
    except services.InvalidLink as error:
        return _invalid(error)
    services.set_frequency(member, services.Frequency.NEVER)
    db.session.commit()
    return render_template("digests/unsubscribed.html", member=member, token=token), 200


@bp.route("/digest/preferences/<token>", methods=["POST"])
def change(token: str) -> Response | str | tuple[str, int]:
    try:
        member = services.member_for_token(token)
    except services.InvalidLink as error:
        return _invalid(error)
    form = FrequencyForm()
    done = submit(form, lambda: services.set_frequency(member, form.frequency.data or ""),
                  success=url_for("digests.manage", token=token),
                  message=_("Your digest choice is saved."))
    return done or render_template("digests/manage.html", form=form, member=member,
                                   token=token)


@bp.route("/digest/member/<int:member_id>", methods=["POST"])
@login_required
def member_choice(member_id: int) -> Response:
    """The profile panel's form: the member (or an admin) changes the frequency."""
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    back = url_for("members.profile", code=member.account_code) if member.account_code \
        else url_for("digests.admin")
    form = FrequencyForm()
    if not form.validate_on_submit():
        flash(_("Choose weekly, monthly or never."), "error")
        return see_other(back)
    return act(lambda: services.set_frequency(member, form.frequency.data or "",
                                              actor=current_user),
               back=back, message=_("Your digest choice is saved."),
               propagate=(PermissionDenied,))


@bp.route("/admin/digest", methods=["GET", "POST"])
@admin_required
def admin() -> Response | str:
    settings = services.digest_settings()
    form = DefaultFrequencyForm(data={"frequency": settings.default_frequency}
                                if request.method == "GET" else None)
    done = submit(form, lambda: services.set_default_frequency(current_user,
                                                               form.frequency.data or ""),
                  success=url_for("digests.admin"),
                  message=_("The group's digest default is saved."))
    return done or render_template("digests/admin.html", form=form,
                                   paper_count=len(services.paper_members()))


@bp.route("/admin/digest/paper")
@admin_required
def paper() -> str:
    """The printable "vraag en aanbod"."""
    form = PaperForm(request.args)
    audience = form.audience.data if form.audience.data in ("members", "public") else "members"
    members_list = audience == "members"
    lang = reader_language()
    return render_template("digests/paper.html", form=form, members_list=members_list,
                           categories=services.market(members_list, lang),
                           events=services.next_events(members_list),
                           printed=datetime.now(UTC))


@bp.route("/admin/digest/paper/digests")
@admin_required
def paper_digests() -> str:
    """The personal digests of members without e-mail, one per printed page."""
    form = PaperDigestForm(request.args)
    if not request.args.get("since") or not form.validate() or form.since.data is None:
        since_day = (datetime.now(zone()) - timedelta(days=PAPER_DAYS)).date()
        form = PaperDigestForm(data={"since": since_day})
    since_day = form.since.data
    since = datetime.combine(since_day, time.min, tzinfo=zone()).astimezone(UTC)
    return render_template("digests/paper_digests.html", form=form, since=since,
                           digests=services.paper_digests(current_user, since))


def profile_panel(member: Member, viewer: Member | None) -> dict[str, object] | None:
    """On a profile, for the member and admins: the digest's frequency and its form."""
    if viewer is None or not member.can_edit(viewer) or member.status not in \
            services.LIVE_STATUSES:
        return None
    pref = db.session.scalar(select(services.DigestPreference).where(
        services.DigestPreference.member_id == member.id))
    frequency = services.frequency_of(member, pref)
    return {"member": member, "form": FrequencyForm(data={"frequency": frequency},
                                                    formdata=None),
            "own": pref is not None and pref.frequency is not None,
            "has_email": bool(member.email)}
