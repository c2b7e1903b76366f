"""The events board's pages: thin views (validate, one service call, commit, 303)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lets_site import features
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.events import ical, services
from lets_site.events.forms import (
    KIND_LABELS,
    STATUS_LABELS,
    AttendanceForm,
    EmptyForm,
    EventForm,
    GuestForm,
    NewEventForm,
    StatusForm,
    form_defaults,
)
from lets_site.events.models import Event, RegState, may_organise
from lets_site.extensions import db, login_manager
from lets_site.ledger import services as ledger
from lets_site.mail import external_url
from lets_site.settings import get_settings, zone
from lets_site.web import htmx
from lets_site.web.forms import see_other
from lets_site.web.submit import act, submit

bp = Blueprint("events", __name__)

CALENDAR_TYPE = "text/calendar; charset=utf-8"
T = TypeVar("T")


def _viewer() -> object | None:
    return current_user if current_user.is_authenticated else None


@bp.app_context_processor
def _inject() -> dict[str, object]:
    return {"event_kind_labels": KIND_LABELS, "event_status_labels": STATUS_LABELS,
            "now_utc": utcnow, "timedelta_day": timedelta(days=1),
            "may_organise_events": may_organise}


def _event(event_id: int) -> Event:
    """The event, or the login page for a visitor on a members-only event."""
    try:
        return services.get_event(event_id, _viewer())  # type: ignore[arg-type]
    except PermissionDenied:
        if not current_user.is_authenticated:
            abort(login_manager.unauthorized())
        raise


def _list_context() -> dict[str, object]:
    return {"kinds": KIND_LABELS,
            "partners": services.partner_options(_viewer())}  # type: ignore[arg-type]


def _partner_choices(form: EventForm) -> None:
    form.partners.choices = [(p.id, p.title) for p in services.partner_choices(current_user)]


# --- Lists ---------------------------------------------------------------------------------


@bp.route("/events/")
def index() -> Response:
    filters = services.clear_filters(request.args)
    page = services.upcoming(_viewer(), filters)  # type: ignore[arg-type]
    today = date.today()
    return htmx.render("events/index.html", "events/_list.html", page=page, filters=filters,
                       which="upcoming", today=today, **_list_context(),
                       # What other features show under the list (federation: the
                       # neighbouring groups' coming events); not for an in-page update.
                       panels=[] if htmx.wants_partial() else
                       features.panels(features.EVENTS, None, _viewer()))


@bp.route("/events/past")
def past() -> Response:
    filters = services.clear_filters(request.args)
    page = services.past(_viewer(), filters)  # type: ignore[arg-type]
    return htmx.render("events/index.html", "events/_list.html", page=page, filters=filters,
                       which="past", today=date.today(), **_list_context())


@bp.route("/events/month/<int(fixed_digits=4):year>-<int(fixed_digits=2):month>")
def month(year: int, month: int) -> Response:
    if not 1 <= month <= 12 or not 1900 <= year <= 9999:
        abort(404)
    filters = services.clear_filters(request.args)
    days = services.month(_viewer(), year, month, filters)  # type: ignore[arg-type]
    prev_month = (year, month - 1) if month > 1 else (year - 1, 12)
    next_month = (year, month + 1) if month < 12 else (year + 1, 1)
    return htmx.render("events/month.html", "events/_month.html", days=days,
                       first=date(year, month, 1), prev_month=prev_month,
                       next_month=next_month, filters=filters, **_list_context())


@bp.route("/events/month")
def this_month() -> Response:
    today = date.today()
    return see_other(url_for("events.month", year=today.year, month=today.month))


@bp.route("/events/mine")
@login_required
def mine() -> str:
    return render_template("events/mine.html",
                           registrations=services.my_registrations(current_user),
                           feed_url=None, reset_form=EmptyForm())


@bp.route("/events/feed", methods=["POST"])
@login_required
def feed_address() -> Response | str:
    """Show (making it at first use) or reset the member's private feed address."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    reset = request.form.get("reset") == "1"
    token = (services.reset_feed_token(current_user) if reset
             else services.feed_token(current_user))
    db.session.commit()
    return render_template("events/mine.html",
                           registrations=services.my_registrations(current_user),
                           feed_url=external_url("events.private_feed", token=token),
                           reset_form=EmptyForm(), was_reset=reset)


# --- One event -----------------------------------------------------------------------------


def _detail_context(event: Event) -> dict[str, object]:
    viewer = _viewer()
    registered, waiting = services.counts(event)
    reg = services.registration_of(viewer, event)  # type: ignore[arg-type]
    return {
        "event": event, "registration": reg,
        "position": (services.waiting_position(reg)
                     if reg is not None and reg.state == RegState.WAITING else None),
        "registered": registered, "waiting": waiting,
        "places_left": (max(0, event.capacity - registered)
                        if event.capacity is not None else None),
        "button": EmptyForm(), "price": _price(event),
        "can_edit": event.can_edit(viewer),  # type: ignore[arg-type]
        "open": event.registration_open(),
    }


def _price(event: Event) -> str:
    if event.price_amount is None:
        return _("Free")
    if event.price_kind == "units":
        return ledger.format_units(event.price_amount)
    from flask_babel import format_currency

    return format_currency(event.price_amount / 100, "EUR")


@bp.route("/events/<int:event_id>")
def detail(event_id: int) -> str:
    event = _event(event_id)
    guest = GuestForm()
    return render_template("events/detail.html", guest=guest,
                           status_form=StatusForm(status=event.status),
                           og_url=external_url("events.detail", event_id=event.id),
                           # What other features offer this page (partners: the
                           # collaborations the event came from; books: the books
                           # brought to a book swap).
                           panels=features.panels(features.EVENT, event, _viewer()),
                           **_detail_context(event))


def _register_partial(event_id: int, notice: tuple[str, str]) -> Response:
    event = services.get_event(event_id, _viewer())  # type: ignore[arg-type]
    return make_response(render_template("events/_register.html", notice=notice,
                                          **_detail_context(event)))


@bp.route("/events/<int:event_id>/register", methods=["POST"])
@login_required
def register(event_id: int) -> Response:
    event = _event(event_id)
    back = url_for("events.detail", event_id=event.id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _act_or_partial(
        lambda: services.register(current_user, event), back,
        lambda r: (_("The list is full: you are on the waiting list.") if r.waiting
                   else _("You are registered.")), event.id)


@bp.route("/events/<int:event_id>/unregister", methods=["POST"])
@login_required
def unregister(event_id: int) -> Response:
    event = _event(event_id)
    back = url_for("events.detail", event_id=event.id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _act_or_partial(lambda: services.unregister(current_user, event), back,
                           lambda _r: _("You are no longer registered."), event.id)


def _act_or_partial(action: Callable[[], T], back: str, message: Callable[[T], str],
                    event_id: int) -> Response:
    """A button that htmx enhances: its partial in place for htmx (with the outcome in
    it), else 303 and a flash. A refusal is flashed (without JavaScript) or shown in the
    partial (with htmx)."""
    if htmx.wants_partial():
        try:
            result = action()
        except DomainError as error:
            db.session.rollback()
            if isinstance(error, (PermissionDenied, NotFound)):
                raise
            return htmx.add_vary(_register_partial(event_id, ("error", str(error.message))))
        db.session.commit()
        return htmx.add_vary(_register_partial(event_id, ("success", message(result))))
    return act(action, back=back, message=message, propagate=(PermissionDenied, NotFound))


@bp.route("/events/<int:event_id>/guest", methods=["POST"])
def guest(event_id: int) -> Response | str:
    event = _event(event_id)
    form = GuestForm()
    back = url_for("events.detail", event_id=event.id)
    if form.validate_on_submit() and (form.website.data or "").strip():
        # A robot filled the hidden field: answer as if it worked, store nothing.
        return see_other(url_for("events.guest_sent", event_id=event.id))
    done = submit(form, lambda: services.register_guest(
        event, form.name.data or "", form.email.data or "",
        services.client_hash((request.remote_addr or "")[:64])),
        success=url_for("events.guest_sent", event_id=event.id))
    if done:
        return done
    return render_template("events/detail.html", guest=form,
                           status_form=StatusForm(status=event.status),
                           panels=features.panels(features.EVENT, event, _viewer()),
                           og_url=external_url("events.detail", event_id=event.id),
                           guest_back=back, **_detail_context(event))


@bp.route("/events/<int:event_id>/guest/sent")
def guest_sent(event_id: int) -> str:
    event = _event(event_id)
    return render_template("events/guest_sent.html", event=event)


@bp.route("/events/confirm/<token>", methods=["GET", "POST"])
def guest_confirm(token: str) -> Response | str:
    """The mailed link shows a button (mail scanners follow links; only the button
    confirms)."""
    reg = services.guest_by_token(token)
    form = EmptyForm()
    if request.method == "POST":
        done = submit(form, lambda: services.confirm_guest(token),
                      success=url_for("events.guest_confirm", token=token),
                      message=lambda r: (_("The event is full: you are on the waiting list. "
                                           "We write when a place frees up.") if r.waiting
                                         else _("Your registration is confirmed.")))
        if done:
            return done
    return render_template("events/guest_link.html", reg=reg, form=form, token=token,
                           action="confirm")


@bp.route("/events/cancel/<token>", methods=["GET", "POST"])
def guest_cancel(token: str) -> Response | str:
    reg = services.guest_by_token(token)
    form = EmptyForm()
    if request.method == "POST":
        done = submit(form, lambda: services.cancel_guest(token),
                      success=url_for("events.guest_cancel", token=token),
                      message=_("Your registration is cancelled."))
        if done:
            return done
    return render_template("events/guest_link.html", reg=reg, form=form, token=token,
                           action="cancel")


# --- Organisers -----------------------------------------------------------------------------


def _may_edit(event: Event) -> None:
    if not event.can_edit(current_user):
        raise PermissionDenied(_("Only the organisers and admins edit this event."))


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new() -> Response | str:
    if not may_organise(current_user):
        raise PermissionDenied(_("Only organisers and admins create events."))
    form = NewEventForm()
    _partner_choices(form)
    done = submit(form, lambda: services.create_event(
        current_user, form.event_data(), form.repeat.data or "", form.count.data or 1),
        success=lambda e: url_for("events.detail", event_id=e.id),
        message=_("The event is on the board."))
    return done or render_template("events/form.html", form=form, event=None,
                                   unit=get_settings().unit_name)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int) -> Response | str:
    event = _event(event_id)
    _may_edit(event)
    if request.method == "POST":
        form = EventForm()
    else:
        form = EventForm(data=form_defaults(event, zone(), ledger.get_settings().decimals))
    _partner_choices(form)
    done = submit(form, lambda: services.update_event(current_user, event, form.event_data()),
                  success=url_for("events.detail", event_id=event.id),
                  message=_("The event is saved."))
    return done or render_template("events/form.html", form=form, event=event,
                                   unit=get_settings().unit_name)


@bp.route("/events/<int:event_id>/status", methods=["POST"])
@login_required
def status(event_id: int) -> Response:
    event = _event(event_id)
    form = StatusForm()
    back = url_for("events.detail", event_id=event.id)
    if not form.validate_on_submit():
        abort(400)
    return act(lambda: services.set_status(current_user, event, form.status.data or ""),
               back=back, message=_("The status is saved."),
               propagate=(PermissionDenied, NotFound))


@bp.route("/events/<int:event_id>/registrants")
@login_required
def registrants(event_id: int) -> str:
    event = _event(event_id)
    regs = services.registrants(current_user, event)
    return render_template("events/registrants.html", event=event, regs=regs,
                           button=EmptyForm(), price=_price(event))


@bp.route("/events/<int:event_id>/sign-in")
@login_required
def sign_in_sheet(event_id: int) -> str:
    event = _event(event_id)
    regs = [r for r in services.registrants(current_user, event)
            if r.state == RegState.REGISTERED]
    return render_template("events/sign_in.html", event=event, regs=regs)


@bp.route("/events/<int:event_id>/registrants.csv")
@login_required
def registrants_csv(event_id: int) -> Response:
    event = _event(event_id)
    regs = services.registrants(current_user, event)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Name"), _("Account"), _("E-mail"), _("State"), _("Position"),
                     _("Attended")])
    for r in regs:
        writer.writerow([_cell(r.who), r.member.account_code if r.member else "",
                         _cell(r.email or ""), r.state, r.position,
                         "yes" if r.attended else ""])
    response = make_response(out.getvalue())
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = f'attachment; filename="event-{event.id}.csv"'
    return response


def _cell(text: str) -> str:
    """No formula injection in a spreadsheet: a cell never starts with = + - @."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/events/<int:event_id>/attendance", methods=["POST"])
@login_required
def attendance(event_id: int) -> Response:
    event = _event(event_id)
    form = AttendanceForm()
    back = url_for("events.registrants", event_id=event.id)
    if not form.validate_on_submit():
        abort(400)
    return act(lambda: services.set_attended(current_user, event, form.registration.data or 0,
                                             bool(form.attended.data)),
               back=back, message=_("Attendance is saved."), retry=True,
               propagate=(PermissionDenied, NotFound))


@bp.route("/events/<int:event_id>/registrants/<int:registration_id>/remove", methods=["POST"])
@login_required
def remove_registration(event_id: int, registration_id: int) -> Response:
    event = _event(event_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return act(lambda: services.unregister_as_organiser(current_user, event, registration_id),
               back=url_for("events.registrants", event_id=event.id),
               message=_("The registration is removed."),
               propagate=(PermissionDenied, NotFound))


# --- Calendar feeds -------------------------------------------------------------------------


def _calendar(events: list[Event], name: str) -> Response:
    body = ical.calendar(((e, external_url("events.detail", event_id=e.id)) for e in events),
                         zone(), name, str(current_app.config["BASE_URL"]))
    response = make_response(body)
    response.headers["Content-Type"] = CALENDAR_TYPE
    return response


@bp.route("/events/<int:event_id>.ics")
def event_ics(event_id: int) -> Response:
    event = _event(event_id)
    response = _calendar([event], event.title)
    response.headers["Content-Disposition"] = f'attachment; filename="event-{event.id}.ics"'
    if not event.is_public:
        response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/events.ics")
def feed() -> Response:
    return _calendar(services.feed_events(members_too=False), get_settings().group_name)


@bp.route("/events/feed/<token>.ics")
def private_feed(token: str) -> Response:
    member = services.member_for_feed(token)
    if member is None:
        abort(404)
    response = _calendar(services.feed_events(members_too=True), get_settings().group_name)
    response.headers["Cache-Control"] = "private, no-cache"
    return response

