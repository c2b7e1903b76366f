from __future__ import annotations

from pathlib import Path
from typing import Any

from lets_site import create_app


def test_config_chain_defaults_instance_file_environment_then_test(
    tmp_path: Path, monkeypatch: Any
) -> None:
    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "config.py").write_text(
        "MAIL_SERVER = 'smtp.from-file'\nMAIL_PORT = 2525\nBASE_URL = 'https://file'\n"
    )
    monkeypatch.setenv("LETS_INSTANCE", str(instance))
    monkeypatch.setenv("LETS_MAIL_PORT", "587")
    monkeypatch.setenv("LETS_BASE_URL", "https://env")
    app = create_app({"BASE_URL": "https://test"})
    assert app.instance_path == str(instance)
    assert app.config["MAIL_SERVER"] == "smtp.from-file"  # instance file over default
    assert app.config["MAIL_PORT"] == 587  # environment over file, parsed as JSON
    assert app.config["BASE_URL"] == "https://test"  # test mapping over everything
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'lets.sqlite3'}"


def test_secret_key_is_generated_once_into_the_instance_folder(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path))
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first
    assert key_file.stat().st_mode & 0o077 == 0


def test_postgres_urls_use_psycopg(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path))
    monkeypatch.setenv("LETS_DATABASE_URL", "postgres://u:p@127.0.0.1/lets")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@127.0.0.1/lets"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app: Any) -> None:
    from sqlalchemy import text

    from lets_site.extensions import db

    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
