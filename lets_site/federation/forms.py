"""The aggregator's admin forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from lets_site.web.forms import BaseForm


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
