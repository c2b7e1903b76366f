"""Adding many books at once: pasted lines or a CSV file (title, authors, isbn, language,
mode). A preview lists each bad row with its line number and reason before anything is
written; on confirmation the good rows are added. No network look-ups.

Accepted lines: CSV with ``;``, ``,`` or TAB between the columns (the first line may be a
header naming them, in any order), or a pasted line "<ISBN> <title>".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from lets_site.books import isbn as isbns
from lets_site.books.services import BookData
from lets_site.domain import DomainError

MAX_BYTES = 200 * 1024
MAX_ROWS = 500
COLUMNS = ("title", "authors", "isbn", "language", "mode")
HEADER_WORDS = {
    "title": "title", "titel": "title", "titre": "title",
    "authors": "authors", "author": "authors", "auteur": "authors", "auteurs": "authors",
    "isbn": "isbn", "language": "language", "taal": "language", "langue": "language",
    "mode": "mode", "wijze": "mode",
}
LANGUAGE_WORDS = {
    "nl": "nl", "nederlands": "nl", "dutch": "nl", "néerlandais": "nl",
    "fr": "fr", "frans": "fr", "français": "fr", "francais": "fr", "french": "fr",
    "en": "en", "engels": "en", "anglais": "en", "english": "en",
    "de": "de", "duits": "de", "allemand": "de", "german": "de", "deutsch": "de",
}
MODE_WORDS = {
    "give": "give", "geven": "give", "weggeven": "give", "donner": "give",
    "lend": "lend", "lenen": "lend", "uitlenen": "lend", "prêter": "lend", "preter": "lend",
    "swap": "swap", "ruilen": "swap", "échanger": "swap", "echanger": "swap",
}


@dataclass
class Row:
    line: int
    data: BookData | None
    problem: str = ""


def decode(raw: bytes) -> str:
    """An uploaded file as text: UTF-8 (with or without a byte order mark), nothing else
    guessed."""
    if len(raw) > MAX_BYTES:
        raise DomainError(_l("The file is too large: at most %(kb)d KB (about %(rows)d "
                             "books).", kb=MAX_BYTES // 1024, rows=MAX_ROWS), field="file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(_l("The file is not UTF-8 text. In your spreadsheet, save it as "
                             "\"CSV UTF-8\" and try again."), field="file") from None


def _delimiter(text: str) -> str | None:
    first = next((line for line in text.splitlines() if line.strip()), "")
    for candidate in (";", "\t", ","):
        if candidate in first:
            return candidate
    return None


def parse(text: str, language: str = "nl", mode: str = "give") -> list[Row]:
    """Every non-empty line as a row: its book, or why it cannot be added."""
    if len(text.encode()) > MAX_BYTES:
        raise DomainError(_l("The list is too long: at most %(kb)d KB (about %(rows)d "
                             "books).", kb=MAX_BYTES // 1024, rows=MAX_ROWS), field="text")
    delimiter = _delimiter(text)
    lines = text.splitlines()
    rows: list[Row] = []
    columns = list(COLUMNS)
    for number, cells in enumerate(_cells(lines, delimiter), start=1):
        if not any(c.strip() for c in cells):
            continue
        if number == 1 and delimiter and all(
                c.strip().casefold() in HEADER_WORDS for c in cells if c.strip()):
            columns = [HEADER_WORDS.get(c.strip().casefold(), "") for c in cells]
            continue
        if len(rows) >= MAX_ROWS:
            raise DomainError(_l("At most %(n)d books at once: split the list.", n=MAX_ROWS),
                              field="text")
        rows.append(_row(number, cells, columns, delimiter, language, mode))
    return rows


def _cells(lines: list[str], delimiter: str | None) -> list[list[str]]:
    if delimiter is None:
        return [[line] for line in lines]
    return list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))


def _row(number: int, cells: list[str], columns: list[str], delimiter: str | None,
         language: str, mode: str) -> Row:
    values = {"title": "", "authors": "", "isbn": "", "language": "", "mode": ""}
    if delimiter is None:
        first, _, rest = cells[0].strip().partition(" ")
        if isbns.looks_like_isbn(first) or first.replace("-", "").isdigit():
            values["isbn"], values["title"] = first, rest
        else:
            values["title"] = cells[0]
    else:
        for name, cell in zip(columns, cells, strict=False):
            if name:
                values[name] = cell.strip()
    title = " ".join(values["title"].split())
    if not title:
        return Row(number, None, str(_l("no title")))
    number_text = values["isbn"]
    if number_text and isbns.to_isbn13(number_text) is None:
        return Row(number, None, str(_l("the ISBN %(isbn)s is not valid (check digit)",
                                        isbn=number_text)))
    row_language = language
    if values["language"]:
        row_language = LANGUAGE_WORDS.get(values["language"].casefold(), "")
        if not row_language:
            return Row(number, None, str(_l("unknown language “%(value)s”",
                                            value=values["language"])))
    row_mode = mode
    if values["mode"]:
        row_mode = MODE_WORDS.get(values["mode"].casefold(), "")
        if not row_mode:
            return Row(number, None, str(_l("unknown mode “%(value)s” (give, lend or swap)",
                                            value=values["mode"])))
    if len(title) > 200 or len(values["authors"]) > 200:
        return Row(number, None, str(_l("the title or the authors are too long")))
    return Row(number, BookData(title=title, authors=values["authors"], isbn=number_text,
                                language=row_language, mode=row_mode))
