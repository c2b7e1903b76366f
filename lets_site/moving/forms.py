"""The import page's forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import SubmitField
from wtforms.validators import InputRequired

from lets_site.web.forms import BaseForm


class UploadForm(BaseForm):
    files = MultipleFileField(
        _l("CSV files (members, organisations, categories, ads, transactions)"),
        validators=[InputRequired()],
        description=_l("The CSV exports of eLAS or eLAND, or your own spreadsheet saved as "
                       "CSV. UTF-8, Windows-1252 or Latin-1; separated by ; or ,."))
    check = SubmitField(_l("Check the files"))


class EmptyForm(BaseForm):
    """Only the CSRF token: for buttons that post."""
