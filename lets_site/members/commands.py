"""Members' commands on ``lets-site`` (attached by the feature contract)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from lets_site.database import write_transaction
from lets_site.domain import DomainError
from lets_site.extensions import db
from lets_site.mail import external_url
from lets_site.members import services
from lets_site.settings import get_settings


@click.command("create-admin")
@click.option("--email", required=True, help="E-mail address of the first admin.")
@click.option("--name", required=True, help="Name shown to others.")
@click.option("--code", default=None, help="Account code (default: the next free one).")
@with_appcontext
def create_admin(email: str, name: str, code: str | None) -> None:
    """Create an admin on a fresh site and print the link to choose a password."""
    with write_transaction():
        try:
            member = services.create_first_admin(email, name, code, get_settings().code_prefix)
        except DomainError as error:
            raise click.ClickException(str(error.message)) from error
        token = services.make_token(member, "invite")
        db.session.commit()
    click.echo(f"Admin {member.account_code} created.")
    click.echo("Open this link within "
               f"{current_app.config['INVITATION_MAX_AGE_DAYS']} days to choose a password:")
    click.echo(external_url("members.set_password", token=token))


COMMANDS = (create_admin,)
