"""``lets-site digest send``: the digest for everyone whose period has come (for cron)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from lets_site.database import utcnow, write_transaction
from lets_site.digests import services
from lets_site.extensions import db

cli = AppGroup("digest", help="The e-mail digest of what is new.")


@cli.command("send")
def send_command() -> None:
    """Queue this period's digest for each member who has none yet (weekly: one per ISO
    week, monthly: one per calendar month), one transaction per member; the outbox sends
    them. Run it daily or weekly; a rerun after a crash finishes the rest."""
    report = send_all()
    click.echo(f"{report['queued']} digests queued, {report['skipped']} members skipped.")


def send_all() -> dict[str, int]:
    """Each member in a transaction of their own: the (member, period) row and the outbox
    row commit together, so a crash never loses one without the other."""
    now = utcnow()
    report = {"queued": 0, "skipped": 0}
    member_ids = [m.id for m in services.recipients()]
    db.session.rollback()
    for member_id in member_ids:
        with write_transaction():
            member = db.session.get(services.Member, member_id)
            try:
                queued = services.queue_digest(member, now) if member is not None else None
                db.session.commit()
            except IntegrityError:  # another run made this member's digest meanwhile
                db.session.rollback()
                queued = None
        report["queued" if queued else "skipped"] += 1
    return report


COMMANDS = (cli,)
