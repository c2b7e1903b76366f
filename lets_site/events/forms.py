"""The events' forms (labels through lazy gettext; dates, times and prices as people type
them, with the fields of ``web/fields.py``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from lets_site.events.models import Kind, PriceKind, Status, Visibility
from lets_site.events.services import EventData
from lets_site.web.fields import DateTextField, DecimalTextField, TimeTextField
from lets_site.web.forms import BaseForm, choices

KIND_LABELS = {
    Kind.FILM.value: _l("Film"),
    Kind.WORKSHOP.value: _l("Workshop"),
    Kind.BOOK_SWAP.value: _l("Book swap"),
    Kind.INTRO_EVENING.value: _l("Intro evening"),
    Kind.MARKET.value: _l("Market"),
    Kind.FESTIVAL_STAND.value: _l("Festival stand"),
    Kind.MEETING.value: _l("Meeting"),
    Kind.OTHER.value: _l("Other"),
}
STATUS_LABELS = {
    Status.SCHEDULED.value: _l("Scheduled"),
    Status.POSTPONED.value: _l("Postponed"),
    Status.CANCELLED.value: _l("Cancelled"),
}
VISIBILITY_LABELS = {
    Visibility.PUBLIC.value: _l("Everyone, also visitors"),
    Visibility.MEMBERS.value: _l("Members of the group"),
}
PRICE_LABELS = {
    PriceKind.FREE.value: _l("Free"),
    PriceKind.EURO.value: _l("In euro (paid at the door)"),
    PriceKind.UNITS.value: _l("In the group's unit (booked when you attend)"),
}
REPEAT_LABELS = {
    "": _l("Once"),
    "weekly": _l("Every week"),
    "monthly": _l("Every month, same date"),
    "monthly_weekday": _l("Every month, same weekday (for example every first Saturday)"),
}


class EventForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the event a title.")),
                                                 Length(max=120)])
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS.items()),
                       default=Kind.OTHER.value)
    start_date = DateTextField(_l("Date"), validators=[DataRequired(
        _l("Write the date as day/month/year, for example 31/12/2027."))])
    start_time = TimeTextField(_l("Starts at"), validators=[Optional()])
    end_date = DateTextField(_l("Last day (if more than one)"), validators=[Optional()])
    end_time = TimeTextField(_l("Ends at"), validators=[Optional()],
                             description=_l("Leave empty for two hours."))
    all_day = BooleanField(_l("All day"))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10000)],
                                description=_l("You can use Markdown."))
    venue_name = StringField(_l("Venue"), validators=[Optional(), Length(max=120)],
                             description=_l("For example: the library, a partner's room."))
    venue_address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    online_url = StringField(_l("Online link"), validators=[Optional(), Length(max=500)],
                             render_kw={"inputmode": "url"})
    partners = SelectMultipleField(_l("Co-organising partners"), choices=[], coerce=int,
                                   validators=[Optional()],
                                   widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput())
    partner_names = TextAreaField(_l("Other co-organisers"),
                                  validators=[Optional(), Length(max=2000)],
                                  description=_l("Not in the partners list: one name per "
                                                 "line."), render_kw={"rows": 2})
    guests = TextAreaField(_l("Neighbouring groups invited"),
                           validators=[Optional(), Length(max=2000)],
                           description=_l("One per line."), render_kw={"rows": 2})
    hosts = StringField(_l("Co-organising members"), validators=[Optional(), Length(max=300)],
                        description=_l("Their account codes, separated by spaces; they "
                                       "can edit the event too."))
    visibility = SelectField(_l("Who can see it"), choices=choices(VISIBILITY_LABELS.items()),
                             default=Visibility.PUBLIC.value)
    open_to_non_members = BooleanField(_l("Non-members can register (with their e-mail)"))
    price_kind = SelectField(_l("Price"), choices=choices(PRICE_LABELS.items()),
                             default=PriceKind.FREE.value)
    price = DecimalTextField(_l("Amount"), validators=[Optional()],
                             description=_l("In euro, or in the group's unit."))
    capacity = IntegerField(_l("Places"), validators=[Optional()], widget=TextInput(),
                            description=_l("Leave empty for an event without registration."),
                            render_kw={"inputmode": "numeric", "autocomplete": "off"})
    closes_date = DateTextField(_l("Registration closes on"), validators=[Optional()])
    closes_time = TimeTextField(_l("at"), validators=[Optional()])

    def event_data(self) -> EventData:
        return EventData(
            title=self.title.data or "", kind=self.kind.data or Kind.OTHER.value,
            start_date=self.start_date.data, start_time=self.start_time.data,
            end_date=self.end_date.data, end_time=self.end_time.data,
            all_day=bool(self.all_day.data), description=self.description.data or "",
            venue_name=self.venue_name.data or "", venue_address=self.venue_address.data or "",
            online_url=self.online_url.data or "", partner_names=self.partner_names.data or "",
            guests=self.guests.data or "", visibility=self.visibility.data or "",
            open_to_non_members=bool(self.open_to_non_members.data),
            price_kind=self.price_kind.data or PriceKind.FREE.value, price=self.price.data,
            capacity=self.capacity.data, closes_date=self.closes_date.data,
            closes_time=self.closes_time.data,
            host_codes=tuple((self.hosts.data or "").replace(",", " ").split()),
            partner_ids=tuple(self.partners.data or ()),
        )


class NewEventForm(EventForm):
    repeat = SelectField(_l("Repeats"), choices=choices(REPEAT_LABELS.items()), default="")
    count = IntegerField(_l("Number of dates"), validators=[Optional()], default=1,
                         widget=TextInput(),
                         render_kw={"inputmode": "numeric", "autocomplete": "off"})


class StatusForm(BaseForm):
    status = SelectField(_l("Status"), choices=choices(STATUS_LABELS.items()))


class EmptyForm(BaseForm):
    """A button: only the CSRF token."""


class GuestForm(BaseForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Give your name.")),
                                                    Length(max=120)],
                       render_kw={"autocomplete": "name"})
    email = StringField(_l("Your e-mail address"),
                        validators=[DataRequired(_l("Give your e-mail address.")),
                                    Length(max=254)],
                        render_kw={"autocomplete": "email", "inputmode": "email"})
    # A honeypot: hidden from people by CSS, filled in by form-filling robots.
    website = StringField(_l("Leave this empty"), validators=[Optional()],
                          render_kw={"autocomplete": "off", "tabindex": "-1"})


class AttendanceForm(BaseForm):
    registration = IntegerField(validators=[DataRequired()])
    attended = BooleanField()


def form_defaults(event: Any, tz: Any, unit_decimals: int) -> dict[str, Any]:
    """The edit form's values from a stored event, in the group's zone."""
    start = event.starts_at.astimezone(tz)
    end = event.ends_at.astimezone(tz)
    closes = event.registration_closes_at.astimezone(tz) if event.registration_closes_at else None
    last_day = (end - timedelta(days=1)).date() if event.all_day else end.date()
    return {
        "title": event.title, "kind": event.kind, "start_date": start.date(),
        "start_time": None if event.all_day else start.time(),
        "end_date": last_day if last_day != start.date() else None,
        "end_time": None if event.all_day else end.time(), "all_day": event.all_day,
        "description": event.description, "venue_name": event.venue_name,
        "venue_address": event.venue_address, "online_url": event.online_url,
        "partner_names": event.partner_names,
        "partners": [link.partner_id for link in event.partner_links], "guests": event.guests,
        "hosts": " ".join(h.member.account_code or "" for h in event.hosts),
        "visibility": event.visibility, "open_to_non_members": event.open_to_non_members,
        "price_kind": event.price_kind,
        "price": _price_value(event, unit_decimals), "capacity": event.capacity,
        "closes_date": closes.date() if closes else None,
        "closes_time": closes.time() if closes else None,
    }


def _price_value(event: Any, unit_decimals: int) -> Decimal | None:
    if event.price_amount is None:
        return None
    places = 2 if event.price_kind == PriceKind.EURO else unit_decimals
    return Decimal(event.price_amount).scaleb(-places)
