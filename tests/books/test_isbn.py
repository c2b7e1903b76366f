from __future__ import annotations

import pytest

from lets_site.books import isbn


@pytest.mark.parametrize("text, expected", [
    ("9789023456781", None),  # wrong check digit (1 instead of the right one)
    ("978-0-306-40615-7", "9780306406157"),
    ("978 0 306 40615 7", "9780306406157"),
    ("0-306-40615-2", "9780306406157"),  # the same book as ISBN-10
    ("0306406152", "9780306406157"),
    ("0-306-40615-3", None),  # ISBN-10, checksum off by one
    ("978-0-306-40615-8", None),  # ISBN-13, checksum off by one
    ("2-07-036822-x", "9782070368228"),  # X as check digit, lower case
    ("2070368228", None),  # the same digits with 8 where X belongs
    ("977-0-306-40615-7", None),  # not a book prefix
    ("12345", None),
    ("", None),
    ("97803064061570", None),  # fourteen digits
])
def test_to_isbn13_checks_the_check_digit(text: str, expected: str | None) -> None:
    assert isbn.to_isbn13(text) == expected


def test_looks_like_isbn_ignores_separators() -> None:
    assert isbn.looks_like_isbn("978-0-306-40615-7")
    assert isbn.looks_like_isbn("0 306 40615 2")
    assert not isbn.looks_like_isbn("reve 1947")
