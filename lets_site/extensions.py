"""Flask extensions, created unbound and bound to the app in ``create_app``."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask, g
from flask.cli import with_appcontext
from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so that migrations work the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class _MigrateCommands(click.Group):
    """``lets-site db ...``: Flask-Migrate's commands, imported when one runs. The group's
    own options and callback are Flask-Migrate's (``flask_migrate/cli.py``)."""

    def _real(self) -> click.Group:
        from flask_migrate.cli import db as commands

        return commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._real().get_command(ctx, cmd_name)


class _MigrateConfig:
    """Stands in ``app.extensions["migrate"]`` until something (a ``db`` command, the demo,
    a test) reads it; then Flask-Migrate is bound to the app for real."""

    def __init__(self, app: Flask, kwargs: dict[str, Any]) -> None:
        self._app = app
        self._kwargs = kwargs

    def __getattr__(self, name: str) -> Any:
        from flask_migrate import Migrate

        Migrate().init_app(self._app, **self._kwargs)  # replaces this stand-in
        return getattr(self._app.extensions["migrate"], name)


@click.group(cls=_MigrateCommands, name="db")
@click.option("-d", "--directory", default=None,
              help='Migration script directory (default is "migrations")')
@click.option("-x", "--x-arg", multiple=True,
              help="Additional arguments consumed by custom env.py scripts")
@with_appcontext
def _migrate_commands(directory: str | None, x_arg: tuple[str, ...]) -> None:
    """Perform database migrations."""
    g.directory = directory
    g.x_arg = x_arg  # read by Flask-Migrate's get_config()


class LazyMigrate:
    """Flask-Migrate, bound lazily: it imports Alembic, which the web workers never use
    (about a quarter of the import time at start)."""

    def init_app(self, app: Flask, db: SQLAlchemy, **kwargs: Any) -> None:
        app.extensions["migrate"] = _MigrateConfig(app, {"db": db, **kwargs})
        app.cli.add_command(_migrate_commands)


db = SQLAlchemy(model_class=Base)
migrate = LazyMigrate()
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
htmx = Htmx()
compress = Compress()
