"""``lets-site digest send``: the digest for everyone whose period has come (for cron)."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from lets_site.database import utcnow, write_transaction
from lets_site.digests import services
from lets_site.extensions import db

# Members per transaction: fewer commits (each a disk sync) for a large group, and a crash
# undoes at most one batch, which the rerun makes again.
BATCH = 20


cli = AppGroup("digest", help="The e-mail digest of what is new.")


@cli.command("send")
@click.option("--batch", default=BATCH, show_default=True,
              help="Members per transaction.")
def send_command(batch: int) -> None:
    """Queue this period's digest for each member who has none yet (weekly: one per ISO
    week, monthly: one per calendar month); the outbox sends them. Run it daily or
    weekly; a rerun after a crash finishes the rest."""
    report = send_all(batch=max(1, batch))
    click.echo(f"{report['queued']} digests queued, {report['skipped']} members skipped.")


def send_all(batch: int = BATCH) -> dict[str, int]:
    """Each member's (member, period) row and outbox row commit together, in batches of
    members: a crash never keeps one without the other, and a rerun skips who has one.
    A batch that meets another run's row (the UNIQUE constraint) is done again one member
    at a time."""
    now = utcnow()
    report = {"queued": 0, "skipped": 0}
    member_ids = [m.id for m in services.recipients()]
    cache = services.ItemsCache()
    db.session.rollback()
    for start in range(0, len(member_ids), batch):
        chunk = member_ids[start:start + batch]
        try:
            with write_transaction():
                results = [_queue(member_id, now, cache) for member_id in chunk]
                db.session.commit()
        except IntegrityError:
            db.session.rollback()
            results = []
            for member_id in chunk:
                try:
                    with write_transaction():
                        results.append(_queue(member_id, now, cache))
                        db.session.commit()
                except IntegrityError:  # another run made this member's digest meanwhile
                    db.session.rollback()
                    results.append(False)
        for queued in results:
            report["queued" if queued else "skipped"] += 1
    return report


def _queue(member_id: int, now: datetime, cache: services.ItemsCache) -> bool:
    member = db.session.get(services.Member, member_id)
    return member is not None and services.queue_digest(member, now, cache) is not None


COMMANDS = (cli,)
