"""Offers' commands: ``lets-site offers ...`` (attached by the feature contract)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lets_site.database import write_transaction
from lets_site.extensions import db
from lets_site.offers import services

cli = AppGroup("offers", help="Offers and wants commands.")


@cli.command("expire")
def expire_command() -> None:
    """Store the state "expired" for published listings past their date (optional: the
    site already treats them as expired)."""
    with write_transaction():
        count = services.expire_overdue()
        db.session.commit()
    click.echo(f"{count} listings marked expired.")


COMMANDS = (cli,)
