"""The base of every form, and small helpers views share for forms and redirects."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from babel import support
from flask import current_app, has_request_context, redirect
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, IntegerField, SelectChoice
from wtforms.fields.core import Field
from wtforms.i18n import messages_path
from wtforms.widgets import TextArea

from lets_site.domain import DomainError

# C0 controls but TAB, LF and CR, DEL and C1 controls: never typed on purpose, and NUL is
# refused by PostgreSQL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# What starts a new line somewhere (a mail header, a CSV cell, a log line), and TAB.
LINE_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x85\u2028\u2029]")
# Digits an integer field reads at most: more is a mistake or an attack, and Python's
# int() and WTForms' NumberRange fail on huge values.
INTEGER_MAX_DIGITS = 12
NEXT_MAX_LENGTH = 2000

CONTROL_MESSAGE = _l("This contains invisible control characters; remove them and try again.")
LINE_BREAK_MESSAGE = _l("This must fit on one line; remove the line breaks.")
INTEGER_MESSAGE = _l("This number is too long.")
HIDDEN_MESSAGE = _l("The form contained characters that are not allowed; reload the page "
                    "and try again.")


def input_problem(field: Field) -> str | None:
    """Why the text the client sent for ``field`` cannot be taken, or None.

    Every field refuses control characters; a multi-line field (a text area) allows TAB,
    LF and CR; every other field is one line, so it refuses line breaks of any kind."""
    multi_line = isinstance(field.widget, TextArea)
    for value in field.raw_data or ():
        if not isinstance(value, str):  # an uploaded file
            continue
        if CONTROL_CHARACTERS.search(value):
            return str(CONTROL_MESSAGE)
        if not multi_line and LINE_BREAKS.search(value):
            return str(LINE_BREAK_MESSAGE)
        if isinstance(field, IntegerField) and len(value.strip()) > INTEGER_MAX_DIGITS:
            return str(INTEGER_MESSAGE)
    return None


@lru_cache(maxsize=16)
def _wtforms_catalog(locale: str) -> support.NullTranslations:
    """WTForms' own messages in ``locale``, read from disk once per process (Flask-WTF
    reads the catalog again on every request that builds a form: every page has one, the
    language switcher)."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _WTFormsTranslations:
    """WTForms' messages in the page's language."""

    @staticmethod
    def _catalog() -> support.NullTranslations | None:
        if not has_request_context() or "babel" not in current_app.extensions:
            return None
        return _wtforms_catalog(str(get_locale()))

    def gettext(self, string: str) -> str:
        catalog = self._catalog()
        return string if catalog is None else catalog.ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        catalog = self._catalog()
        if catalog is None:
            return singular if n == 1 else plural
        return catalog.ungettext(singular, plural, n)


_TRANSLATIONS = _WTFormsTranslations()


class BaseForm(FlaskForm):
    """The base of every form of the site: refuses control characters in any field and
    line breaks in one-line fields, with a message on the field (a hidden field's goes to
    the top of the form), before any validator or service sees the value."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> Any:
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return None
            return _TRANSLATIONS

    def process(self, formdata: Any = None, obj: Any = None, data: Any = None,
                extra_filters: Any = None, **kwargs: Any) -> None:
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)
        self._refused_hidden = False
        self._problems: dict[str, str] = {}
        for field in self:
            problem = input_problem(field)
            if problem is None:
                continue
            self._problems[field.name] = problem
            if isinstance(field, IntegerField):
                field.data = None  # never let a validator compare a huge number
            field.process_errors.append(problem)
            if isinstance(field, HiddenField):
                self._refused_hidden = True

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        # A validator that stops the chain (DataRequired on a value that did not parse)
        # clears the field's errors: the reason the text was refused comes back first.
        for name, problem in getattr(self, "_problems", {}).items():
            errors = self[name].errors
            if isinstance(errors, list) and problem not in errors:
                errors.insert(0, problem)
                valid = False
        if getattr(self, "_refused_hidden", False) and str(HIDDEN_MESSAGE) not in self.form_errors:
            self.form_errors.append(str(HIDDEN_MESSAGE))
        return valid


def see_other(location: str) -> Response:
    """The answer to a successful POST: 303, so a reload does not send it again."""
    return redirect(location, code=303)


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site, never another host; no control characters (a CR or LF
    would break the Location header) and nothing longer than a sane address."""
    if not target or len(target) > NEXT_MAX_LENGTH:
        return default
    if CONTROL_CHARACTERS.search(target) or LINE_BREAKS.search(target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal next to the field it concerns, or at the top of the form."""
    field = form._fields.get(error.field) if error.field else None
    if field is not None:
        field.errors = [*list(field.errors), str(error.message)]
    else:
        form.form_errors.append(str(error.message))


def choices(pairs: Iterable[tuple[str, object]]) -> list[SelectChoice]:
    """Options for a SelectField from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[arg-type]
