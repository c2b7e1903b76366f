"""``/healthz`` for uptime monitors: one line per check, no private data.

Checks, each ``ok`` or ``FAIL``: the database answers; its schema is at the code's
migration head; the oldest queued mail is not older than ``HEALTH_OUTBOX_MAX_AGE`` seconds;
the newest verified backup is not older than ``HEALTH_BACKUP_MAX_AGE`` seconds (0 switches
that check off). Two queries: the schema revision (which also proves the database
answers) and the oldest queued mail; the backup's age is one listing of the backup folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from lets_site import backups
from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.mail import MailStatus, OutboxMail


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        state = "ok" if self.ok else "FAIL"
        return f"{self.name}: {state}" + (f" ({self.detail})" if self.detail else "")


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 7200:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds // 3600)} h"


def checks(app: Flask, now: datetime | None = None) -> list[Check]:
    now = now or utcnow()
    found: list[Check] = []
    revision: str | None = None
    oldest: datetime | None = None
    reachable = True
    try:
        with db.engine.connect() as connection:
            try:
                # In a savepoint: on PostgreSQL a failed statement spoils the transaction
                # (and a request's other queries with it) unless rolled back to one.
                with connection.begin_nested():
                    revision = connection.scalar(
                        text("SELECT version_num FROM alembic_version"))
            except SQLAlchemyError:  # no such table: never migrated
                revision = None
            oldest = connection.scalar(select(func.min(OutboxMail.created_at))
                                       .where(OutboxMail.status == MailStatus.QUEUED))
    except SQLAlchemyError:
        reachable = False
    found.append(Check("database", reachable, "" if reachable else "unreachable"))
    if not reachable:
        found.append(Check("migrations", False, "unknown"))
        found.append(Check("outbox", False, "unknown"))
    else:
        heads, _known = backups.code_revisions(backups.migrations_folder(app))
        current = revision in heads
        found.append(Check("migrations", current,
                           "" if current else "behind the code: run lets-site db upgrade"))
        limit = int(app.config.get("HEALTH_OUTBOX_MAX_AGE") or 0)
        if oldest is not None and oldest.tzinfo is None:  # PostgreSQL gives it aware
            oldest = oldest.replace(tzinfo=now.tzinfo)
        waited = 0.0 if oldest is None else (now - oldest).total_seconds()
        stuck = limit > 0 and waited > limit
        found.append(Check("outbox", not stuck,
                           f"oldest queued mail {_age(waited)} old, limit {_age(limit)}"
                           if stuck else ""))
    found.append(_backup_check(app, now))
    return found


def _backup_check(app: Flask, now: datetime) -> Check:
    limit = int(app.config.get("HEALTH_BACKUP_MAX_AGE") or 0)
    if limit <= 0:
        return Check("backup", True, "not checked")
    last = backups.last_backup_time(backups.folder(app))
    if last is None:
        return Check("backup", False, "no verified backup")
    age = max(0.0, (now - last).total_seconds())
    if age > limit:
        return Check("backup", False, f"last {_age(age)} ago, limit {_age(limit)}")
    return Check("backup", True, f"last {_age(age)} ago")
