"""The digest's forms: a frequency (a member's, or the group's default) and the paper
list's choices (a GET form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField

from lets_site.digests.models import Frequency
from lets_site.web.fields import DateTextField
from lets_site.web.forms import BaseForm, choices

FREQUENCY_LABELS = {
    Frequency.WEEKLY.value: _l("Weekly"),
    Frequency.MONTHLY.value: _l("Monthly"),
    Frequency.NEVER.value: _l("Never (unsubscribe)"),
}


class FrequencyForm(BaseForm):
    frequency = RadioField(_l("How often do you want the digest?"),
                           choices=choices(FREQUENCY_LABELS.items()),
                           validate_choice=True)


class DefaultFrequencyForm(BaseForm):
    frequency = RadioField(_l("How often members get the digest unless they chose"),
                           choices=choices(FREQUENCY_LABELS.items()),
                           validate_choice=True)


AUDIENCE_LABELS = {"members": _l("Members (members-only listings too)"),
                   "public": _l("Anyone (public listings only)")}


class PaperForm(BaseForm):
    """The paper list's choices: a GET form, no CSRF token."""

    class Meta:
        csrf = False

    audience = SelectField(_l("Printed for"), choices=choices(AUDIENCE_LABELS.items()),
                           default="members")


class PaperDigestForm(BaseForm):
    class Meta:
        csrf = False

    since = DateTextField(_l("New since"))
