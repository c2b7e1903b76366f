"""The aggregator's admin forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lets_site.web.fields import DateTextField
from lets_site.web.forms import BaseForm, choices


class FeedForm(BaseForm):
    slug = StringField(_l("Short name of the group"),
                       validators=[DataRequired(), Length(max=63)],
                       description=_l("As the group's feed names itself, e.g. ieper."))
    feed_url = StringField(_l("Feed address"), validators=[DataRequired(), Length(max=2000)],
                           description=_l("For example https://ieper.example/feed.json"))
    public_key = StringField(_l("Public key (optional)"),
                             validators=[Optional(), Length(max=200)])


class ButtonForm(BaseForm):
    """A button's form: only the CSRF token."""


class AgendaForm(BaseForm):
    """The common agenda's filters: a GET form (shareable links, no token). The choices
    are the followed groups, their regions and the kinds their events have; a value
    that is not among them (an old link) shows nothing rather than everything."""

    class Meta:
        csrf = False

    group = SelectField(_l("Group"), choices=[], validate_choice=False)
    region = SelectField(_l("Region"), choices=[], validate_choice=False)
    kind = SelectField(_l("Kind"), choices=[], validate_choice=False)
    period = SelectField(_l("When"), validate_choice=False, choices=choices([
        ("", _l("Everything coming")), ("week", _l("This week")),
        ("month", _l("This month"))]))
    start = DateTextField(_l("From"), validators=[Optional()])
    end = DateTextField(_l("Until"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=1_000_000)], default=1)
