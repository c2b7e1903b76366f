"""Forms for pages, news, documents and the content editor role."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lets_site.content.models import Placement, Visibility
from lets_site.web.fields import DateTextField
from lets_site.web.forms import BaseForm, choices

VISIBILITY_LABELS = {Visibility.PUBLIC: _l("Everyone"), Visibility.MEMBERS: _l("Members only")}
PLACEMENT_LABELS = {Placement.NONE: _l("Not linked"), Placement.MENU: _l("Main menu"),
                    Placement.FOOTER: _l("Footer")}
LANGUAGE_LABELS = {"nl": _l("Dutch"), "fr": _l("French"), "en": _l("English")}
BODY_MAX = 20_000


class EmptyForm(BaseForm):
    """Only the CSRF token: for buttons that post."""


class PageForm(BaseForm):
    slug = StringField(_l("Address (/p/...)"),
                       validators=[DataRequired(_l("Fill in an address.")), Length(max=80)],
                       description=_l("Lower-case letters, digits and hyphens: house-rules."))
    visibility = SelectField(_l("Who can read it"), choices=choices(VISIBILITY_LABELS.items()))
    placement = SelectField(_l("Linked from"), choices=choices(PLACEMENT_LABELS.items()))
    parent_id = SelectField(_l("Under page"), choices=[], validators=[Optional()])
    position = IntegerField(_l("Order"), default=0,
                            validators=[Optional(), NumberRange(min=0, max=9999)])
    title_nl = StringField(_l("Title (Dutch)"), validators=[Length(max=200)])
    body_nl = TextAreaField(_l("Text (Dutch, Markdown)"), validators=[Length(max=BODY_MAX)])
    title_fr = StringField(_l("Title (French)"), validators=[Length(max=200)])
    body_fr = TextAreaField(_l("Text (French, Markdown)"), validators=[Length(max=BODY_MAX)])
    title_en = StringField(_l("Title (English)"), validators=[Length(max=200)])
    body_en = TextAreaField(_l("Text (English, Markdown)"), validators=[Length(max=BODY_MAX)])

    def texts(self) -> dict[str, tuple[str, str]]:
        return {lang: (getattr(self, f"title_{lang}").data or "",
                       getattr(self, f"body_{lang}").data or "")
                for lang in ("nl", "fr", "en")}

    def parent(self) -> int | None:
        value = self.parent_id.data
        return int(value) if value and str(value).isdigit() else None


class NewsForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Fill in a title.")),
                                                 Length(max=200)])
    # InputRequired, not DataRequired: a date that cannot be read keeps its own message
    # (and a control character the base form's), instead of "fill in".
    news_date = DateTextField(_l("Date"), validators=[InputRequired(_l("Fill in a date."))])
    summary = TextAreaField(_l("Summary (Markdown)"), validators=[Length(max=2000)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[Length(max=BODY_MAX)])
    visibility = SelectField(_l("Who can read it"), choices=choices(VISIBILITY_LABELS.items()))
    pinned = BooleanField(_l("Pinned: stays on top"))


class DocumentForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Fill in a title.")),
                                                 Length(max=200)])
    description = TextAreaField(_l("Description (Markdown)"), validators=[Length(max=2000)])
    folder = StringField(_l("Folder"), validators=[Length(max=80)],
                         description=_l("Statutes, minutes, flyers ..."))
    visibility = SelectField(_l("Who can read it"), choices=choices(VISIBILITY_LABELS.items()),
                             default=Visibility.MEMBERS)
    expires_on = DateTextField(_l("Hidden after (optional)"), validators=[Optional()])


class UploadForm(DocumentForm):
    file = FileField(_l("File (PDF, ODT, DOCX, XLSX, PNG, JPEG; at most 10 MB)"))


class EditorForm(BaseForm):
    code = StringField(_l("Account code"), validators=[DataRequired(_l("Fill in a code.")),
                                                       Length(max=16)])


def parent_choices(pages: list[tuple[Any, int]], lang: str, exclude: int | None) -> list[
        tuple[str, str]]:
    out = [("", str(_l("(top level)")))]
    for page, depth in pages:
        if page.id != exclude:
            out.append((str(page.id), "— " * depth + page.title(lang)))
    return out
