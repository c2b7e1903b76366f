"""Amounts: integers in the group's smallest unit, parsed from what people type and formatted
for reading (the number of decimals is a ledger setting).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import (
    NumberPattern,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
    parse_pattern,
)
from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l

from lets_site.domain import DomainError
from lets_site.ledger.services.settings import get_settings
from lets_site.settings import cached, reader_language
from lets_site.settings import get_settings as site_settings

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
    if decimals in (0, 2):
        # What babel's pattern gives, in a few string operations (a page formats 50-100).
        return number_formatter(str(locale), decimals)(value)
    return _number_pattern(decimals == 0).apply(number, locale)


_PATTERNS = {True: "#,##0", False: "#,##0.00"}


@lru_cache(maxsize=2)
def _number_pattern(whole: bool) -> NumberPattern:
    return parse_pattern(_PATTERNS[whole])


@lru_cache(maxsize=16)
def number_formatter(locale: str, decimals: int) -> Callable[[int], str]:
    """An amount in the smallest unit as babel writes it with the pattern ``#,##0`` (no
    decimals) or ``#,##0.00`` (two) in ``locale``: the locale's minus sign, group
    separator every three digits and decimal mark ("-1.234,50" in Dutch, "1\u202f234,50"
    in French). Built once per locale; tests/ledger/test_amount_format.py holds it to
    babel's own output."""
    if decimals not in (0, 2):
        raise ValueError("two decimals or none")
    parsed = Locale.parse(locale)
    group, mark = get_group_symbol(parsed), get_decimal_symbol(parsed)
    minus = get_minus_sign_symbol(parsed)

    def whole(value: int) -> str:
        text = f"{value:,}"
        return text.replace(",", group) if group != "," else text

    if decimals == 0:
        def fmt(value: int) -> str:
            return minus + whole(-value) if value < 0 else whole(value)
    else:
        def fmt(value: int) -> str:
            units, cents = divmod(abs(value), 100)
            text = f"{whole(units)}{mark}{cents:02d}"
            return minus + text if value < 0 else text
    return fmt


def units_formatter(decimals: int | None = None) -> Callable[[int | None], str]:
    """:func:`format_units` for many amounts in one page: the language, the unit's words
    and the number format looked up once (kept for the request)."""
    decimals = get_settings().decimals if decimals is None else decimals
    locale = get_locale()
    lang = reader_language()
    return cached(f"ledger.units.{locale}.{lang}.{decimals}",
                  lambda: _units_formatter(decimals, lang))


def _units_formatter(decimals: int, lang: str) -> Callable[[int | None], str]:
    one = 10**decimals
    singular_word = site_settings().unit(plural=False, lang=lang)
    plural_word = site_settings().unit(plural=True, lang=lang)
    locale = get_locale()
    number: Callable[[int], str] = (
        number_formatter(str(locale), decimals) if locale is not None and decimals in (0, 2)
        else lambda value: format_amount(value, decimals))

    def fmt(value: int | None) -> str:
        if value is None:
            return "—"
        unit = singular_word if _singular(value, one, lang) else plural_word
        return f"{number(value)} {unit}" if unit else number(value)

    return fmt


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
    lang = reader_language()
    unit = site_settings().unit(plural=not _singular(value, 10**decimals, lang), lang=lang)
    number = format_amount(value, decimals)
    return f"{number} {unit}" if unit else number


def _singular(value: int, one: int, lang: str) -> bool:
    """Whether an amount takes the unit's singular: exactly one unit (plus or minus), and
    in French any amount below two ("0,50 heure", "1,50 heure")."""
    return abs(value) == one or (lang == "fr" and abs(value) < 2 * one)


def plain_amount(value: int, decimals: int) -> str:
    """Amount without grouping, for CSV and form fields (12.50 or 12)."""
    if decimals == 0:
        return str(value)
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 100}.{value % 100:02d}"
