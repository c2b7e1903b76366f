"""The time field people type into (lets_site/web/fields.py, TimeTextField)."""

from __future__ import annotations

from datetime import time

import pytest

from lets_site.web.fields import parse_time


@pytest.mark.parametrize(("typed", "read"), [
    ("19:30", time(19, 30)), ("19u30", time(19, 30)), ("19.30", time(19, 30)),
    ("19h30", time(19, 30)), ("19U30", time(19, 30)), (" 9:05 ", time(9, 5)),
    ("19u", time(19, 0)), ("7", time(7, 0)), ("0:00", time(0, 0)), ("23:59", time(23, 59)),
])
def test_time_reads_the_ways_people_write_it(typed: str, read: time) -> None:
    assert parse_time(typed) == read


@pytest.mark.parametrize("typed", ["24:00", "19:60", "19:3", "half acht", "", "19:30:00",
                                   "-1:00", "1930"])
def test_time_refuses_what_is_not_a_time_of_day(typed: str) -> None:
    assert parse_time(typed) is None
