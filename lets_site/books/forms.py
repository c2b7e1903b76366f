"""Forms of book swaps; labels through lazy gettext. The browse filters are plain query
parsing (a shared link with odd values still shows a page)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lets_site.books.models import Mode, Visibility
from lets_site.books.services import (
    AUTHORS_MAX,
    MESSAGE_MAX,
    NOTE_MAX,
    QUERY_MAX,
    TITLE_MAX,
    BookData,
    Filters,
)
from lets_site.web.fields import DateTextField, DecimalTextField
from lets_site.web.forms import BaseForm, choices

LANGUAGE_LABELS = {"nl": _l("Dutch"), "fr": _l("French"), "en": _l("English"),
                   "de": _l("German"), "other": _l("another language")}
GENRE_LABELS = {
    "novel": _l("novel"), "crime": _l("crime and thrillers"),
    "children": _l("children's books"), "youth": _l("young adults"), "comics": _l("comics"),
    "poetry": _l("poetry"), "nonfiction": _l("non-fiction"), "history": _l("history"),
    "cooking": _l("cooking"), "garden": _l("garden and nature"), "travel": _l("travel"),
    "other": _l("other"),
}
CONDITION_LABELS = {"new": _l("as new"), "good": _l("good"), "worn": _l("well read")}
MODE_LABELS = {Mode.GIVE.value: _l("give away"), Mode.LEND.value: _l("lend"),
               Mode.SWAP.value: _l("swap")}
VISIBILITY_LABELS = {Visibility.MEMBERS.value: _l("Members of the group"),
                     Visibility.PUBLIC.value: _l("Everyone, also visitors")}
STATE_LABELS = {"available": _l("available"), "on_loan": _l("on loan"),
                "shelved": _l("on my shelf, not offered"), "closed": _l("given away")}
REQUEST_LABELS = {"open": _l("waiting for an answer"), "accepted": _l("accepted"),
                  "declined": _l("declined"), "cancelled": _l("withdrawn"),
                  "handed_over": _l("handed over"), "returned": _l("returned")}


class BookForm(BaseForm):
    owner = SelectField(_l("Whose book"), choices=[], validators=[Optional()])
    title = StringField(_l("Title"), validators=[DataRequired(_l("Fill in the title.")),
                                                 Length(max=TITLE_MAX)])
    authors = StringField(_l("Author(s)"), validators=[Optional(), Length(max=AUTHORS_MAX)])
    isbn = StringField(_l("ISBN"), validators=[Optional(), Length(max=40)],
                       render_kw={"inputmode": "numeric", "autocomplete": "off"},
                       description=_l("Optional. 10 or 13 digits, with or without hyphens."))
    language = SelectField(_l("Language"), choices=choices(LANGUAGE_LABELS.items()),
                           default="nl")
    genre = SelectField(_l("Genre"), choices=choices(GENRE_LABELS.items()), default="novel")
    condition = SelectField(_l("Condition"), choices=choices(CONDITION_LABELS.items()),
                            default="good")
    mode = SelectField(_l("I want to"), choices=choices(MODE_LABELS.items()),
                       default=Mode.GIVE.value)
    price = DecimalTextField(_l("Price"), places=2, validators=[Optional()],
                             description=_l("Optional, in the group's unit; paid through "
                                            "the ledger when the book changes hands."))
    visibility = SelectField(_l("Who can see it"), choices=choices(VISIBILITY_LABELS.items()),
                             default=Visibility.MEMBERS.value)
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)])
    cover = FileField(_l("Cover photo (optional)"),
                      description=_l("JPEG, PNG, WebP or GIF, at most 10 MB. We make it "
                                     "smaller and remove hidden data such as location."),
                      render_kw={"accept": "image/jpeg,image/png,image/webp,image/gif"})
    remove_cover = BooleanField(_l("Remove the cover photo"))

    def book_data(self) -> BookData:
        upload = self.cover.data
        return BookData(
            cover=upload.stream if upload and getattr(upload, "filename", "") else None,
            remove_cover=bool(self.remove_cover.data),
            title=self.title.data or "", authors=self.authors.data or "",
            isbn=self.isbn.data or "", language=self.language.data or "",
            genre=self.genre.data or "", condition=self.condition.data or "",
            note=self.note.data or "", mode=self.mode.data or "",
            price=self.price.data, visibility=self.visibility.data or "",
        )


class RequestForm(BaseForm):
    message = TextAreaField(
        _l("Your message to the owner"), validators=[Optional(), Length(max=MESSAGE_MAX)],
        description=_l("The owner gets it by e-mail with your name, and answers on the "
                       "book's page."))


class AcceptForm(BaseForm):
    due_date = DateTextField(_l("Back by"), validators=[Optional()],
                             description=_l("For a loan; four weeks when left empty."))


class HandOverForm(BaseForm):
    to_shelf = BooleanField(_l("Put the book on the receiver's shelf"), default=True)


class EmptyForm(BaseForm):
    """Only the CSRF token: for buttons that post."""


OUTCOME_LABELS = {"stayed": _l("stayed with its owner"), "given": _l("given to"),
                  "swapped": _l("swapped with"), "lent": _l("lent to")}


class BringForm(BaseForm):
    """Bring a book to a book swap, or take it back (from the book's or the event's page:
    a select picks the other one)."""

    book = StringField(_l("Book"), validators=[DataRequired(), Length(max=12)])
    event = StringField(_l("Book swap"), validators=[DataRequired(), Length(max=45)])
    next = StringField(validators=[Optional(), Length(max=300)])

    def book_id(self) -> int:
        text = (self.book.data or "").strip()
        return int(text) if text.isascii() and text.isdigit() else 0


def record_form(rows: list[Any]) -> BaseForm:
    """The record form of a swap: per brought book what became of it (the choices its mode
    allows), the member's account code and, for a loan, the return date."""
    from lets_site.books.swaps import OUTCOMES

    class RecordForm(BaseForm):
        pass

    for row in rows:
        allowed = OUTCOMES.get(row.book.mode, ())
        setattr(RecordForm, f"outcome_{row.id}", SelectField(
            _l("What became of it"), default="stayed",
            choices=choices((o.value, OUTCOME_LABELS[o.value]) for o in allowed)))
        setattr(RecordForm, f"member_{row.id}", StringField(
            _l("Member (account code)"), validators=[Optional(), Length(max=20)],
            render_kw={"autocomplete": "off", "size": 8}))
        if row.book.mode == Mode.LEND:
            setattr(RecordForm, f"due_{row.id}", DateTextField(
                _l("Back by"), validators=[Optional()],
                description=_l("Four weeks when left empty.")))
    return RecordForm()


def parse_filters(args: Mapping[str, str]) -> Filters:
    def pick(name: str, allowed: Any) -> str:
        value = (args.get(name) or "").strip()
        return value if value in allowed else ""

    page_text = (args.get("page") or "1").strip()
    page = (int(page_text) if page_text.isascii() and page_text.isdigit()
            and len(page_text) <= 6 else 1)
    return Filters(q=(args.get("q") or "").strip()[:QUERY_MAX],
                   language=pick("language", LANGUAGE_LABELS),
                   genre=pick("genre", GENRE_LABELS), mode=pick("mode", MODE_LABELS),
                   page=max(page, 1))


class ImportForm(BaseForm):
    owner = SelectField(_l("Whose books"), choices=[], validators=[Optional()])
    language = SelectField(_l("Language, where a row names none"),
                           choices=choices(LANGUAGE_LABELS.items()), default="nl")
    mode = SelectField(_l("I want to, where a row says nothing"),
                       choices=choices(MODE_LABELS.items()), default=Mode.GIVE.value)
    text = TextAreaField(
        _l("Books, one per line"), validators=[Optional()],
        description=_l("An ISBN and a title (“978-90-234-5678-1 De avonden”), or columns "
                       "title; authors; isbn; language; mode."))
    file = FileField(_l("Or a CSV file (UTF-8)"), validators=[Optional()])
    add = SubmitField(_l("Add the good rows"))
