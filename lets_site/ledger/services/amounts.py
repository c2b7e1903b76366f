"""Amounts: integers in the group's smallest unit, parsed from what people type and formatted
for reading (the number of decimals is a ledger setting).
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from babel.numbers import NumberPattern, parse_pattern
from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l

from lets_site.domain import DomainError
from lets_site.ledger.services.settings import get_settings
from lets_site.settings import get_settings as site_settings
from lets_site.settings import reader_language

# The largest amount one transfer may move, in whole units.
MAX_TRANSFER_UNITS = 100_000
# The largest limit an admin may set, in whole units.
MAX_LIMIT_UNITS = 10_000_000
_AMOUNT_RE = re.compile(r"^\d{1,12}(?:[.,](\d+))?$", re.ASCII)


def parse_amount(text: str, decimals: int | None = None, fieldname: str = "amount") -> int:
    """A positive amount typed by a person ("12", "12,5", "12.50") in the smallest unit."""
    decimals = get_settings().decimals if decimals is None else decimals
    value = _parse_number(text, decimals, fieldname, allow_negative=False)
    if value <= 0:
        raise DomainError(_l("The amount must be more than zero."), field=fieldname)
    if value > MAX_TRANSFER_UNITS * 10**decimals:
        raise DomainError(
            _l("The amount is too large: at most %(max)s per transfer.",
               max=format_units(MAX_TRANSFER_UNITS * 10**decimals, decimals)),
            field=fieldname,
        )
    return value


def parse_limit(text: str, decimals: int, fieldname: str) -> int:
    value = _parse_number(text, decimals, fieldname, allow_negative=True)
    if abs(value) > MAX_LIMIT_UNITS * 10**decimals:
        raise DomainError(_l("That limit is too large."), field=fieldname)
    return value


def _parse_number(text: str, decimals: int, fieldname: str, allow_negative: bool) -> int:
    raw = (text or "").strip().replace(" ", "").replace("\u00a0", "")
    negative = False
    if raw.startswith(("-", "\u2212")):
        if not allow_negative:
            raise DomainError(_l("The amount must be more than zero."), field=fieldname)
        negative, raw = True, raw[1:]
    match = _AMOUNT_RE.match(raw)
    if not raw:
        raise DomainError(_l("Fill in an amount."), field=fieldname)
    if match is None:
        raise DomainError(
            _l("Write the amount as a number, for example 12 or 12,50."), field=fieldname
        )
    fraction = match.group(1) or ""
    if len(fraction.rstrip("0")) > decimals:
        if decimals == 0:
            raise DomainError(_l("This group counts in whole units: no decimals."),
                              field=fieldname)
        raise DomainError(_l("At most two decimals."), field=fieldname)
    whole = raw.replace(",", ".").split(".")[0]
    fraction = (fraction + "0" * decimals)[:decimals]
    value = int(whole) * 10**decimals + (int(fraction) if fraction else 0)
    return -value if negative else value


def format_amount(value: int | None, decimals: int | None = None) -> str:
    if value is None:
        return "—"
    decimals = get_settings().decimals if decimals is None else decimals
    number: int | Decimal = value if decimals == 0 else Decimal(value).scaleb(-decimals)
    # In the reader's language; on the command line, the group's (lets_site/locale.py).
    locale = get_locale()
    if locale is None:
        return format_decimal(number, format=_PATTERNS[decimals == 0])
    # What format_decimal does, without parsing the pattern again for every amount.
    return _number_pattern(decimals == 0).apply(number, locale)


_PATTERNS = {True: "#,##0", False: "#,##0.00"}


@lru_cache(maxsize=2)
def _number_pattern(whole: bool) -> NumberPattern:
    return parse_pattern(_PATTERNS[whole])


def format_units(value: int | None, decimals: int | None = None) -> str:
    """An amount with the group's unit in the reader's language: "2,00 uren", "1,00 uur",
    "2,00 heures", "1.00 hour"; "—" for no amount.

    The singular is used when the amount is exactly one unit (plus or minus); in French
    also for any amount below two ("0,50 heure", "1,50 heure"), as French writes it. The
    number is :func:`format_amount`'s; the unit is the group's own word for the reader's
    language (site settings), falling back to the default language's."""
    if value is None:
        return "—"
    decimals = get_settings().decimals if decimals is None else decimals
    one = 10**decimals
    lang = reader_language()
    singular = abs(value) == one or (lang == "fr" and abs(value) < 2 * one)
    unit = site_settings().unit(plural=not singular, lang=lang)
    number = format_amount(value, decimals)
    return f"{number} {unit}" if unit else number


def plain_amount(value: int, decimals: int) -> str:
    """Amount without grouping, for CSV and form fields (12.50 or 12)."""
    if decimals == 0:
        return str(value)
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 100}.{value % 100:02d}"
