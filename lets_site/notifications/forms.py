"""One checkbox per kind: the member's choices and the group's defaults."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wtforms import BooleanField

from lets_site.features import NotificationKind
from lets_site.web.forms import BaseForm


class EmptyForm(BaseForm):
    """Only the CSRF token: for buttons that post."""


def field_name(key: str) -> str:
    return "kind_" + key.replace(".", "__")


class SwitchesForm(BaseForm):
    """Built per page with :func:`switches_form`."""

    def enabled(self) -> list[str]:
        return [key for key, name in self.keys if self[name].data]  # type: ignore[attr-defined]


def switches_form(kinds: Iterable[NotificationKind], current: Mapping[str, bool]) -> SwitchesForm:
    """A form with one checkbox per kind, checked as ``current`` says (on a GET)."""
    kinds = list(kinds)

    class Form(SwitchesForm):
        pass

    keys = []
    for kind in kinds:
        name = field_name(kind.key)
        setattr(Form, name, BooleanField(kind.label, default=current.get(kind.key, kind.default)))
        keys.append((kind.key, name))
    Form.keys = keys  # type: ignore[attr-defined]
    return Form()
