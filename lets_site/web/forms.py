"""Small helpers views share for forms and redirects."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import redirect
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from lets_site.domain import DomainError


def see_other(location: str) -> Response:
    """The answer to a successful POST: 303, so a reload does not send it again."""
    return redirect(location, code=303)


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site, never another host."""
    if not target:
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
