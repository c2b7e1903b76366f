"""Backups kept and verified, and restore (lets_site/backups.py, `lets-site backup` and
`lets-site restore`; docs/operations.md).

Every test here commits for real (the backup reads the database file or runs pg_dump, in
another connection), on SQLite or on LETS_TEST_DATABASE_URL."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import stamp
from sqlalchemy import func, select, text
from sqlalchemy import inspect as sa_inspect

from lets_site import backups, create_app
from lets_site.cli import main
from lets_site.extensions import db
from lets_site.ledger import services as ledger
from lets_site.ledger.models import Account, Transfer
from lets_site.members.models import Member
from tests import factories
from tests.conftest import app_config

pytestmark = pytest.mark.real_commits

POSTGRESQL = (os.environ.get("LETS_TEST_DATABASE_URL") or "").startswith("postgres")
SUFFIX = backups.POSTGRESQL_SUFFIX if POSTGRESQL else backups.SQLITE_SUFFIX


@pytest.fixture
def site(app: Flask) -> Iterator[Flask]:
    """The test's database, stamped with the migrations' head as a migrated site's is."""
    stamp(directory=app.extensions["migrate"].directory, revision="head")
    try:
        yield app
    finally:
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _people(n: int = 4) -> list[Member]:
    members = [factories.make_member(locale="en") for _ in range(n)]
    db.session.commit()
    return members


def _count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _backup(runner: Any, *args: str) -> Any:
    db.session.remove()  # what the test wrote is committed; the command reads the file
    return runner.invoke(main, args=["backup", *args])


def _written(app: Flask) -> list[Path]:
    return backups.verified_backups(backups.folder(app))


# --- Backups -----------------------------------------------------------------------------------


def test_backup_is_verified_and_names_itself(site: Flask, runner: Any) -> None:
    a, b, *_ = _people()
    factories.make_transfer(a, b, 3)
    result = _backup(runner)
    assert result.exit_code == 0, result.output
    assert "verified" in result.output
    [path] = _written(site)
    assert path.name.startswith("lets-") and path.name.endswith(SUFFIX)
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial file left
    manifest = backups.read_backup(path)
    assert (manifest.members, manifest.transfers) == (_count(Member), 1)
    assert manifest.base_url == site.config["BASE_URL"]
    assert manifest.revision in backups.code_revisions(
        backups.migrations_folder(site))[0]
    assert manifest.engine == ("postgresql" if POSTGRESQL else "sqlite")
    assert backups.verify_postgresql(path) == [] if POSTGRESQL else \
        backups.verify_sqlite(path, site) == []


def test_backup_keeps_the_newest_n_after_the_new_one_verified(site: Flask, runner: Any) -> None:
    _people(2)
    site.config["BACKUP_KEEP"] = 3
    where = backups.folder(site)
    where.mkdir(parents=True)
    old = [where / f"lets-2026010{day}T030000Z{SUFFIX}" for day in range(1, 5)]
    for path in old:
        path.write_bytes(b"an older backup")
    foreign = where / "notes.txt"
    foreign.write_text("kept")
    result = _backup(runner)
    assert result.exit_code == 0, result.output
    kept = _written(site)
    assert kept[:2] == old[-2:] and len(kept) == 3  # the two newest old ones and the new one
    assert foreign.exists()
    assert "Removed the older backup lets-20260101T030000Z" in result.output


def test_backup_that_fails_its_ledger_check_is_marked_and_removes_nothing(
        site: Flask, runner: Any) -> None:
    a, b, *_ = _people()
    factories.make_transfer(a, b, 5)
    site.config["BACKUP_KEEP"] = 1
    where = backups.folder(site)
    where.mkdir(parents=True)
    older = where / f"lets-20260101T030000Z{SUFFIX}"
    older.write_bytes(b"an older backup")
    account = db.session.scalar(select(Account).where(Account.code == a.account_code))
    account.balance += 1  # the live ledger is broken: its copy must not pass as good
    db.session.commit()
    result = _backup(runner)
    if POSTGRESQL:  # verified with pg_restore --list only: the ledger is not read
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1
    assert "sum of all balances is 1" in result.output
    assert "failed its verification" in result.output
    assert older.exists()  # nothing removed
    [marked] = [p for p in where.iterdir() if backups.UNVERIFIED in p.name]
    assert backups.read_backup(marked).transfers == 1  # still a readable copy
    assert backups.last_backup_time(where) is not None and _written(site) == [older]


def _book_until(app: Flask, stop: threading.Event, codes: list[str], errors: list[BaseException],
                booked: list[int], seed: int) -> None:
    """One member's worth of payments through the ledger's service, committed one by one."""
    from lets_site.database import write_transaction

    n = 0
    with app.app_context():
        try:
            while not stop.is_set():
                payer, payee = codes[(seed + n) % len(codes)], codes[(seed + n + 1) % len(codes)]
                with write_transaction():
                    actor = db.session.scalar(select(Member).where(Member.account_code == payer))
                    ledger.pay(actor, payer, payee, 1 + n % 3, f"load {seed}-{n}", None)
                    db.session.commit()
                n += 1
                booked.append(1)
        except BaseException as error:
            errors.append(error)
        finally:
            db.session.remove()


def _under_load(app: Flask, work: Any, threads: int = 4) -> tuple[Any, int]:
    members = _people(threads + 1)
    codes = [m.account_code for m in members]
    db.session.remove()
    stop, errors, booked = threading.Event(), [], []
    workers = [threading.Thread(target=_book_until, args=(app, stop, codes, errors, booked, i))
               for i in range(threads)]
    for worker in workers:
        worker.start()
    try:
        deadline = time.monotonic() + 20
        while len(booked) < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        before = len(booked)
        result = work()
        during = len(booked) - before
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    assert not errors, errors
    return result, during


def test_backup_during_concurrent_transfers_is_consistent(site: Flask, runner: Any) -> None:
    result, during = _under_load(site, lambda: _backup(runner))
    assert result.exit_code == 0, result.output
    assert during > 0 or POSTGRESQL, "no transfer was booked while the backup ran"
    [path] = _written(site)
    manifest = backups.read_backup(path)
    assert 20 <= (manifest.transfers or 0) < _count(Transfer)  # a snapshot from the middle
    if not POSTGRESQL:
        copy = sqlite3.connect(path)
        try:
            assert copy.execute("SELECT count(*) FROM ledger_transfer").fetchone()[0] == \
                manifest.transfers
            assert copy.execute("SELECT sum(balance) FROM ledger_account").fetchone()[0] == 0
        finally:
            copy.close()


# --- Restore -----------------------------------------------------------------------------------


def _restore(runner: Any, path: Path, *args: str, answer: str | None = None) -> Any:
    db.session.remove()
    return runner.invoke(main, args=["restore", str(path), *args], input=answer)


def test_restore_brings_back_the_backup_after_keeping_the_current_database(
        site: Flask, runner: Any) -> None:
    a, b, *_ = _people()
    factories.make_transfer(a, b, 2)
    a, b = (a.id, b.id)
    assert _backup(runner).exit_code == 0
    [made] = _written(site)
    a, b = (db.session.get(Member, m) for m in (a, b))
    factories.make_transfer(b, a, 1)
    factories.make_transfer(b, a, 1)  # after the backup: 3 transfers now
    db.session.commit()
    held = None if POSTGRESQL else sqlite3.connect(backups._sqlite_path())  # a running site
    try:
        if held is not None:
            held.execute("SELECT count(*) FROM member").fetchone()
        refused = _restore(runner, made, answer="n\n")
    finally:
        if held is not None:
            held.close()
    assert refused.exit_code == 1 and "1 transfers" in refused.output
    assert ("open in another process" in refused.output) is not POSTGRESQL
    assert _count(Transfer) == 3  # nothing happened without a yes
    result = _restore(runner, made, answer="y\n")
    assert result.exit_code == 0, result.output
    assert "Restart the site" in result.output
    assert "open in another process" not in result.output
    assert _count(Transfer) == 1
    kept = [p for p in _written(site) if "before-restore" in p.name]
    assert len(kept) == 1 and backups.read_backup(kept[0]).transfers == 3
    db.session.remove()
    check = runner.invoke(main, args=["ledger", "check"])
    assert check.exit_code == 0, check.output


def test_restore_refuses_what_is_not_a_backup_of_this_site(
        site: Flask, runner: Any, tmp_path: Path) -> None:
    _people(2)
    assert _backup(runner).exit_code == 0
    [made] = _written(site)
    random_file = tmp_path / "random.bin"
    random_file.write_bytes(os.urandom(5000))
    truncated = tmp_path / f"truncated{SUFFIX}"
    truncated.write_bytes(made.read_bytes()[: made.stat().st_size // 2])
    cases = {
        random_file: "neither a SQLite backup nor a PostgreSQL backup",
        truncated: "truncated",
        tmp_path / "missing": "is not a file",
    }
    if not POSTGRESQL:
        plain = tmp_path / "plain.sqlite3"  # a SQLite database, but no manifest
        sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.close()
        cases[plain] = "not a backup written by `lets-site backup`"
    for path, reason in cases.items():
        result = _restore(runner, path, "--yes")
        assert result.exit_code == 1, (path, result.output)
        assert "cannot be restored" in result.output and reason in result.output, result.output
    site.config["BASE_URL"] = "https://lets.example.org"
    other = _restore(runner, made, "--yes")
    assert other.exit_code == 1
    assert "backup of another site (http://localhost" in other.output
    assert "--other-site" in other.output
    assert _restore(runner, made, "--yes", "--other-site").exit_code == 0


def _with_manifest(made: Path, target: Path, **changes: Any) -> Path:
    """A copy of a backup whose manifest says something else."""
    import dataclasses
    import tarfile

    manifest = dataclasses.replace(backups.read_backup(made), **changes)
    if not POSTGRESQL:
        target.write_bytes(made.read_bytes())
        with sqlite3.connect(target) as copy:
            copy.execute(f"UPDATE {backups.MANIFEST_TABLE} SET manifest = ?",  # noqa: S608
                         (manifest.to_json(),))
        return target
    import io

    with tarfile.open(made) as source, tarfile.open(target, "w") as archive:
        data = manifest.to_json().encode()
        info = tarfile.TarInfo(backups.MANIFEST_MEMBER)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
        member = source.getmember(backups.DUMP_MEMBER)
        archive.addfile(member, source.extractfile(member))
    return target


def test_restore_refuses_a_newer_schema_or_format(site: Flask, runner: Any,
                                                  tmp_path: Path) -> None:
    _people(2)
    assert _backup(runner).exit_code == 0
    [made] = _written(site)
    newer = _with_manifest(made, tmp_path / f"newer{SUFFIX}", revision="0099_from_the_future")
    result = _restore(runner, newer, "--yes")
    assert result.exit_code == 1
    assert "its schema (0099_from_the_future) is newer than this code knows" in result.output
    later = _with_manifest(made, tmp_path / f"later{SUFFIX}", format=backups.FORMAT + 1)
    assert "newer version of lets-site" in _restore(runner, later, "--yes").output
    # The edge: a schema this code knows, but older than its head, restores and says so.
    older = _with_manifest(made, tmp_path / f"older{SUFFIX}", revision="0017_feed")
    result = _restore(runner, older, "--yes")
    assert result.exit_code == 0, result.output
    assert "run `lets-site db upgrade`" in result.output


def test_backup_under_load_restores_into_a_fresh_instance_whose_ledger_checks(
        site: Flask, runner: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result, _during = _under_load(site, lambda: _backup(runner))
    assert result.exit_code == 0, result.output
    [made] = _written(site)
    manifest = backups.read_backup(made)
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    if POSTGRESQL:  # one database here: emptied, it stands in for a fresh site's
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
        url = site.config["DATABASE_URL"]
    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path / "fresh"))
    fresh = create_app(app_config(tmp_path / "fresh", url))
    with fresh.app_context():
        try:
            commands = fresh.test_cli_runner()
            restored = commands.invoke(main, args=["restore", "--yes", str(made)])
            assert restored.exit_code == 0, restored.output
            assert "kept as" not in restored.output  # nothing to keep in a fresh instance
            check = commands.invoke(main, args=["ledger", "check"])
            assert check.exit_code == 0, check.output
            assert f"{manifest.transfers} transfers" in check.output
            assert _count(Member) == manifest.members
            assert backups.MANIFEST_TABLE not in sa_inspect(db.engine).get_table_names()
        finally:
            db.session.remove()
            db.engine.dispose()
