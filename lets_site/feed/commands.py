"""The feed's command: ``lets-site federation keygen``. The aggregator brings the other
``federation`` commands in a group of the same name; the feature contract makes the two
groups one (``features._add_command``)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lets_site.feed import signing

cli = AppGroup("federation", help="Federation: the group feed and the feeds it follows.")


@cli.command("keygen")
@click.option("--force", is_flag=True, help="Replace an existing key (readers must be told).")
def keygen_command(force: bool) -> None:
    """Make the Ed25519 key that signs /feed.json and print its public key.

    The private key is written under instance/ (mode 0600), never into the database."""
    path = signing.key_path()
    try:
        key = signing.generate(path, force=force)
    except FileExistsError:
        raise click.ClickException(
            f"{path} exists already; --force replaces it (followers then need the new "
            "public key).") from None
    click.echo(f"Private key: {path} (mode 0600; keep it out of backups you share)")
    click.echo(f"Key id: {signing.key_id(key)}")
    click.echo(f"Public key: {signing.public_key_text(key)}")


COMMANDS = (cli,)
