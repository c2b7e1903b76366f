"""The ledger's commands: ``lets-site ledger ...`` (attached by the feature contract)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lets_site.extensions import db
from lets_site.ledger import services

cli = AppGroup("ledger", help="Ledger commands.")


@cli.command("check")
def check_command() -> None:
    """Verify the ledger: balances sum to zero, match their entries, respect limits; no
    form or mass transfer was booked twice."""
    # One snapshot for every query, while the site keeps booking: SQLite's read
    # transaction in WAL mode is one; PostgreSQL needs REPEATABLE READ for it.
    if db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    problems = services.check()
    figures = services.counts()
    db.session.rollback()
    for problem in problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"Ledger OK: {figures['accounts']} accounts, {figures['transfers']} transfers, "
               "sum of balances 0.")


COMMANDS = (cli,)
