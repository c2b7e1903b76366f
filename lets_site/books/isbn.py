"""ISBNs: ISBN-10 and ISBN-13, checked by their check digit, stored as ISBN-13.

People type them with hyphens or spaces ("978-90-234-5678-1", "2 07 036822 X"); both are
read the same. Nothing here calls an outside service.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]")


def compact(text: str) -> str:
    """The text without hyphens and spaces, with a lower-case x made upper-case."""
    return _SEPARATORS.sub("", text or "").upper()


def _isbn10_ok(digits: str) -> bool:
    if not re.fullmatch(r"\d{9}[\dX]", digits):
        return False
    total = sum((10 - i) * (10 if ch == "X" else int(ch)) for i, ch in enumerate(digits))
    return total % 11 == 0


def _isbn13_check(first12: str) -> str:
    total = sum(int(ch) * (3 if i % 2 else 1) for i, ch in enumerate(first12))
    return str((10 - total % 10) % 10)


def _isbn13_ok(digits: str) -> bool:
    return (bool(re.fullmatch(r"97[89]\d{10}", digits))
            and _isbn13_check(digits[:12]) == digits[12])


def to_isbn13(text: str) -> str | None:
    """The ISBN-13 for a valid ISBN-10 or ISBN-13 (hyphens and spaces allowed); None when
    the text is not one (wrong length, letters, or a wrong check digit)."""
    digits = compact(text)
    if len(digits) == 10 and _isbn10_ok(digits):
        first12 = "978" + digits[:9]
        return first12 + _isbn13_check(first12)
    if len(digits) == 13 and _isbn13_ok(digits):
        return digits
    return None


def looks_like_isbn(text: str) -> bool:
    """Whether a search query is meant as an ISBN (10 or 13 digits, perhaps hyphenated)."""
    return bool(re.fullmatch(r"\d{9}[\dX]|\d{13}", compact(text)))


def hyphenless_digits(text: str) -> str:
    """A query's digit groups joined ("90-234" -> "90234"), so part of an ISBN is found
    whether it is typed with hyphens or without."""
    return re.sub(r"(?<=\d)[\s\-](?=\d)", "", text or "")
