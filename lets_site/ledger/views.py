from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.fragments import audience, fragment
from lets_site.ledger import services
from lets_site.ledger.forms import (
    PAYEE_MAX,
    AdminBookingForm,
    ConfirmForm,
    LimitsForm,
    MassForm,
    PayForm,
    PeriodForm,
    RequestForm,
    ReverseForm,
    SettingsForm,
)
from lets_site.ledger.models import TransferKind
from lets_site.locale import spreadsheet
from lets_site.settings import reader_language
from lets_site.web import htmx
from lets_site.web.forms import choices, see_other, show_error
from lets_site.web.security import admin_required
from lets_site.web.submit import act, submit
from lets_site.web.urls import cached_url_for

bp = Blueprint("ledger", __name__)


@bp.app_context_processor
def inject() -> dict[str, Any]:
    return {"ledger_settings": services.get_settings}


@bp.app_template_filter("units")
def units_filter(value: int | None) -> str:
    """An amount with the unit in the reader's language: ``{{ balance|units }}``."""
    return services.format_units(value)


@bp.app_template_global()
def ledger_units() -> Any:
    """``units_filter`` for a table of amounts: looks up the language, the unit and the
    number format once (``{% set units = ledger_units() %}`` ... ``{{ units(value) }}``)."""
    return services.units_formatter()


@bp.app_template_global()
def ledger_transfer_path() -> str:
    """The path of a transfer's page without its uid, to be followed by one: a table of
    transfers builds one path, not one per row (uids are hex, nothing to quote)."""
    return cached_url_for("ledger.transfer", uid="0")[:-1]


@bp.app_template_global()
def ledger_holder(account: Any) -> str:
    return services.holder_name(account)


@bp.app_template_global()
def ledger_amount_text(value: int | None) -> str:
    """An amount with the unit, for sentences ("2,00 uur")."""
    return services.format_units(value)


@bp.app_template_global()
def ledger_full_name(account: Any) -> str:
    return services.full_holder_name(account)


@bp.app_template_global()
def ledger_listing_url(listing_id: int | None) -> str | None:
    """The page of the listing a transfer is for, when the offers feature serves one (the
    ledger does not import offers: it only links to it)."""
    if listing_id is None or "offers.detail" not in current_app.view_functions:
        return None
    return url_for("offers.detail", listing_id=listing_id)


@bp.app_template_global()
def ledger_limits(account: Any) -> tuple[int | None, int | None]:
    return services.limits_of(account)


def _own_accounts_choices(form_field: Any) -> list[Any]:
    accounts = services.accounts_for(current_user)
    form_field.choices = choices(
        (a.code, f"{services.holder_name(a)} ({a.code})") for a in accounts
    )
    return accounts


def _prefill(form: Any, own: Any, own_arg: str, other: Any, other_arg: str,
             accounts: list[Any]) -> None:
    """A pay or request form filled from its link (e.g. a listing's "Pay for this", or a
    name picked from the list of matches, which keeps the form's key)."""
    own.data = request.args.get(own_arg) or accounts[0].code
    other.data = request.args.get(other_arg, "")[:PAYEE_MAX]
    form.amount.data = request.args.get("amount", "")[:30]
    form.description.data = request.args.get("for", "")[:200]
    form.listing.data = request.args.get("listing", "")[:12]
    key = request.args.get("key")
    if services.is_form_key(key):
        form.key.data = key


def _fresh_key(form: Any) -> None:
    if not form.key.data:
        form.key.data = services.new_key()


def _on_field(name: str) -> Any:
    """A refusal hook: a permission refused is about the account chosen in ``name``."""

    def point(error: DomainError) -> None:
        if isinstance(error, PermissionDenied):
            error.field = name

    return point


# --- Whom to pay: by name or code ----------------------------------------------------------

# The payee field of each form: the endpoint of the form and the query argument that fills it.
PAYEE_FIELDS = {"payee": ("ledger.pay", "to"), "payer": ("ledger.new_request", "from")}


def _enhance(field: Any) -> None:
    """The payee field asks for suggestions while people type (htmx); without JavaScript
    the form's own answer lists the matches."""
    field.render_kw = {
        "autocomplete": "off",
        "hx-get": url_for("ledger.payees", field=field.name),
        "hx-trigger": "input changed delay:400ms, search",
        "hx-target": f"#{field.id}-suggestions",
        "hx-swap": "outerHTML",
        "aria-controls": f"{field.id}-suggestions",
    }


def _lookup(field: Any) -> list[services.Payee] | None:
    """None when the field holds an account code (then normalised); else the accounts
    whose name matches, with a message on the field: pick one, or nobody matches."""
    code = services.exact_code(field.data or "")
    if code is not None:
        field.data = code
        return None
    matches = services.find_payees(current_user, field.data or "")
    if matches:
        field.errors = [*field.errors, _("Choose who you mean from the list below.")]
    else:
        field.errors = [*field.errors, _('No member or organisation matches "%(text)s".',
                                         text=(field.data or "").strip())]
    return matches


def _pick_url(form: Any, fieldname: str, own_arg: str, own: Any) -> Any:
    """For the list of matches: a link per match that fills the form again, with what was
    typed and the same key."""
    endpoint, arg = PAYEE_FIELDS[fieldname]

    def url(code: str) -> str:
        values = {own_arg: own.data or "", arg: code, "amount": form.amount.data or "",
                  "for": form.description.data or "", "listing": form.listing.data or "",
                  "key": form.key.data or ""}
        return url_for(endpoint, **{k: v for k, v in values.items() if v})

    return url


@bp.route("/ledger/payees")
@login_required
def payees() -> Response:
    """Suggestions for the payee field: an htmx partial while typing; without JavaScript
    (or opened directly) a page that lists the matches, each a link to the form."""
    fieldname = request.args.get("field", "payee")
    if fieldname not in PAYEE_FIELDS:
        fieldname = "payee"
    text = (request.args.get("q") or request.args.get(fieldname) or "")[:PAYEE_MAX]
    endpoint, arg = PAYEE_FIELDS[fieldname]
    found = services.find_payees(current_user, text) if text.strip() else []
    return htmx.render("ledger/payees.html", "ledger/_payees.html", fieldname=fieldname,
                       endpoint=endpoint, arg=arg, query=text.strip(), found=found,
                       inline=htmx.wants_partial())


@bp.route("/ledger/payees/pick")
@login_required
def payee_pick() -> Response | str:
    """A suggestion picked (htmx): the payee field again, filled with the account's code
    and saying whose it is. Without JavaScript the suggestion is a plain link instead."""
    fieldname = request.args.get("field", "payee")
    if fieldname not in PAYEE_FIELDS:
        abort(404)
    endpoint = PAYEE_FIELDS[fieldname][0]
    form = (PayForm if fieldname == "payee" else RequestForm)(formdata=None)
    field = form[fieldname]
    code = services.exact_code(request.args.get("code", "")[:PAYEE_MAX])
    if code is None:
        abort(404)
    field.data = code
    _enhance(field)
    field.render_kw["autofocus"] = True
    account = services.find_account(code)
    if not htmx.wants_partial():
        return see_other(url_for(endpoint, **{PAYEE_FIELDS[fieldname][1]: code}))
    return htmx.add_vary(make_response(render_template(
        "ledger/_payee_field.html", f=field, chosen=account)))


# --- Member pages ------------------------------------------------------------------------------


@bp.route("/ledger/")
@login_required
def index() -> str:
    """The member's accounts, the requests waiting for them and their latest transfers.
    That part is the same on every request of this member until someone writes (every
    transfer, request and change of name, role, limit or setting is a write), so it is
    kept per process (lets_site/fragments.py) under the member, their account, their
    roles and the language; the generation of the shared cache empties it at the next
    commit that wrote, in any process. It holds no form (no token to renew)."""
    key = ("ledger.dashboard", current_user.id, current_user.account_code, audience(),
           str(get_locale()), request.script_root)
    return render_template("ledger/index.html", dashboard=fragment(key, _dashboard))


def _dashboard() -> str:
    accounts = services.accounts_for(current_user)
    recent = (services.recent_for(current_user, accounts[0].code) if accounts else [])
    return render_template("ledger/_dashboard.html", accounts=accounts, recent=recent,
                           pending=services.pending_for(current_user, accounts))


@bp.route("/ledger/pay", methods=["GET", "POST"])
@login_required
def pay() -> Response | str:
    """Three steps in one form: the form (its hidden ``review`` asks for the summary), the
    summary with "Confirm" (books) and "Back" (the form again, as it was typed). One key,
    made with the form, travels through all of them: a second confirmation books nothing.
    A post without ``review`` or ``back`` books at once, as the confirmation does."""
    form = PayForm()
    accounts = _own_accounts_choices(form.from_account)
    if not accounts:
        raise PermissionDenied(_("You have no account to pay from."))
    if request.method == "GET":
        _prefill(form, form.from_account, "from", form.payee, "to", accounts)
    _fresh_key(form)
    _enhance(form.payee)
    matches = None
    if request.method == "POST" and request.form.get("back"):
        return render_template("ledger/pay.html", form=form, matches=None)
    if request.method == "POST" and request.form.get("review"):
        if form.validate_on_submit():
            matches = _lookup(form.payee)
            if matches is None:
                try:
                    preview = services.preview_payment(
                        current_user, form.from_account.data or "", form.payee.data or "",
                        form.amount.data or "", form.description.data or "", form.key.data,
                        form.listing.data or None)
                except DomainError as error:
                    db.session.rollback()
                    _on_field("from_account")(error)
                    show_error(form, error)
                else:
                    return render_template("ledger/pay_confirm.html", form=form,
                                           preview=preview)
        return render_template(
            "ledger/pay.html", form=form, matches=matches,
            pick=_pick_url(form, "payee", "from", form.from_account))

    def paid(booked: services.Booked) -> tuple[str, str]:
        if booked.replayed:
            return _("This payment was already booked; it is not booked twice."), "info"
        return _("Paid %(amount)s to %(name)s.",
                 amount=services.format_units(booked.transfer.amount),
                 name=services.holder_name(booked.transfer.payee)), "success"

    done = submit(
        form,
        lambda: services.pay(current_user, form.from_account.data or "",
                             form.payee.data or "", form.amount.data or "",
                             form.description.data or "", form.key.data,
                             form.listing.data or None),
        retry=True, refused=_on_field("from_account"),
        success=lambda booked: url_for("ledger.transfer", uid=booked.transfer.uid),
        message=paid,
    )
    return done or render_template("ledger/pay.html", form=form, matches=None)


@bp.route("/ledger/transfers/<uid>")
@login_required
def transfer(uid: str) -> str:
    t = services.get_transfer(current_user, uid)
    return render_template("ledger/transfer.html", t=t, reversal=services.reversal_of(t),
                           mine=[a for a in services.accounts_for(current_user)
                                 if a.id in (t.payer_id, t.payee_id)])


@bp.route("/ledger/requests")
@login_required
def requests() -> Response:
    return htmx.render(
        "ledger/requests.html", "ledger/_pending.html",
        pending=services.pending_for(current_user), asked=services.asked_by(current_user),
        confirm_form=ConfirmForm(),
    )


@bp.route("/ledger/requests/new", methods=["GET", "POST"])
@login_required
def new_request() -> Response | str:
    form = RequestForm()
    accounts = _own_accounts_choices(form.to_account)
    if not accounts:
        raise PermissionDenied(_("You have no account to be paid on."))
    if request.method == "GET":
        _prefill(form, form.to_account, "to", form.payer, "from", accounts)
    _fresh_key(form)
    _enhance(form.payer)
    if form.validate_on_submit():
        matches = _lookup(form.payer)
        if matches is not None:
            return render_template("ledger/request_form.html", form=form, matches=matches,
                                   pick=_pick_url(form, "payer", "to", form.to_account))
    done = submit(
        form,
        lambda: services.request_payment(current_user, form.to_account.data or "",
                                         form.payer.data or "", form.amount.data or "",
                                         form.description.data or "", form.key.data,
                                         form.listing.data or None),
        refused=_on_field("to_account"),
        success=url_for("ledger.requests"),
        message=lambda req: _("Your request for %(amount)s is sent to %(name)s.",
                              amount=services.format_units(req.amount),
                              name=services.holder_name(req.payer)),
    )
    return done or render_template("ledger/request_form.html", form=form, matches=None)


def _request_action(uid: str, action: Any, done: str) -> Response:
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Try again."), "error")
        return see_other(url_for("ledger.requests"))
    back = url_for("ledger.requests")
    try:
        return act(lambda: action(current_user, uid), retry=True, propagate=(NotFound,),
                   back=back, message=done,
                   success=lambda result: (
                       url_for("ledger.transfer", uid=result.transfer.uid)
                       if isinstance(result, services.Booked) else back))
    except NotFound:
        abort(404)


@bp.route("/ledger/requests/<uid>/confirm", methods=["GET", "POST"])
@login_required
def confirm_request(uid: str) -> Response | str:
    """GET: the summary of what paying this request does, with "Confirm"; POST books it
    (once: the request's own key)."""
    if request.method == "POST":
        return _request_action(uid, services.confirm_request, _("The payment is booked."))
    try:
        req, preview = services.preview_request(current_user, uid)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        db.session.rollback()
        return render_template("ledger/request_answer.html", req=None, preview=None,
                               error=error.message, decline=False)
    return render_template("ledger/request_answer.html", req=req, preview=preview,
                           error=None, decline=False, confirm_form=ConfirmForm())


@bp.route("/ledger/requests/<uid>/decline", methods=["GET", "POST"])
@login_required
def decline_request(uid: str) -> Response | str:
    """GET asks once ("Decline this request?"); POST declines."""
    if request.method == "POST":
        return _request_action(uid, services.decline_request, _("The request is declined."))
    try:
        req = services.pending_request(current_user, uid)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        db.session.rollback()
        return render_template("ledger/request_answer.html", req=None, preview=None,
                               error=error.message, decline=True)
    return render_template("ledger/request_answer.html", req=req, preview=None, error=None,
                           decline=True, confirm_form=ConfirmForm())


@bp.route("/ledger/requests/<uid>/cancel", methods=["POST"])
@login_required
def cancel_request(uid: str) -> Response:
    return _request_action(uid, services.cancel_request, _("The request is withdrawn."))


@bp.route("/ledger/group")
@login_required
def group() -> str:
    return render_template("ledger/group.html", dist=services.distribution(current_user))


# --- Statements --------------------------------------------------------------------------------


def _period() -> tuple[PeriodForm, date | None, date | None, int]:
    form = PeriodForm(request.args)
    form.validate()
    start = form.start.data if not form.start.errors else None
    end = form.end.data if not form.end.errors else None
    page = form.page.data if form.page.data and not form.page.errors else 1
    return form, start, end, page


@bp.route("/ledger/accounts/<code>")
@login_required
def account(code: str) -> Response:
    """An account's statement. Who may see it is asked on every request; the statement
    itself (templates/ledger/_statement.html: the lines of the page asked for, the
    counts, the pager) is the same for everyone who may, until someone writes, so it is
    kept per process under the account, the query string and the language
    (lets_site/fragments.py). It holds no form."""
    form, start, end, page = _period()
    acc = services.viewable_account(current_user, code)
    key = ("ledger.statement", acc.code, request.query_string, str(get_locale()),
           request.script_root)
    kept = fragment(key, lambda: render_template(
        "ledger/_statement.html", account=acc,
        st=services.statement(current_user, acc.code, start, end, page)))
    return htmx.render(
        "ledger/account.html", "ledger/_statement_kept.html", form=form, statement=kept,
        account=acc, limits=services.limits_of(acc),
        history=services.limit_history(acc) if current_user.is_admin else [],
        can_pay=services.can_act_for(current_user, acc),
    )


# What a transfer was, in words, for the statement's CSV.
TRANSFER_KINDS = {
    TransferKind.PAYMENT: _l("payment"),
    TransferKind.REQUEST: _l("payment request"),
    TransferKind.ADMIN: _l("booking by an admin"),
    TransferKind.CONTRIBUTION: _l("contribution"),
    TransferKind.START_CREDIT: _l("start credit"),
    TransferKind.CORRECTION: _l("correction"),
}


@bp.route("/ledger/accounts/<code>/statement.csv")
@login_required
def statement_csv(code: str) -> Response:
    """The statement as a spreadsheet in the reader's language: translated headers and
    labels, the delimiter and decimal mark their spreadsheet expects (lets_site/locale.py),
    UTF-8 with a byte order mark (so Excel reads the accents)."""
    _form, start, end, _page = _period()
    acc, opening, rows = services.statement_rows(current_user, code, start, end)
    decimals = services.get_settings().decimals
    sheet = spreadsheet()
    header = [_("Date"), _("Transfer"), _("Account code"), _("With"), _("What for"),
              _("Amount"), _("Balance after"), _("Kind")]
    opening_label = _("Opening balance")
    kinds = {kind: str(label) for kind, label in TRANSFER_KINDS.items()}

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=sheet.delimiter, lineterminator="\r\n")

        def flush() -> str:
            value = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return value

        def amount(value: int) -> str:
            return sheet.number(services.plain_amount(value, decimals))

        yield "\ufeff"
        writer.writerow(header)
        writer.writerow(["", "", "", "", opening_label, "", amount(opening), ""])
        yield flush()
        for entry in rows:
            t = entry.transfer
            writer.writerow([
                format_datetime(t.created_at, "yyyy-MM-dd HH:mm"), t.uid, entry.other.code,
                sheet.text(services.holder_name(entry.other)), sheet.text(t.description),
                amount(entry.amount), amount(entry.balance_after),
                kinds.get(t.kind, t.kind),
            ])
            yield flush()

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="statement-{acc.code}.csv"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Language"] = reader_language()
    return response


@bp.route("/ledger/accounts/<code>/print")
@login_required
def statement_print(code: str) -> str:
    form, start, end, _page = _period()
    acc, opening, rows = services.statement_rows(current_user, code, start, end,
                                                 limit=services.PRINT_MAX_ROWS)
    entries = list(rows)
    return render_template("ledger/print.html", account=acc, opening=opening, entries=entries,
                           start=start, end=end, form=form,
                           truncated=len(entries) >= services.PRINT_MAX_ROWS, now=utcnow())


# --- Admin -------------------------------------------------------------------------------------


@bp.route("/admin/ledger")
@admin_required
def admin_index() -> str:
    return render_template("ledger/admin_index.html", ov=services.overview(current_user),
                           group=services.group_account())


@bp.route("/admin/ledger/settings", methods=["GET", "POST"])
@admin_required
def admin_settings() -> Response | str:
    settings = services.get_settings()
    form = SettingsForm()
    if request.method == "GET":
        form.decimals.data = settings.decimals
        form.default_min.data = services.plain_amount(settings.default_min, settings.decimals)
        form.default_max.data = services.plain_amount(settings.default_max, settings.decimals)
        form.balances_visible.data = settings.balances_visible
    done = submit(
        form,
        lambda: services.update_settings(current_user, services.SettingsData(
            decimals=int(form.decimals.data or 0), default_min=form.default_min.data or "",
            default_max=form.default_max.data or "",
            balances_visible=bool(form.balances_visible.data))),
        success=url_for("ledger.admin_index"),
        message=_("The ledger settings are saved."),
    )
    return done or render_template("ledger/admin_settings.html", form=form)


@bp.route("/admin/ledger/book", methods=["GET", "POST"])
@admin_required
def admin_book() -> Response | str:
    form = AdminBookingForm()
    if request.method == "GET":
        form.payer.data = request.args.get("from", "")[:16]
        form.payee.data = request.args.get("to", "")[:16]
    _fresh_key(form)
    done = submit(
        form,
        lambda: services.admin_book(current_user, form.payer.data or "",
                                    form.payee.data or "", form.amount.data or "",
                                    form.description.data or "", form.key.data,
                                    bool(form.allow_over_limit.data)),
        retry=True,
        success=lambda booked: url_for("ledger.transfer", uid=booked.transfer.uid),
        message=lambda booked: (
            (_("This booking was already made; it is not booked twice."), "info")
            if booked.replayed else _("The booking is made.")),
    )
    return done or render_template("ledger/admin_book.html", form=form)


@bp.route("/admin/ledger/mass", methods=["GET", "POST"])
@admin_required
def admin_mass() -> Response | str:
    form = MassForm()
    _fresh_key(form)
    plan = None
    if request.form.get("step", "preview") == "book":
        done = submit(
            form,
            lambda: services.book_mass(
                current_user, form.kind.data or "", form.amount.data or "",
                form.description.data or "", form.fingerprint.data or "", form.key.data,
                bool(form.allow_over_limit.data)),
            retry=True,
            success=url_for("ledger.admin_index"),
            message=lambda booked: (
                (_("This mass transfer was already booked (%(n)d transfers); it is "
                   "not booked twice.", n=len(booked.transfers)), "info")
                if booked.replayed
                else _("%(n)d transfers are booked.", n=len(booked.transfers))),
        )
        if done:
            return done
    elif form.validate_on_submit():
        # The preview answers with the plan on the same page, not a redirect.
        try:
            plan = services.plan_mass(current_user, form.kind.data or "",
                                      form.amount.data or "", form.description.data or "")
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            # The preview only created missing accounts; keep nothing else.
            db.session.commit()
            form.fingerprint.data = plan.fingerprint
    return render_template("ledger/admin_mass.html", form=form, plan=plan)


@bp.route("/admin/ledger/transfers/<uid>/reverse", methods=["GET", "POST"])
@admin_required
def admin_reverse(uid: str) -> Response | str:
    original = services.get_transfer(current_user, uid)
    form = ReverseForm()
    _fresh_key(form)
    done = submit(
        form,
        lambda: services.reverse(current_user, uid, form.reason.data or "", form.key.data),
        retry=True,
        success=lambda booked: url_for("ledger.transfer", uid=booked.transfer.uid),
        message=_("The correction is booked."),
    )
    return done or render_template("ledger/admin_reverse.html", form=form, t=original,
                           reversal=services.reversal_of(original))


@bp.route("/admin/ledger/accounts/<code>/limits", methods=["GET", "POST"])
@admin_required
def admin_limits(code: str) -> Response | str:
    acc = services.find_account(code)
    form = LimitsForm()
    decimals = services.get_settings().decimals
    if request.method == "GET":
        form.min_balance.data = ("" if acc.min_balance is None
                                 else services.plain_amount(acc.min_balance, decimals))
        form.max_balance.data = ("" if acc.max_balance is None
                                 else services.plain_amount(acc.max_balance, decimals))
    done = submit(
        form,
        lambda: services.set_limits(current_user, code, form.min_balance.data or "",
                                    form.max_balance.data or ""),
        success=url_for("ledger.account", code=acc.code),
        message=_("The limits are saved."),
    )
    return done or render_template("ledger/admin_limits.html", form=form, account=acc,
                           limits=services.limits_of(acc), history=services.limit_history(acc))
