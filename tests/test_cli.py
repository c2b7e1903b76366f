from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from lets_site.extensions import db
from lets_site.members.models import Member, Role, Status
from lets_site.organisations.models import Organisation

ROOT = Path(__file__).resolve().parent.parent
LETS_SITE = [sys.executable, "-m", "lets_site.cli"]


def _run(*args: str, instance: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LETS_")}
    environment.update(env, LETS_INSTANCE=str(instance))
    return subprocess.run([*LETS_SITE, *args], capture_output=True, text=True, cwd=ROOT,
                          env=environment, timeout=120, check=False)


def test_demo_builds_a_database_and_prints_logins(tmp_path: Path, monkeypatch: Any) -> None:
    result = _run("demo", "--no-serve", "--instance", str(tmp_path / "demo"),
                  instance=tmp_path / "unused")
    assert result.returncode == 0, result.stderr
    assert re.search(r"admin\s+IE-001\s+\S+@example\.org\s+demo-lets-ieper", result.stdout)
    assert (tmp_path / "demo" / "lets.sqlite3").exists()
    # A first verified backup, so the demo's /healthz answers as a healthy site's does.
    assert "First backup written to" in result.stdout and "verified" in result.stdout
    assert len(list((tmp_path / "demo" / "backups").glob("lets-*.sqlite3"))) == 1
    from lets_site import create_app

    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path / "demo"))
    site = create_app({"DATABASE_URL": None, "SECURE_COOKIES": False})
    with site.app_context():
        health = site.test_client().get("/healthz")
        assert health.status_code == 200, health.text
        assert "backup: ok" in health.text.lower()
        db.session.remove()
        db.engine.dispose()
    # The demo database is usable afterwards with LETS_INSTANCE, and rebuilt on each start.
    again = _run("demo", "--no-serve", instance=tmp_path / "demo")
    assert again.returncode == 0, again.stderr
    check = _run("db", "current", instance=tmp_path / "demo")
    assert "(head)" in check.stdout + check.stderr


def test_demo_data_is_believable(tmp_path: Path, monkeypatch: Any) -> None:
    from lets_site import create_app
    from lets_site.demo import build_demo

    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3"})
    with app.app_context():
        build_demo()
        members = db.session.query(Member).all()
        assert len(members) >= 40
        admins = [m for m in members if m.has_role(Role.ADMIN)]
        assert len(admins) == 2
        assert any(m.status == Status.CANDIDATE for m in members)
        assert any(m.email is None and m.managed_by_admin for m in members)
        names = {o.name for o in db.session.query(Organisation)}
        assert {"Hedera", "Vondels", "Westhoek Vrijetijd Anders"} <= names
        assert all(o.intermediaries for o in db.session.query(Organisation))
        db.session.remove()
        db.engine.dispose()


def test_demo_refuses_to_overwrite_a_real_database(tmp_path: Path) -> None:
    (tmp_path / "lets.sqlite3").write_bytes(b"precious")
    result = _run("demo", "--no-serve", instance=tmp_path)
    assert result.returncode != 0
    assert "will not overwrite" in result.stderr
    assert (tmp_path / "lets.sqlite3").read_bytes() == b"precious"


def test_db_upgrade_and_create_admin_on_a_fresh_site(tmp_path: Path) -> None:
    assert _run("db", "upgrade", instance=tmp_path).returncode == 0
    result = _run("create-admin", "--email", "Boss@Example.org", "--name", "Boss",
                  instance=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "LE-001" in result.stdout and "/invitation/" in result.stdout
    again = _run("create-admin", "--email", "boss@example.org", "--name", "Boss",
                 instance=tmp_path)
    assert again.returncode != 0 and again.stderr.startswith("Error:")
    assert "Traceback" not in again.stderr


def test_backup_copies_the_sqlite_database_while_it_is_in_use(tmp_path: Path) -> None:
    import sqlite3

    assert _run("demo", "--no-serve", instance=tmp_path).returncode == 0
    live = sqlite3.connect(tmp_path / "lets.sqlite3")  # an open connection, as a running site
    live.execute("PRAGMA journal_mode=WAL")
    result = _run("backup", "--output", str(tmp_path / "copy.sqlite3"), instance=tmp_path)
    live.close()
    assert result.returncode == 0, result.stderr
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    try:
        assert copy.execute("SELECT count(*) FROM member").fetchone()[0] >= 40
    finally:
        copy.close()


def test_backup_is_private_from_the_start_and_complete_or_absent(tmp_path: Path) -> None:
    assert _run("db", "upgrade", instance=tmp_path).returncode == 0
    folder = tmp_path / "backups"
    result = _run("backup", "--output", str(folder / "copy.sqlite3"), instance=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (folder / "copy.sqlite3").stat().st_mode & 0o777 == 0o600
    # Nothing but the finished backup is left in the folder.
    assert [p.name for p in folder.iterdir()] == ["copy.sqlite3"]


def _unshare_available() -> bool:
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False)
    return probe.returncode == 0


def test_backup_on_a_full_disk_says_so_and_leaves_no_file(tmp_path: Path) -> None:
    """A tiny tmpfs, mounted in a private mount namespace, stands in for a full disk."""
    import shutil

    assert shutil.which("unshare") and _unshare_available(), "needs unshare -rm (util-linux)"
    assert _run("demo", "--no-serve", instance=tmp_path).returncode == 0
    small = tmp_path / "small"
    small.mkdir()
    script = (f'mount -t tmpfs -o size=64k tmpfs "{small}" && '
              f'"$@" backup --output "{small}/copy.sqlite3"; status=$?; '
              f'ls -A "{small}"; exit $status')
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LETS_")}
    environment["LETS_INSTANCE"] = str(tmp_path)
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", *LETS_SITE],
                            capture_output=True, text=True, cwd=ROOT, env=environment,
                            timeout=120, check=False)
    assert result.returncode != 0
    assert "Disk full" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip() == ""  # neither a 0-byte backup nor a partial file
