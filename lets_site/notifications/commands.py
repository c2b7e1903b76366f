"""``lets-site notify due``: the reminders whose time has come (run it daily)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lets_site.database import write_transaction
from lets_site.extensions import db
from lets_site.notifications import services

notify = AppGroup("notify", help="Notifications sent by date (listings expiring, loans due).")


@notify.command("due")
def due() -> None:
    """Queue each reminder that is due, once (run it daily from cron or a systemd timer;
    ``lets-site mail send`` or the in-process sender delivers them)."""
    with write_transaction():
        queued = services.send_due()
        db.session.commit()
    click.echo(f"Queued {queued} reminder(s).")
