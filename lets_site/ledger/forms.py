from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lets_site.web.fields import DateTextField
from lets_site.web.forms import BaseForm, choices

MASS_KINDS = {
    "contribution": _l("Contribution: from every active account to the group account"),
    "start_credit": _l("Start credit: from the group account to each member who has not had "
                       "one yet"),
}


# A name typed into the payee field ("Jean-Pierre Lemaire"), or an account code.
PAYEE_MAX = 80


class KeyedForm(BaseForm):
    # A random value per form: a second submit of the same form books nothing new.
    key = HiddenField()


class _MemberTransferForm(KeyedForm):
    """What the pay form and the request form share: amount, purpose, listing."""

    amount = StringField(
        _l("Amount"), validators=[Length(max=30)], render_kw={"inputmode": "decimal"}
    )
    description = StringField(
        _l("What for"),
        validators=[DataRequired(_l("Say what the payment is for.")), Length(max=200)],
    )
    listing = HiddenField()


class PayForm(_MemberTransferForm):
    from_account = RadioField(_l("Pay from"), validators=[DataRequired(_l("Choose an account."))])
    payee = StringField(
        _l("Pay to"),
        validators=[DataRequired(_l("Fill in who you pay: a name or an account code.")),
                    Length(max=PAYEE_MAX)],
        description=_l("A name or an account code, for example Inge or IE-042."),
    )


class RequestForm(_MemberTransferForm):
    to_account = RadioField(_l("Pay to"), validators=[DataRequired(_l("Choose an account."))])
    payer = StringField(
        _l("Ask from"),
        validators=[DataRequired(_l("Fill in who should pay: a name or an account code.")),
                    Length(max=PAYEE_MAX)],
        description=_l("A name or an account code, for example Inge or IE-042."),
    )


class AdminBookingForm(KeyedForm):
    payer = StringField(_l("From account (code)"),
                        validators=[DataRequired(_l("Fill in an account code.")),
                                    Length(max=16)])
    payee = StringField(_l("To account (code)"),
                        validators=[DataRequired(_l("Fill in an account code.")),
                                    Length(max=16)])
    amount = StringField(_l("Amount"), validators=[Length(max=30)],
                         render_kw={"inputmode": "decimal"})
    description = StringField(_l("What for"),
                              validators=[DataRequired(_l("Say what the booking is for.")),
                                          Length(max=200)])
    allow_over_limit = BooleanField(
        _l("Book it even if it takes an account past its limit (recorded in the audit log)")
    )


class MassForm(KeyedForm):
    kind = RadioField(_l("Kind"), choices=choices(MASS_KINDS.items()),
                      validators=[DataRequired(_l("Choose the kind of mass transfer."))])
    amount = StringField(_l("Amount per account"), validators=[Length(max=30)],
                         render_kw={"inputmode": "decimal"})
    description = StringField(_l("Description"),
                              validators=[DataRequired(_l("Give a description.")),
                                          Length(max=200)])
    allow_over_limit = BooleanField(
        _l("Book also where an account goes past its limit (recorded in the audit log)")
    )
    fingerprint = HiddenField()


class ReverseForm(KeyedForm):
    reason = TextAreaField(
        _l("Reason for the correction"),
        validators=[DataRequired(_l("Give the reason for the correction.")), Length(max=1000)],
    )


class LimitsForm(BaseForm):
    min_balance = StringField(_l("Minimum balance"), validators=[Length(max=30)],
                              description=_l("Leave empty for the group's default."))
    max_balance = StringField(_l("Maximum balance"), validators=[Length(max=30)],
                              description=_l("Leave empty for the group's default."))


class SettingsForm(BaseForm):
    decimals = RadioField(
        _l("Amounts"), coerce=int,
        choices=choices([("0", _l("Whole units")), ("2", _l("Two decimals"))]),
    )
    default_min = StringField(_l("Default minimum balance"), validators=[Length(max=30)])
    default_max = StringField(_l("Default maximum balance"), validators=[Length(max=30)])
    balances_visible = BooleanField(
        _l("Members may see each other's balances (otherwise only totals and spread)")
    )


class PeriodForm(BaseForm):
    class Meta:
        csrf = False

    start = DateTextField(_l("From"), validators=[Optional()])
    end = DateTextField(_l("Until"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=1_000_000)], default=1)


class ConfirmForm(BaseForm):
    """Only the CSRF token: confirm, decline and withdraw buttons."""
