"""Which errors the error pages read as "the disk is full" (lets_site/web/errors.py): the
SQLite case is proven end to end by tests/test_soak.py on a real full disk; these are the
other ways a full disk shows up, as the drivers raise them."""

from __future__ import annotations

import errno

import psycopg.errors
from sqlalchemy.exc import IntegrityError, OperationalError

from lets_site.web.errors import is_disk_full


def test_postgresql_disk_full_is_read_as_a_full_disk() -> None:
    original = psycopg.errors.DiskFull("could not extend file: No space left on device")
    wrapped = OperationalError("INSERT ...", {}, original)
    assert is_disk_full(wrapped)


def test_a_file_write_on_a_full_disk_is_read_as_a_full_disk() -> None:
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as error:
            raise RuntimeError("saving the photo failed") from error
    except RuntimeError as error:
        assert is_disk_full(error)


def test_other_errors_are_not() -> None:
    assert not is_disk_full(None)
    assert not is_disk_full(RuntimeError("boom"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(IntegrityError("INSERT ...", {}, ValueError("duplicate")))
    assert not is_disk_full(OperationalError("SELECT 1", {}, psycopg.errors.QueryCanceled()))
