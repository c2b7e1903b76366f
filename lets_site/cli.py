"""The ``lets-site`` command: ``demo``, ``run``, ``db ...``, ``backup``, ``mail send``,
``translate ...`` and the commands features add (``<feature>/commands.py``, attached by the
feature contract: ``create-admin``, ``ledger check``, ``offers expire`` ...)."""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

DEMO_MARKER = "DEMO-DATABASE"


WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def _create_app() -> Flask:
    from lets_site import create_app

    app = create_app()
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.info_name == "run":  # Flask's `run` command loads us
        _serve_here(app, str(ctx.params.get("host") or ""), ctx.params.get("port"))
    return app


def _serve_here(app: Flask, host: str, port: object) -> None:
    """``lets-site run --host H --port P``: answer to H, and use it in links unless
    LETS_BASE_URL (or instance/config.py) names the public address."""
    from lets_site.config import Defaults

    if host in WILDCARD_HOSTS:
        return  # every interface: which name the visitors use is for TRUSTED_HOSTS to say
    trusted = app.config.get("TRUSTED_HOSTS")
    if trusted is not None and host.lower() not in trusted:
        trusted.append(host.lower())
    if app.config["BASE_URL"] == Defaults.BASE_URL:
        app.config["BASE_URL"] = f"http://{host}:{port}"


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False,
             load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """Manage a lets-site instance (the folder in LETS_INSTANCE, default ./instance)."""


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--instance", "instance", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder for the demo's database and files "
              "(default: LETS_INSTANCE or ./instance).")
@click.option("--no-serve", is_flag=True, help="Build the demo database and stop.")
@click.option("--federation", is_flag=True,
              help="Three demo groups (Ieper, Oostende, Hasselt) and a federation site "
              "following their feeds, on --port and the next three ports.")
@click.option("--group", "group_slug", default=None, hidden=True,
              help="Which demo group to build (the federation demo's groups).")
def demo(host: str, port: int, instance: Path | None, no_serve: bool, federation: bool,
         group_slug: str | None) -> None:
    """Build a fresh demo database (a LETS group in Ieper) and serve it."""
    from lets_site import create_app
    from lets_site.demo import build_demo
    from lets_site.demo_federation import group_by_slug

    if instance is not None:
        os.environ["LETS_INSTANCE"] = str(instance.resolve())
    if os.environ.get("LETS_DATABASE_URL"):
        raise click.ClickException(
            "The demo always uses its own SQLite database; unset LETS_DATABASE_URL first."
        )
    if federation:
        from lets_site.config import _instance_path
        from lets_site.demo_federation import run as run_federation

        # Four instance folders (ieper, oostende, hasselt, federation) inside this one.
        folder = instance.resolve() if instance else Path(_instance_path()) / "federation-demo"
        try:
            run_federation(folder, host, port, serve=not no_serve, echo=click.echo)
        except RuntimeError as error:
            raise click.ClickException(str(error)) from error
        return
    try:
        group = group_by_slug(group_slug) if group_slug else None
    except KeyError:
        raise click.BadParameter(f"no demo group {group_slug!r}", param_hint="--group") \
            from None
    overrides: dict[str, object] = {"SECURE_COOKIES": False, "DATABASE_URL": None,
                                    "BASE_URL": f"http://{host}:{port}"}
    if host in WILDCARD_HOSTS:
        # Served on every interface, under whatever name the visitor uses; a demo's data
        # and mail (written to files) are made up, so any host is answered.
        overrides["TRUSTED_HOSTS"] = ["*"]
    app = create_app(overrides)
    folder = Path(app.instance_path)
    db_file = folder / "lets.sqlite3"
    marker = folder / DEMO_MARKER
    if db_file.exists() and not marker.exists():
        raise click.ClickException(
            f"{db_file} exists and is not a demo database; the demo will not overwrite it. "
            "Use --instance with another folder."
        )
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_file) + suffix).unlink(missing_ok=True)
    marker.write_text("This folder holds a demo database; `lets-site demo` rebuilds it.\n")
    with app.app_context():
        logins = build_demo(group)
        backed_up = _demo_backup()
    click.echo(f"Demo database built in {folder}")
    click.echo(backed_up)
    click.echo("Demo logins (account code or e-mail address, then the password):")
    for role, code, email, password in logins:
        click.echo(f"  {role:<14} {code:<8} {email:<36} {password}")
    if no_serve:
        return
    click.echo(f"Serving on http://{host}:{port}  (Ctrl+C to stop)")
    # Not app.run(): Flask ignores it inside a Flask CLI command and returns at once.
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True)


@main.command("backup")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: the backup folder, "
              "lets-<time>.sqlite3 or .pgdump.tar).")
@with_appcontext
def backup(output: Path | None) -> None:
    """Back up the database safely while the site runs, verify the copy and keep the newest
    BACKUP_KEEP backups (docs/operations.md).

    The copy is written to a temporary file (mode 0600 from the start) beside the target and
    renamed only once it is complete and verified, so a full disk or a killed process never
    leaves a truncated file under the backup's name."""
    from lets_site import backups

    target = output or backups.folder()
    try:
        outcome = backups.write_backup(output)
    except (OSError, sqlite3.Error, backups.BackupError) as error:
        raise click.ClickException(_backup_failure(target, error)) from None
    if not outcome.verified:
        for problem in outcome.problems:
            click.echo(f"PROBLEM: {problem}", err=True)
        raise click.ClickException(
            f"Backup written to {outcome.path}, but it failed its verification (above); "
            "older backups were kept.")
    click.echo(f"Backup written to {outcome.path} and verified: {outcome.manifest.describe()}")
    for path in outcome.removed:
        click.echo(f"Removed the older backup {path.name}")


@main.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.option("--other-site", is_flag=True,
              help="Accept a backup of a site with another BASE_URL.")
@with_appcontext
def restore(file: Path, yes: bool, other_site: bool) -> None:
    """Replace the database with a backup written by `lets-site backup`, after keeping the
    current database as a backup (docs/operations.md, "Restore")."""
    from lets_site import backups

    try:
        manifest = backups.read_backup(file)
    except backups.BackupError as error:
        raise click.ClickException(f"{file} cannot be restored: {error}") from None
    reason = backups.refusal(manifest, other_site=other_site)
    if reason is not None:
        raise click.ClickException(f"{file} cannot be restored: {reason}")
    click.echo(f"This is a {manifest.describe()}.")
    if not backups.is_postgresql() and backups.sqlite_in_use():
        click.echo("WARNING: the database is open in another process (the site is running?). "
                   "Stop the site first: it keeps using the old database until restarted.")
    if not yes:
        click.confirm("Keep the current database as a backup, then replace it with this one?",
                      abort=True)
    if backups.current_database_exists():
        try:
            kept = backups.write_backup(label="before-restore", keep=0)
        except (OSError, sqlite3.Error, backups.BackupError) as error:
            raise click.ClickException(
                "The current database could not be kept as a backup, so nothing was "
                f"restored: {error}") from None
        note = "" if kept.verified else " (it failed its verification: " + \
            "; ".join(kept.problems[:3]) + ")"
        click.echo(f"The current database was kept as {kept.path}{note}")
    try:
        backups.restore(file)
    except (OSError, sqlite3.Error, backups.BackupError) as error:
        raise click.ClickException(f"Nothing was restored: {error}") from None
    click.echo(f"Restored the backup made {manifest.created}. Restart the site now.")
    if not backups.is_current_schema(manifest):
        click.echo("The backup's schema is older than this code: run `lets-site db upgrade`.")


def _demo_backup() -> str:
    """A first verified backup of the demo (in an app context), as a real site's nightly
    one, so ``/healthz`` shows what a healthy site answers; a failure is only reported."""
    from lets_site import backups

    target = backups.folder()
    try:
        outcome = backups.write_backup()
    except (OSError, sqlite3.Error, backups.BackupError) as error:
        return f"No first backup: {_backup_failure(target, error)} (/healthz will say so)"
    if not outcome.verified:
        return f"The first backup failed its verification: {'; '.join(outcome.problems)}"
    return (f"First backup written to {outcome.path} and verified (a real site runs "
            "`lets-site backup` daily; /healthz checks its age)")


def _backup_failure(target: Path, error: BaseException) -> str:
    text = str(error)
    full = (isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)) or (
        isinstance(error, sqlite3.Error) and "full" in text.lower()
    )
    place = target if target.suffix else target / "lets-<time>"
    if full:
        return (f"Disk full: no backup written to {place}. Free some space on "
                f"{place.parent} (or choose another place with --output) and try again.")
    return f"No backup written to {place}: {text}"


@main.group("mail")
def mail() -> None:
    """The outbox of e-mail messages."""


@mail.command("send")
@click.option("--retry-failed", is_flag=True,
              help="Queue the messages that failed for good once more first.")
@with_appcontext
def mail_send(retry_failed: bool) -> None:
    """Send the queued messages that are due, retries included (run it from cron)."""
    from lets_site import mail as outbox

    if retry_failed:
        click.echo(f"{outbox.requeue_failed()} failed message(s) queued again.")
    report = outbox.send_due(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"Sent {report.sent}, to retry later {report.retrying}, failed {report.failed}.")
    if report.retrying or report.failed:
        sys.exit(1)


@main.group("translate")
def translate() -> None:
    """Update and compile the nl, fr and en message catalogs."""


def _pybabel(*args: str) -> None:
    from babel.messages.frontend import CommandLineInterface

    CommandLineInterface().run(["pybabel", "-q", *args])


_ROOT = Path(__file__).resolve().parent.parent
_TRANSLATIONS = _ROOT / "lets_site" / "translations"


@translate.command("update")
def translate_update() -> None:
    """Extract the messages and merge them into each language's .po file."""
    pot = _TRANSLATIONS / "messages.pot"
    # Only hidden folders are skipped: templates/_macros holds UI text too.
    _pybabel("extract", "-F", str(_ROOT / "babel.cfg"), "-k", "_l", "--no-location",
             "--ignore-dirs", ".*",
             "--sort-output", "--project", "lets-site", "-o", str(pot), str(_ROOT))
    for lang in ("nl", "fr", "en"):
        po = _TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        if po.exists():
            _pybabel("update", "-i", str(pot), "-d", str(_TRANSLATIONS), "-l", lang,
                     "--no-fuzzy-matching", "--ignore-obsolete")
        else:
            _pybabel("init", "-i", str(pot), "-d", str(_TRANSLATIONS), "-l", lang)
    click.echo(f"Catalogs updated from {pot}")


@translate.command("compile")
def translate_compile() -> None:
    """Compile the .po files into the .mo files the site reads."""
    _pybabel("compile", "-d", str(_TRANSLATIONS), "--statistics")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
