"""``lets-site import`` and ``lets-site export`` (attached by the feature contract)."""

from __future__ import annotations

import tempfile
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
                type=click.Path(exists=True, path_type=Path))
@with_appcontext
def import_command(dry_run: bool, invite: bool, files: tuple[Path, ...]) -> None:
    """Import a group from eLAS, eLAND or spreadsheet CSV files, or load a full export of
    lets-site (its .zip or folder), into a new site: all or nothing (docs/import.md)."""
    if len(files) == 1 and (files[0].suffix == ".zip" or files[0].is_dir()):
        _load_export(files[0], dry_run)
        return
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


def _load_export(source: Path, dry_run: bool) -> None:
    with tempfile.TemporaryDirectory() as unpacked, write_transaction():
        try:
            document = portable.read_export(source, Path(unpacked))
            files = source / "files" if source.is_dir() else Path(unpacked) / "files"
            counts = portable.load_document(document, None if dry_run else files)
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(str(error.message)) from error
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    click.echo(f"{'Would load' if dry_run else 'Loaded'} {sum(counts.values())} rows of "
               f"{len(counts)} tables from {source.name}.")


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
