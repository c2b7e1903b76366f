"""Migrating an empty database gives exactly the models' schema."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from lets_site.extensions import db

# Migrations run DDL and commit on connections of their own.
pytestmark = pytest.mark.real_commits


def _empty(app: Any) -> None:
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _diff(app: Any) -> list[Any]:
    include = app.extensions["migrate"].configure_args.get("include_object")
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include}
        )
        return compare_metadata(context, db.metadata)


def test_migrations_build_exactly_the_models_schema(app: Any) -> None:
    _empty(app)
    upgrade(directory=app.extensions["migrate"].directory)
    assert _diff(app) == []
    _empty(app)


def test_migrations_downgrade_to_empty_and_up_again(app: Any) -> None:
    _empty(app)
    directory = app.extensions["migrate"].directory
    upgrade(directory=directory)
    downgrade(directory=directory, revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade(directory=directory)
    assert _diff(app) == []
    _empty(app)
