"""Partners pages: the public directory and partner pages, the year's collaborations
(printable and CSV), and for coordinators the prospects board and the contact scripts."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import format_currency, format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lets_site import features
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db, login_manager
from lets_site.locale import spreadsheet
from lets_site.mail import external_url
from lets_site.partners import labels
from lets_site.partners import services as s
from lets_site.partners.forms import (
    ChoiceForm,
    CollaborationForm,
    ContactForm,
    CoordinatorForm,
    EmptyForm,
    ImportForm,
    LogForm,
    MemberPartnerForm,
    MoveForm,
    PartnerForm,
    ProspectForm,
    ScriptForm,
    ScriptValuesForm,
    SendForm,
)
from lets_site.partners.models import Prospect
from lets_site.photos import file_name
from lets_site.web import htmx
from lets_site.web.forms import see_other
from lets_site.web.security import admin_required
from lets_site.web.submit import act, submit

bp = Blueprint("partners", __name__)
T = TypeVar("T")
# Scripts of other groups listed on the scripts page at most.
SHARED_SHOWN = 200


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"partner_labels": labels, "label_of": labels.label, "euro": _euro,
            "is_partner_coordinator": _is_coordinator, "partner_logo_url": _logo_url}


def _logo_url(partner: Any) -> str:
    return url_for("partners.logo", name=file_name(partner.logo_key or "", thumb=True))


def _euro(cents: int | None) -> str:
    if cents is None:
        return ""
    return format_currency(Decimal(cents) / 100, "EUR")


def _viewer() -> Any:
    return current_user if current_user.is_authenticated else None


def _is_coordinator() -> bool:
    return s.is_coordinator(_viewer())


def _coordinator() -> Any:
    """The logged-in coordinator, else the login page (raised) or 403."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if not s.is_coordinator(current_user):
        abort(403)
    return current_user


def _found(call: Callable[[], T]) -> T:
    """A look-up; NotFound is a 404, PermissionDenied a 403 (a visitor logs in first)."""
    try:
        return call()
    except NotFound:
        abort(404)
    except PermissionDenied:
        if not current_user.is_authenticated:
            abort(login_manager.unauthorized())
        abort(403)


# --- The directory and partner pages ---------------------------------------------------------


@bp.route("/partners/")
def index() -> Response:
    sector = request.args.get("sector", "")
    sector = sector if sector in labels.SECTORS else ""
    kind = request.args.get("kind", "")
    kind = kind if kind in labels.KINDS else ""
    entries = s.directory(_viewer(), sector=sector, kind=kind)
    return htmx.render("partners/index.html", "partners/_list.html", entries=entries,
                       sector=sector, kind=kind)


@bp.route("/partners/<slug>")
def detail(slug: str) -> str:
    viewer = _viewer()
    partner, org = _found(lambda: s.find_page(slug, viewer))
    coordinator = s.is_coordinator(viewer)
    panels = []
    if org is not None:  # its live listings and anything else offered to its page
        panels += features.panels(features.ORGANISATION, org, viewer)
    if partner is not None:
        panels += features.panels(features.PARTNER, partner, viewer)
    collaborations = s.collaborations_of(partner, viewer) if partner else []
    return render_template(
        "partners/detail.html", partner=partner, org=org, coordinator=coordinator,
        contacts=partner.visible_contacts(viewer, coordinator) if partner else [],
        collaborations=collaborations,
        collaboration_events=s.events_of(collaborations, viewer),
        history=s.history_of(partner) if partner and coordinator else [],
        panels=panels, button=EmptyForm(), remove_form=ChoiceForm(),
    )


@bp.route("/partners/logos/<name>")
def logo(name: str) -> Response:
    """Logo files (lets_site/photos.py serves them): only who may see a partner with this
    logo gets it."""
    viewer = _viewer()
    return s.LOGOS.serve(name, lambda key: s.logo_audience(key, viewer))


@bp.route("/partners/new", methods=["GET", "POST"])
@login_required
def new() -> Response | str:
    actor = _coordinator()
    form = PartnerForm()
    done = submit(form, lambda: s.create_partner(actor, form.data_for_service()),
                  success=lambda p: url_for("partners.detail", slug=p.slug),
                  message=_("The partner is added."))
    return done or render_template("partners/form.html", form=form, partner=None)


@bp.route("/partners/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str) -> Response | str:
    actor = _coordinator()
    partner = _found(lambda: s.get_partner(slug))
    form = (MemberPartnerForm if partner.organisation is not None else PartnerForm)(obj=partner)
    done = submit(form, lambda: s.update_partner(actor, partner, form.data_for_service()),
                  success=url_for("partners.detail", slug=partner.slug),
                  message=_("The partner is saved."))
    return done or render_template("partners/form.html", form=form, partner=partner)


@bp.route("/partners/<slug>/adopt", methods=["POST"])
@login_required
def adopt(slug: str) -> Response:
    actor = _coordinator()
    back = url_for("partners.detail", slug=slug)
    if not EmptyForm().validate_on_submit():
        flash(_("The form has expired; try again."), "error")
        return see_other(back)
    return act(lambda: s.adopt_organisation(actor, slug), back=back,
               success=lambda p: url_for("partners.detail", slug=p.slug),
               message=_("This organisation now has a partner record: add its "
                         "collaborations and contacts."),
               propagate=(NotFound,))


@bp.route("/partners/<slug>/delete", methods=["POST"])
@login_required
def delete(slug: str) -> Response:
    actor = _coordinator()
    partner = _found(lambda: s.get_partner(slug))
    back = url_for("partners.edit", slug=slug)
    if not EmptyForm().validate_on_submit():
        flash(_("The form has expired; try again."), "error")
        return see_other(back)
    return act(lambda: s.delete_partner(actor, partner), back=back,
               success=url_for("partners.index"), message=_("The partner record is removed."))


@bp.route("/partners/<slug>/contacts", methods=["GET", "POST"])
@login_required
def contacts(slug: str) -> Response | str:
    actor = _coordinator()
    partner = _found(lambda: s.get_partner(slug))
    form = ContactForm()
    done = submit(form, lambda: s.add_contact(actor, partner, form.data_for_service()),
                  success=url_for("partners.contacts", slug=partner.slug),
                  message=_("The contact person is added."))
    return done or render_template("partners/contacts.html", form=form, partner=partner,
                                   remove_form=ChoiceForm())


@bp.route("/partners/<slug>/contacts/remove", methods=["POST"])
@login_required
def remove_contact(slug: str) -> Response:
    actor = _coordinator()
    partner = _found(lambda: s.get_partner(slug))
    form = ChoiceForm()
    back = url_for("partners.contacts", slug=partner.slug)
    contact_id = form.row() if form.validate_on_submit() else None
    if contact_id is None:
        flash(_("Nothing was removed: the form was incomplete."), "error")
        return see_other(back)
    return act(lambda: s.remove_contact(actor, partner, contact_id), back=back,
               message=_("The contact person is removed."))


@bp.route("/partners/<slug>/collaborations/new", methods=["GET", "POST"])
@login_required
def new_collaboration(slug: str) -> Response | str:
    actor = _coordinator()
    partner = _found(lambda: s.get_partner(slug))
    form = CollaborationForm()
    form.set_events(s.event_choices(actor), format_date)
    done = submit(form,
                  lambda: s.add_collaboration(actor, partner, form.data_for_service()),
                  success=url_for("partners.detail", slug=partner.slug),
                  message=_("The collaboration is recorded."))
    return done or render_template("partners/collaboration_form.html", form=form,
                                   partner=partner, item=None)


@bp.route("/partners/<slug>/collaborations/<int:collaboration_id>/edit",
          methods=["GET", "POST"])
@login_required
def edit_collaboration(slug: str, collaboration_id: int) -> Response | str:
    actor = _coordinator()
    partner = _found(lambda: s.get_partner(slug))
    item = _found(lambda: s.get_collaboration(partner, collaboration_id))
    form = CollaborationForm(obj=item)
    form.set_events(s.event_choices(actor, item.event_id), format_date)
    if request.method == "GET":
        form.event_id.data = str(item.event_id or "")
        form.support.data = item.supports
        form.amount.data = (Decimal(item.amount_cents).scaleb(-2)
                            if item.amount_cents is not None else None)
    done = submit(form, lambda: s.update_collaboration(actor, item, form.data_for_service()),
                  success=url_for("partners.detail", slug=partner.slug),
                  message=_("The collaboration is saved."))
    return done or render_template("partners/collaboration_form.html", form=form,
                                   partner=partner, item=item, button=EmptyForm())


@bp.route("/partners/<slug>/collaborations/<int:collaboration_id>/delete", methods=["POST"])
@login_required
def delete_collaboration(slug: str, collaboration_id: int) -> Response:
    actor = _coordinator()
    partner = _found(lambda: s.get_partner(slug))
    item = _found(lambda: s.get_collaboration(partner, collaboration_id))
    back = url_for("partners.edit_collaboration", slug=slug, collaboration_id=item.id)
    if not EmptyForm().validate_on_submit():
        flash(_("The form has expired; try again."), "error")
        return see_other(back)
    return act(lambda: s.delete_collaboration(actor, item), back=back,
               success=url_for("partners.detail", slug=slug),
               message=_("The collaboration is removed."))


# --- Our collaborations in a year ------------------------------------------------------------


def _year(years: list[int]) -> int:
    text = (request.args.get("year") or "").strip()
    if text.isascii() and text.isdigit() and len(text) == 4:
        return int(text)
    return years[0] if years else s.today().year


@bp.route("/partners/collaborations")
def collaborations() -> str:
    viewer = _viewer()
    years = s.collaboration_years(viewer)
    report = s.year_report(viewer, _year(years))
    return render_template("partners/collaborations.html", report=report, years=years,
                           now=datetime.now(UTC))


@bp.route("/partners/collaborations.csv")
def collaborations_csv() -> Response:
    """The year's collaborations as a spreadsheet in the reader's language: translated
    headers, the delimiter and decimal mark their spreadsheet expects (lets_site/locale.py),
    UTF-8 with a byte order mark, like the ledger's statement."""
    viewer = _viewer()
    years = s.collaboration_years(viewer)
    report = s.year_report(viewer, _year(years))
    sheet = spreadsheet()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sheet.delimiter, lineterminator="\r\n")
    writer.writerow([_("Date"), _("Partner"), _("What we did together"),
                     _("Support we received"), _("Amount in euro"), _("Visitors"),
                     _("Open to non-members"), _("Details"), _("Event")])
    for item in report.items:
        event = report.events.get(item.event_id) if item.event_id else None
        writer.writerow([
            item.happened_on.isoformat(), sheet.text(item.partner.title),
            sheet.text(item.title),
            ", ".join(labels.label(labels.SUPPORT, v) for v in item.supports),
            sheet.number(s.euros(item.amount_cents)),
            "" if item.visitors is None else str(item.visitors),
            _("yes") if item.open_to_non_members else _("no"),
            sheet.text(" ".join(item.description.split())),
            sheet.text(event.title) if event else "",
        ])
    body = "\ufeff" + buffer.getvalue()
    response = make_response(body)
    response.mimetype = "text/csv"
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="collaborations-{report.year}.csv"')
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Cookie")
    response.vary.add("Accept-Language")
    return response


# --- The prospects pipeline ------------------------------------------------------------------


def _board_context(actor: Any) -> dict[str, Any]:
    return {"columns": s.board(actor), "today": s.today(), "move_form": MoveForm()}


@bp.route("/partners/prospects")
@login_required
def prospects() -> Response:
    actor = _coordinator()
    return htmx.render("partners/prospects.html", "partners/_board.html",
                       **_board_context(actor))


@bp.route("/partners/prospects/new", methods=["GET", "POST"])
@login_required
def new_prospect() -> Response | str:
    actor = _coordinator()
    form = ProspectForm()
    form.set_owners(s.owner_choices())
    done = submit(form, lambda: s.create_prospect(actor, form.data_for_service()),
                  success=lambda p: url_for("partners.prospect", prospect_id=p.id),
                  message=_("The prospect is on the board."))
    return done or render_template("partners/prospect_form.html", form=form, prospect=None)


def _prospect(actor: Any, prospect_id: int) -> Prospect:
    return _found(lambda: s.get_prospect(actor, prospect_id))


@bp.route("/partners/prospects/<int:prospect_id>", methods=["GET", "POST"])
@login_required
def prospect(prospect_id: int) -> Response | str:
    """The prospect, its history and the form that logs a contact (it posts here)."""
    actor = _coordinator()
    item = _prospect(actor, prospect_id)
    form = LogForm()
    if request.method == "GET":
        form.happened_on.data = s.today()
    done = submit(form, lambda: s.log_contact(actor, item, form.data_for_service()),
                  success=url_for("partners.prospect", prospect_id=item.id),
                  message=_("The contact is logged."))
    return done or render_template(
        "partners/prospect.html", prospect=item, form=form, move_form=MoveForm(),
        scripts=s.scripts(actor), today=s.today())


@bp.route("/partners/prospects/<int:prospect_id>/edit", methods=["GET", "POST"])
@login_required
def edit_prospect(prospect_id: int) -> Response | str:
    actor = _coordinator()
    item = _prospect(actor, prospect_id)
    form = ProspectForm(obj=item)
    form.set_owners(s.owner_choices())
    if request.method == "GET":
        form.owner_id.data = str(item.owner_id or "")
    done = submit(form, lambda: s.update_prospect(actor, item, form.data_for_service()),
                  success=url_for("partners.prospect", prospect_id=item.id),
                  message=_("The prospect is saved."))
    return done or render_template("partners/prospect_form.html", form=form, prospect=item)


@bp.route("/partners/prospects/<int:prospect_id>/move", methods=["POST"])
@login_required
def move(prospect_id: int) -> Response:
    """Move a card. Without JavaScript: 303 back to the board (or the prospect). With htmx:
    the board again, in place, with the outcome in it."""
    actor = _coordinator()
    item = _prospect(actor, prospect_id)
    form = MoveForm()
    back = (url_for("partners.prospect", prospect_id=item.id)
            if request.form.get("back") == "prospect" else url_for("partners.prospects"))
    if not form.validate_on_submit():
        message, ok = _("The form has expired; try again."), False
    else:
        try:
            s.move_prospect(actor, item, form.status.data or "")
        except DomainError as error:
            db.session.rollback()
            message, ok = str(error.message), False
        else:
            db.session.commit()
            status = labels.label(labels.STATUSES, item.status)
            message, ok = _("%(name)s moved to \u201c%(status)s\u201d.", name=item.name,
                            status=status), True
            if item.partner is not None and item.status == "partner":
                message += " " + _("Its partner record is ready; it is shown to members "
                                   "until you make it public.")
    if htmx.wants_partial():
        return htmx.render("partners/prospects.html", "partners/_board.html",
                           outcome=(message, ok), **_board_context(actor))
    flash(message, "success" if ok else "error")
    return htmx.add_vary(see_other(back))


@bp.route("/partners/prospects/<int:prospect_id>/scripts/<int:script_id>")
@login_required
def script_for(prospect_id: int, script_id: int) -> str:
    """The script filled in for the prospect: copy it, print it, or send it."""
    actor = _coordinator()
    item = _prospect(actor, prospect_id)
    script = _found(lambda: s.get_script(actor, script_id))
    rendered = s.render_script(actor, script, item)
    form = SendForm()
    form.script_id.data = str(script.id)
    return render_template("partners/script_for.html", prospect=item, script=script,
                           rendered=rendered, form=form,
                           unknown_text=", ".join("{" + n + "}" for n in rendered.unknown))


@bp.route("/partners/prospects/<int:prospect_id>/send", methods=["POST"])
@login_required
def send(prospect_id: int) -> Response:
    actor = _coordinator()
    item = _prospect(actor, prospect_id)
    form = SendForm()
    value = form.script_id.data or ""
    if not (form.validate_on_submit() and value.isascii() and value.isdigit()
            and len(value) < 10):
        flash(_("Nothing was sent: the form was incomplete."), "error")
        return see_other(url_for("partners.prospect", prospect_id=item.id))
    script = _found(lambda: s.get_script(actor, int(value)))
    return act(lambda: s.send_script(actor, item, script),
               back=url_for("partners.script_for", prospect_id=item.id, script_id=script.id),
               success=url_for("partners.prospect", prospect_id=item.id),
               message=_("The e-mail is sent to %(address)s and logged.",
                         address=item.contact_email))


# --- Contact scripts -------------------------------------------------------------------------


@bp.route("/partners/scripts")
@login_required
def scripts() -> str:
    actor = _coordinator()
    values = s.script_values()
    return _scripts_page(actor, values_form=ScriptValuesForm(obj=values),
                         import_form=ImportForm())


def _scripts_page(actor: Any, **forms: Any) -> str:
    """The scripts page, with the scripts other groups share (``features.SHARED_SCRIPTS``:
    the federation holds them; partners never imports it) to import with one click."""
    others = features.coming_subjects(features.SHARED_SCRIPTS, actor, "",
                                      limit=SHARED_SHOWN)
    return render_template("partners/scripts.html", scripts=s.scripts(actor),
                           placeholders=s.PLACEHOLDERS, others=others,
                           problems={o.ref: s.can_import(o) for o in others},
                           button=EmptyForm(), **forms)


@bp.route("/partners/scripts/values", methods=["POST"])
@login_required
def script_values() -> Response | str:
    actor = _coordinator()
    form = ScriptValuesForm()
    done = submit(form, lambda: s.set_script_values(actor, form.our_offer.data or "",
                                                    form.next_intro_evening.data or ""),
                  success=url_for("partners.scripts"), message=_("The values are saved."))
    return done or _scripts_page(actor, values_form=form, import_form=ImportForm())


@bp.route("/partners/scripts/new", methods=["GET", "POST"])
@login_required
def new_script() -> Response | str:
    actor = _coordinator()
    form = ScriptForm()
    done = submit(form, lambda: s.create_script(actor, form.data_for_service()),
                  success=url_for("partners.scripts"), message=_("The script is saved."))
    return done or render_template("partners/script_form.html", form=form, script=None)


@bp.route("/partners/scripts/<int:script_id>/edit", methods=["GET", "POST"])
@login_required
def edit_script(script_id: int) -> Response | str:
    actor = _coordinator()
    script = _found(lambda: s.get_script(actor, script_id))
    form = ScriptForm(obj=script)
    done = submit(form, lambda: s.update_script(actor, script, form.data_for_service()),
                  success=url_for("partners.scripts"), message=_("The script is saved."))
    return done or render_template("partners/script_form.html", form=form, script=script,
                                   button=EmptyForm())


@bp.route("/partners/scripts/<int:script_id>/delete", methods=["POST"])
@login_required
def delete_script(script_id: int) -> Response:
    actor = _coordinator()
    script = _found(lambda: s.get_script(actor, script_id))
    back = url_for("partners.edit_script", script_id=script.id)
    if not EmptyForm().validate_on_submit():
        flash(_("The form has expired; try again."), "error")
        return see_other(back)
    return act(lambda: s.delete_script(actor, script), back=back,
               success=url_for("partners.scripts"), message=_("The script is removed."))


@bp.route("/partners/scripts/export.json")
@login_required
def export_scripts() -> Response:
    actor = _coordinator()
    body = json.dumps(s.export_scripts(actor), ensure_ascii=False, indent=2)
    response = make_response(body)
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = 'attachment; filename="contact-scripts.json"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/partners/scripts/import", methods=["POST"])
@login_required
def import_scripts() -> Response | str:
    actor = _coordinator()
    form = ImportForm()
    upload = form.file.data

    def run() -> s.ImportReport:
        if upload is None or not getattr(upload, "filename", ""):
            raise DomainError(_("Choose a file."), field="file")
        return s.import_scripts(actor, upload.stream.read(s.IMPORT_MAX_BYTES + 1))

    def message(report: s.ImportReport) -> str:
        text = _("%(n)d scripts added.", n=len(report.added))
        if report.skipped:
            text += " " + _("Skipped, because a script with the same title and language "
                            "exists: %(titles)s.", titles=", ".join(report.skipped))
        return text

    done = submit(form, run, success=url_for("partners.scripts"), message=message)
    return done or _scripts_page(actor, values_form=ScriptValuesForm(obj=s.script_values()),
                                 import_form=form)


@bp.route("/partners/scripts/shared.json")
def shared_scripts() -> Response:
    """The scripts this group shares with other LETS groups, public: the export's format,
    absolute URLs from BASE_URL, conditional GET (docs/partners.md)."""
    document = s.shared_document(external_url("site.home"),
                                 external_url("partners.shared_scripts"))
    body = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True).encode()
    response = Response(body, content_type="application/json; charset=utf-8")
    response.set_etag(hashlib.sha256(body).hexdigest(), weak=False)
    changed = s.shared_changed_at()
    if changed is not None:
        response.last_modified = changed.replace(microsecond=0)
    response.headers["Cache-Control"] = "public, max-age=900"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Accept-Encoding")
    return response.make_conditional(request)


@bp.route("/partners/scripts/shared/<ref>/import", methods=["POST"])
@login_required
def import_shared(ref: str) -> Response:
    """Import one script another group shares: one click, 303 back with a message."""
    actor = _coordinator()
    back = url_for("partners.scripts")
    if not EmptyForm().validate_on_submit():
        flash(_("The form has expired; try again."), "error")
        return see_other(back)
    return act(lambda: s.import_shared(actor, ref[:80]), back=back,
               message=lambda script: _("%(title)s is imported: it is one of your scripts "
                                        "now.", title=script.title))


# --- The coordinator role (admins) -----------------------------------------------------------


@bp.route("/admin/partners/coordinators", methods=["GET", "POST"])
@admin_required
def coordinators() -> Response | str:
    form = CoordinatorForm()
    done = submit(form, lambda: s.grant_coordinator(current_user, form.account_code.data or ""),
                  success=url_for("partners.coordinators"),
                  message=lambda m: _("%(name)s is a partner coordinator now.",
                                      name=m.display_name))
    return done or render_template("partners/coordinators.html", form=form,
                                   coordinators=s.coordinators(), remove_form=ChoiceForm())


@bp.route("/admin/partners/coordinators/remove", methods=["POST"])
@admin_required
def remove_coordinator() -> Response:
    form = ChoiceForm()
    back = url_for("partners.coordinators")
    member_id = form.row() if form.validate_on_submit() else None
    if member_id is None:
        flash(_("Nothing was removed: the form was incomplete."), "error")
        return see_other(back)
    return act(lambda: s.revoke_coordinator(current_user, member_id), back=back,
               message=_("The partner coordinator role is taken away."))

