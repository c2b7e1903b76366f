"""/healthz: one line per check, 200 only when all pass, each failing check flips it."""

from __future__ import annotations

import os
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, text

from lets_site import backups, create_app
from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.mail import Mail, send_after_commit
from tests.conftest import app_config

LINE = re.compile(r"^(database|migrations|outbox|backup): (ok|FAIL)( \([^()@/]*\))?$")


@pytest.fixture
def healthy(app: Flask) -> Flask:
    """A migrated database (its revision at the code's head) and a fresh backup."""
    heads, _known = backups.code_revisions(backups.migrations_folder(app))
    db.session.execute(text("CREATE TABLE alembic_version "
                            "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
    db.session.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": min(heads)})
    db.session.commit()
    where = backups.folder(app)
    where.mkdir(parents=True)
    (where / f"lets-20260101T030000Z{backups.SQLITE_SUFFIX}").write_bytes(b"verified")
    return app


def _lines(response: Any) -> dict[str, str]:
    body = response.get_data(as_text=True)
    lines = body.splitlines()
    assert all(LINE.match(line) for line in lines), body
    return {line.split(":")[0]: line.split(": ", 1)[1] for line in lines}


def test_healthz_all_ok_is_200_plain_uncached_without_cookie(healthy: Flask, client: Any,
                                                            make_member: Any) -> None:
    make_member(email="private@example.org", display_name="Private Person")
    db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    lines = _lines(response)
    assert list(lines) == ["database", "migrations", "outbox", "backup"]
    assert all(state.startswith("ok") for state in lines.values())
    body = response.get_data(as_text=True)
    assert "example.org" not in body and "Private" not in body


def test_healthz_counts_two_queries(healthy: Flask, client: Any) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(statements) == 2, statements


def test_healthz_is_not_kept_in_the_page_cache(healthy: Flask, client: Any) -> None:
    assert client.get("/healthz").status_code == 200
    db.session.execute(text("DELETE FROM alembic_version"))
    db.session.commit()
    assert client.get("/healthz").status_code == 503  # not the stored 200


def test_healthz_fails_when_migrations_are_behind(healthy: Flask, client: Any) -> None:
    db.session.execute(text("UPDATE alembic_version SET version_num = '0017_feed'"))
    db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert _lines(response)["migrations"].startswith("FAIL")
    assert _lines(response)["database"] == "ok"


def _queue_mail(age: timedelta) -> None:
    mail = send_after_commit(Mail(to="someone@example.org", subject="Hello", body="Hi"))
    db.session.flush()
    mail.created_at = utcnow() - age
    db.session.commit()


def test_healthz_fails_when_the_oldest_queued_mail_is_past_the_limit(
        healthy: Flask, client: Any) -> None:
    healthy.config["MAIL_SEND_MODE"] = "cron"  # nothing sends it during the test
    healthy.config["HEALTH_OUTBOX_MAX_AGE"] = 3600
    _queue_mail(timedelta(seconds=3600 - 30))
    assert client.get("/healthz").status_code == 200  # within the limit
    _queue_mail(timedelta(seconds=3600 + 30))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert _lines(response)["outbox"].startswith("FAIL (oldest queued mail 60 min old")
    assert "someone" not in response.get_data(as_text=True)


def test_healthz_fails_when_the_last_backup_is_too_old_or_missing(
        healthy: Flask, client: Any) -> None:
    healthy.config["HEALTH_BACKUP_MAX_AGE"] = 3600
    [backup] = backups.verified_backups(backups.folder(healthy))
    within = time.time() - 3600 + 60
    os.utime(backup, (within, within))
    assert client.get("/healthz").status_code == 200
    past = time.time() - 3600 - 60
    os.utime(backup, (past, past))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert _lines(response)["backup"] == "FAIL (last 61 min ago, limit 60 min)"
    # A copy that failed its verification does not count as a backup.
    (backup.parent / f"lets-20260102T030000Z{backups.UNVERIFIED}.sqlite3").write_bytes(b"x")
    backup.unlink()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert _lines(response)["backup"] == "FAIL (no verified backup)"
    healthy.config["HEALTH_BACKUP_MAX_AGE"] = 0  # the check switched off
    assert client.get("/healthz").status_code == 200


def test_healthz_fails_when_the_database_is_unreachable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path / "instance"))
    # A SQLite file in a folder that does not exist cannot be opened.
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'gone' / 'lets.sqlite3'}"))
    app.config["HEALTH_BACKUP_MAX_AGE"] = 0
    response = app.test_client().get("/healthz", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    lines = _lines(response)
    assert lines["database"] == "FAIL (unreachable)"
    assert lines["backup"] == "ok (not checked)"
    with app.app_context():
        db.engine.dispose()
