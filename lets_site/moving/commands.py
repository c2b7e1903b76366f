"""``lets-site import`` and ``lets-site export`` (attached by the feature contract)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from lets_site import portable
from lets_site.database import write_transaction
from lets_site.domain import DomainError
from lets_site.extensions import db
from lets_site.members.models import Member, Role, Status
from lets_site.moving import services


def _first_admin() -> Member | None:
    return db.session.scalar(select(Member).where(
        Member.role_rows.any(role=Role.ADMIN), Member.status == Status.ACTIVE)
        .order_by(Member.id).limit(1))


def echo_preview(result: services.Preview) -> None:
    for f in result.files:
        click.echo(f"{f.name}: {f.kind or '?'}, {f.rows} rows, {f.encoding}, "
                   f"delimiter {f.delimiter!r}")
    for kind, n in sorted(result.counts.items()):
        click.echo(f"  {kind}: {n}")
    for p in result.problems:
        click.echo(f"PROBLEM {p.file}:{p.line} [{p.column}] {p.reason}", err=True)


@click.command("import")
@click.option("--dry-run", is_flag=True, help="Check and show what would be created; "
              "write nothing.")
@click.option("--invite", is_flag=True, help="After the import, mail each imported member "
              "with an e-mail address an invitation to choose a password.")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_command(dry_run: bool, invite: bool, files: tuple[Path, ...]) -> None:
    """Import a group from eLAS, eLAND or spreadsheet CSV files (docs/import.md): all or
    nothing, into a new site."""
    data = [(path.name, path.read_bytes()) for path in files]
    with write_transaction():
        actor = _first_admin()
        if dry_run:
            result = services.preview(data, actor)
            db.session.rollback()
            echo_preview(result)
            if result.problems:
                raise SystemExit(1)
            click.echo("Dry run: nothing was written.")
            return
        try:
            result = services.run_import(actor, data)
        except services.ImportRefused as refused:
            db.session.rollback()
            echo_preview(services.Preview(problems=refused.problems))
            raise click.ClickException(str(refused.message)) from refused
        db.session.commit()
        echo_preview(result)
        click.echo("Imported.")
        if invite:
            if actor is None:
                raise click.ClickException("Invitations are sent by an admin: create one "
                                           "first (lets-site create-admin).")
            try:
                sent = services.invite_imported(actor)
            except DomainError as error:
                db.session.rollback()
                raise click.ClickException(str(error.message)) from error
            db.session.commit()
            click.echo(f"Invitations sent: {sent}.")


@click.command("export")
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="A .zip file or a folder (default: instance/exports/<date>.zip).")
@with_appcontext
def export_command(output: Path | None) -> None:
    """Write the site's full export: one JSON document, a CSV per table and the uploaded
    files (docs/import.md)."""
    if output is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        output = Path(current_app.instance_path) / "exports" / f"lets-site-{stamp}.zip"
    counts = portable.write_export(output)
    db.session.rollback()
    click.echo(f"Exported {sum(counts.values())} rows of {len(counts)} tables to {output}.")


COMMANDS = (import_command, export_command)
