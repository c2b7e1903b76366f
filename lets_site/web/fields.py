"""Form fields every feature reuses for numbers and dates typed by people (DESIGN.md 9).

- :class:`DecimalTextField`: a text field with ``inputmode="decimal"``, never
  ``type="number"``: a browser with an English interface drops the comma of "1,5" from a
  number field, and the server then reads 15. Here the server reads what was typed: a
  comma or a point as the decimal mark, spaces ignored; anything else is refused with a
  message that shows how to write it.
- :class:`DateTextField`: accepts the ways dates are written here (``31/12/2027``,
  ``31-12-2027``, ``31.12.2027``) and ISO (``2027-12-31``, what a browser's date picker
  sends), and says which format it wants when it cannot read one.
"""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms.widgets import DateInput, TextInput

from lets_site.web.forms import INTEGER_MAX_DIGITS, INTEGER_MESSAGE

DECIMAL_MESSAGE = _l("Write a number such as 1,5 or 2.")
DATE_MESSAGE = _l("Write the date as day/month/year, for example 31/12/2027.")

_DECIMAL = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_decimal(text: str) -> Decimal | None:
    """``"1,5"``, ``"1.5"``, ``" 12 "`` -> Decimal; None when it is not a plain number (a
    thousands separator is not guessed: "1.234,5" is refused, not read as 1.234)."""
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if not _DECIMAL.match(cleaned):
        return None
    try:
        return Decimal(cleaned.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        return None


def parse_date(text: str) -> date | None:
    """A date written day first with ``/``, ``-`` or ``.``, or in ISO; None otherwise."""
    cleaned = text.strip()
    match = _ISO.match(cleaned)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _DAY_FIRST.match(cleaned)
        if not match:
            return None
        day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


class DecimalTextField(Field):
    """A decimal number typed as text; ``places`` rounds what is read, as DecimalField."""

    widget = TextInput()

    def __init__(self, label: Any = None, validators: Any = None, places: int = 2,
                 **kwargs: Any) -> None:
        render_kw = {"inputmode": "decimal", "autocomplete": "off",
                     **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.places = places

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if self.data is None:
            return ""
        return format(self.data, "f")

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        value = parse_decimal(str(valuelist[0]))
        if value is None:
            self.data = None
            raise ValueError(str(DECIMAL_MESSAGE))
        if value.adjusted() >= INTEGER_MAX_DIGITS:  # more digits than any amount here
            self.data = None
            raise ValueError(str(INTEGER_MESSAGE))
        self.data = round(value, self.places) if self.places is not None else value


class DateTextField(Field):
    """A date field that reads the common Belgian ways of writing a date and ISO.

    Rendered as ``type="date"`` (a picker where the browser has one, which sends ISO); a
    text browser shows a text box, where ``31/12/2027`` works too."""

    widget = DateInput()

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        render_kw = {"placeholder": "31/12/2027", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        # A datetime (a stored "valid until") shows its date, as a date input expects.
        return self.data.strftime("%Y-%m-%d") if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        value = parse_date(str(valuelist[0]))
        if value is None:
            self.data = None
            raise ValueError(str(DATE_MESSAGE))
        self.data = value


TIME_MESSAGE = _l("Write the time as hours and minutes, for example 19:30.")
_TIME = re.compile(r"^(\d{1,2})(?:\s*[:.hHuU]\s*(\d{2})?)?$")


def parse_time(text: str) -> time | None:
    """``"19:30"``, ``"19u30"``, ``"19.30"``, ``"19h30"``, ``"19u"``, ``"9"`` -> time; None
    when it is not a time of day."""
    match = _TIME.match(text.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


class TimeTextField(Field):
    """A time of day as people write it here: 19:30, 19u30, 19.30 or 19h30.

    A text field (``inputmode="numeric"`` would hide the separator on some phones), so a
    text browser and every browser language read and send the same thing."""

    widget = TextInput()

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        render_kw = {"placeholder": "19:30", "autocomplete": "off", "size": 6,
                     **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return self.data.strftime("%H:%M") if isinstance(self.data, time) else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        value = parse_time(str(valuelist[0]))
        if value is None:
            self.data = None
            raise ValueError(str(TIME_MESSAGE))
        self.data = value
