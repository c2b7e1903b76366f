"""Backups you can trust, and bringing one back (docs/operations.md, "Backups and restore").

A backup is written to a hidden ``.partial`` file beside its final name (mode 0600 from the
start), synced to disk, verified and only then renamed; older backups are removed only
after the new one verified, keeping the newest ``BACKUP_KEEP``.

- **SQLite**: SQLite's online backup API copies the live database in one read transaction
  (one consistent snapshot, while the site keeps writing), then a small manifest is added
  to the copy as the table ``lets_backup_manifest``. Verified on the copy: ``PRAGMA
  integrity_check`` and the features' own data checks (the ledger's ``lets-site ledger
  check``, through :func:`lets_site.features.data_problems`) run against the copy by an app
  bound to it. The backup is an ordinary SQLite database (``lets-<time>.sqlite3``).
- **PostgreSQL**: ``pg_dump`` in custom format, from a snapshot the manifest's counts are
  read in too, inside a tar archive beside ``manifest.json`` (``lets-<time>.pgdump.tar``);
  verified with ``pg_restore --list`` and the dump's SHA-256 in the manifest.

The manifest names the backup (site, ``BASE_URL``, schema revision, date, counts of members
and transfers, app version), so ``lets-site restore`` can say what it brings back and refuse
a file that is not a backup of this site.

Base layer: imports no feature (the ledger's check comes through the feature contract).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import text
from sqlalchemy.engine import URL

from lets_site.extensions import db

FORMAT = 1
MANIFEST_TABLE = "lets_backup_manifest"
MANIFEST_MEMBER = "manifest.json"
DUMP_MEMBER = "database.dump"
SQLITE_SUFFIX = ".sqlite3"
POSTGRESQL_SUFFIX = ".pgdump.tar"
PREFIX = "lets-"
UNVERIFIED = "-unverified"
SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the person at the
    command line."""


@dataclass(frozen=True)
class Manifest:
    """What a backup says about itself."""

    site: str
    base_url: str
    revision: str | None
    created: str  # ISO 8601, UTC
    members: int | None
    transfers: int | None
    app_version: str
    engine: str  # "sqlite" or "postgresql"
    format: int = FORMAT
    dump_sha256: str | None = None  # PostgreSQL: of the dump inside the archive

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, data: str | bytes) -> Manifest:
        try:
            values = json.loads(data)
            return cls(**{k: values[k] for k in cls.__dataclass_fields__ if k in values})
        except (ValueError, TypeError, KeyError) as error:
            raise BackupError(f"its manifest cannot be read ({error})") from None

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.created)

    def describe(self) -> str:
        when = self.created_at.strftime("%Y-%m-%d %H:%M UTC")

        def count(n: int | None) -> str:
            return "?" if n is None else str(n)

        return (f"backup of {self.site!r} ({self.base_url}) made {when}: "
                f"{count(self.members)} members, {count(self.transfers)} transfers, "
                f"schema {self.revision or 'none'}, lets-site {self.app_version}")


@dataclass
class Outcome:
    """A written backup: where, what it says, and the problems its verification found
    (empty: verified)."""

    path: Path
    manifest: Manifest
    problems: list[str] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return not self.problems


# --- Where, and which ---------------------------------------------------------------------


def folder(app: Flask | None = None) -> Path:
    """Where backups go: ``BACKUP_DIR``, else ``instance/backups``."""
    app = app or current_app
    configured = app.config.get("BACKUP_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "backups"


def is_postgresql(app: Flask | None = None) -> bool:
    return str((app or current_app).config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql")


def _suffix(postgresql: bool) -> str:
    return POSTGRESQL_SUFFIX if postgresql else SQLITE_SUFFIX


def verified_backups(where: Path) -> list[Path]:
    """The verified backups in ``where``, oldest first (their names carry the UTC time)."""
    if not where.is_dir():
        return []
    found = [p for p in where.iterdir()
             if p.is_file() and p.name.startswith(PREFIX) and UNVERIFIED not in p.name
             and p.name.endswith((SQLITE_SUFFIX, POSTGRESQL_SUFFIX))]
    return sorted(found, key=lambda p: p.name)


def last_backup_time(where: Path) -> datetime | None:
    """When the newest verified backup in ``where`` was written (its file's time)."""
    found = verified_backups(where)
    if not found:
        return None
    newest = max(p.stat().st_mtime for p in found)
    return datetime.fromtimestamp(newest, UTC)


def prune(where: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` verified backups; ``keep`` < 1 keeps all."""
    if keep < 1:
        return []
    old = verified_backups(where)[:-keep]
    for path in old:
        path.unlink(missing_ok=True)
    return old


@lru_cache(maxsize=4)
def code_revisions(migrations: str) -> tuple[frozenset[str], frozenset[str]]:
    """(heads, every revision) of the migration scripts in ``migrations``."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", migrations)
    scripts = ScriptDirectory.from_config(config)
    return (frozenset(scripts.get_heads()),
            frozenset(s.revision for s in scripts.walk_revisions()))


def migrations_folder(app: Flask | None = None) -> str:
    app = app or current_app
    return str(app.extensions["migrate"].directory)


def app_version() -> str:
    try:
        return metadata.version("lets-site")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a plain checkout
        return "unknown"


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")


# --- Facts the manifest carries ---------------------------------------------------------------


def _facts(scalar: Callable[[str], Any]) -> tuple[str, str | None, int | None, int | None]:
    """(site name, schema revision, members, transfers) read with ``scalar(sql)``, which
    returns None when the table is missing."""
    site = scalar("SELECT group_name FROM site_settings ORDER BY id LIMIT 1")
    revision = scalar("SELECT version_num FROM alembic_version")
    members = scalar("SELECT count(*) FROM member")
    transfers = scalar("SELECT count(*) FROM ledger_transfer")
    return (str(site or ""), revision, None if members is None else int(members),
            None if transfers is None else int(transfers))


def _sqlite_scalar(connection: sqlite3.Connection) -> Callable[[str], Any]:
    def scalar(sql: str) -> Any:
        try:
            row = connection.execute(sql).fetchone()
        except sqlite3.OperationalError:  # no such table
            return None
        return None if row is None else row[0]

    return scalar


def _manifest(facts: tuple[str, str | None, int | None, int | None], engine: str,
              now: datetime, dump_sha256: str | None = None) -> Manifest:
    site, revision, members, transfers = facts
    return Manifest(site=site, base_url=str(current_app.config.get("BASE_URL") or ""),
                    revision=revision, created=now.isoformat(timespec="seconds"),
                    members=members, transfers=transfers, app_version=app_version(),
                    engine=engine, dump_sha256=dump_sha256)


# --- Writing -----------------------------------------------------------------------------------


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be synced
        _fsync_file(path)


def _partial(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)  # mkstemp made it 0600
    return Path(name)


def write_backup(output: Path | None = None, label: str = "",
                 keep: int | None = None) -> Outcome:
    """Back up the app's database (in an app context), verify the copy and, when it
    verified and it went to the backup folder, keep the newest ``keep`` (default
    ``BACKUP_KEEP``). A copy that fails its verification is kept under a name with
    ``-unverified`` and nothing is removed. Raises OSError, sqlite3.Error or BackupError
    when no backup could be written (the partial file is removed)."""
    app = current_app
    now = datetime.now(UTC).replace(microsecond=0)
    postgresql = is_postgresql()
    where = folder()
    name = f"{PREFIX}{_stamp(now)}{'-' + label if label else ''}{_suffix(postgresql)}"
    target = output or where / name
    partial = _partial(target)
    try:
        if postgresql:
            manifest = _write_postgresql(partial, now)
            problems = verify_postgresql(partial, manifest)
        else:
            manifest = _write_sqlite(_sqlite_path(), partial, now)
            problems = verify_sqlite(partial, app)
        _fsync_file(partial)
        if problems:
            target = target.with_name(_unverified_name(target.name))
        os.replace(partial, target)
        _fsync_dir(target.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    outcome = Outcome(target, manifest, problems)
    if outcome.verified and target.parent.resolve() == where.resolve():
        limit = int(app.config.get("BACKUP_KEEP") or 0) if keep is None else keep
        outcome.removed = prune(where, limit)
    return outcome


def _unverified_name(name: str) -> str:
    for suffix in (POSTGRESQL_SUFFIX, SQLITE_SUFFIX):
        if name.endswith(suffix):
            return name.removesuffix(suffix) + UNVERIFIED + suffix
    return name + UNVERIFIED


def _sqlite_path() -> Path:
    database = db.engines[None].url.database or ""
    if not database or database == ":memory:":
        raise BackupError("the database is not a SQLite file; nothing to back up")
    return Path(database)


def _sqlite_copy(source_path: Path, destination_path: Path) -> None:
    """Copy a SQLite database, read-only, with the online backup API: one consistent
    snapshot even while the site writes to it."""
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(destination_path)
        try:
            with destination:
                source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()


def _write_sqlite(database: Path, partial: Path, now: datetime) -> Manifest:
    """Copy the live database with the online backup API (one consistent snapshot while
    the site writes), then add the manifest to the copy."""
    _sqlite_copy(database, partial)
    copy = sqlite3.connect(partial)
    try:
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        manifest = _manifest(_facts(_sqlite_scalar(copy)), "sqlite", now)
        with copy:
            copy.execute(f"DROP TABLE IF EXISTS {MANIFEST_TABLE}")
            copy.execute(f"CREATE TABLE {MANIFEST_TABLE} (manifest TEXT NOT NULL)")
            copy.execute(f"INSERT INTO {MANIFEST_TABLE} VALUES (?)",  # noqa: S608 - a constant
                         (manifest.to_json(),))
    finally:
        copy.close()
    return manifest


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed; install the PostgreSQL client "
                          "(the same major version as the server or newer).")
    return found


def _libpq_url() -> str:
    url: URL = db.engines[None].url
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, capture_output=True, check=False, **kwargs)  # noqa: S603


def _failure(tool: str, result: subprocess.CompletedProcess[bytes]) -> BackupError:
    message = result.stderr.decode("utf-8", "replace").strip()
    if "No space left" in message:
        import errno

        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return BackupError(f"{tool} failed: {message or result.returncode}")


def _write_postgresql(partial: Path, now: datetime) -> Manifest:
    """pg_dump (custom format) of a snapshot whose counts go into the manifest, both in a
    tar archive written to ``partial``."""
    pg_dump = _pg_tool("pg_dump")
    dump = partial.with_name(partial.name + ".dump")
    try:
        with db.engines[None].connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))

                def scalar(sql: str) -> Any:
                    with connection.begin_nested() as savepoint:
                        try:
                            return connection.scalar(text(sql))
                        except Exception:
                            savepoint.rollback()
                            return None

                facts = _facts(scalar)
                dump.touch(mode=0o600)
                result = _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges",
                               f"--snapshot={snapshot}", f"--file={dump}",
                               "--dbname", _libpq_url()])
                if result.returncode != 0:
                    raise _failure("pg_dump", result)
        digest = _sha256(dump)
        manifest = _manifest(facts, "postgresql", now, dump_sha256=digest)
        with tarfile.open(partial, "w") as archive:
            data = manifest.to_json().encode()
            info = tarfile.TarInfo(MANIFEST_MEMBER)
            info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
            archive.addfile(info, io.BytesIO(data))
            info = archive.gettarinfo(str(dump), DUMP_MEMBER)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with dump.open("rb") as handle:
                archive.addfile(info, handle)
    finally:
        dump.unlink(missing_ok=True)
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- Verifying ------------------------------------------------------------------------------


def verify_sqlite(path: Path, app: Flask | None = None) -> list[str]:
    """Problems of the SQLite backup at ``path``: its integrity check, then the features'
    data checks (the ledger's) run by an app bound to the copy."""
    problems = _sqlite_integrity(path)
    if problems:
        return problems
    return data_problems_of(f"sqlite:///{path}", app or current_app)


def _sqlite_integrity(path: Path) -> list[str]:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        return [f"integrity check: {error}"]
    return [] if rows == ["ok"] else [f"integrity check: {row}" for row in rows]


def data_problems_of(database_url: str, app: Flask) -> list[str]:
    """The features' data checks (:func:`lets_site.features.data_problems`: the ledger's
    ``lets-site ledger check``) run against another database, by an app like ``app``
    bound to it."""
    from lets_site import create_app
    from lets_site import features as contract

    other = create_app({
        "DATABASE_URL": database_url,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "BASE_URL": app.config.get("BASE_URL"),
        "TRUSTED_HOSTS": app.config.get("TRUSTED_HOSTS") or ["*"],
        "MAIL_SEND_MODE": "cron",
        "PAGE_CACHE_SECONDS": 0,
        "TESTING": app.config.get("TESTING", False),
    })
    with other.app_context():
        try:
            return contract.data_problems()
        except Exception as error:
            return [f"data check: {error}"]
        finally:
            db.session.remove()
            db.engine.dispose()


def verify_postgresql(path: Path, manifest: Manifest | None = None) -> list[str]:
    """Problems of the PostgreSQL backup archive at ``path``: its dump's checksum and
    ``pg_restore --list``."""
    try:
        with _extracted_dump(path) as (found, dump):
            if manifest is not None and found != manifest:
                return ["the archive's manifest is not the one written"]
            if found.dump_sha256 != _sha256(dump):
                return ["the dump does not match its checksum (a truncated or damaged file)"]
            result = _run([_pg_tool("pg_restore"), "--list", str(dump)])
            if result.returncode != 0:
                return [f"pg_restore --list: {result.stderr.decode('utf-8', 'replace').strip()}"]
    except BackupError as error:
        return [str(error)]
    return []


@contextlib.contextmanager
def _extracted_dump(path: Path) -> Iterator[tuple[Manifest, Path]]:
    """The manifest and the dump (a temporary file) of a PostgreSQL backup archive."""
    try:
        with tarfile.open(path, "r:") as archive:
            names = archive.getnames()
            if names[:2] != [MANIFEST_MEMBER, DUMP_MEMBER]:
                raise BackupError("it is a tar archive, but not a lets-site backup")
            handle = archive.extractfile(MANIFEST_MEMBER)
            manifest = Manifest.from_json(handle.read() if handle else b"")
            with tempfile.TemporaryDirectory(prefix="lets-restore-") as scratch:
                dump = Path(scratch) / DUMP_MEMBER
                source = archive.extractfile(DUMP_MEMBER)
                if source is None:
                    raise BackupError("its archive holds no database dump")
                with dump.open("wb") as out:
                    shutil.copyfileobj(source, out)
                yield manifest, dump
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BackupError(f"the archive cannot be read, it may be truncated ({error})") from None


# --- Reading a backup, and whether it fits this site -------------------------------------------


def read_backup(path: Path) -> Manifest:
    """The manifest of the backup at ``path``, after checking it is whole; BackupError
    says why it is not a usable backup."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    with path.open("rb") as handle:
        head = handle.read(100)
    if head.startswith(SQLITE_HEADER):
        return _read_sqlite(path, head)
    if _is_tar(path):
        with _extracted_dump(path) as (manifest, dump):
            if manifest.dump_sha256 != _sha256(dump):
                raise BackupError("its database dump does not match its checksum "
                                  "(a truncated or damaged file)")
        return manifest
    raise BackupError("it is neither a SQLite backup nor a PostgreSQL backup archive "
                      "written by `lets-site backup`")


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _read_sqlite(path: Path, head: bytes) -> Manifest:
    if len(head) < 100:
        raise BackupError("it is truncated (shorter than a SQLite header)")
    page_size = struct.unpack(">H", head[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    change, pages, valid_for = (struct.unpack(">I", head[24:28])[0],
                                struct.unpack(">I", head[28:32])[0],
                                struct.unpack(">I", head[92:96])[0])
    size = path.stat().st_size
    if (change == valid_for and pages and size < pages * page_size) or size % page_size:
        raise BackupError(f"it is truncated: {size} bytes of a database of "
                          f"{pages * page_size} bytes")
    problems = _sqlite_integrity(path)
    if problems:
        raise BackupError("it is damaged: " + "; ".join(problems[:3]))
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = _sqlite_scalar(connection)(f"SELECT manifest FROM {MANIFEST_TABLE}")  # noqa: S608
    finally:
        connection.close()
    if row is None:
        raise BackupError("it is a SQLite database, but not a backup written by "
                          "`lets-site backup` (it has no manifest)")
    return Manifest.from_json(row)


def _site_address(url: str) -> str:
    return url.strip().rstrip("/").lower()


def refusal(manifest: Manifest, other_site: bool = False,
            app: Flask | None = None) -> str | None:
    """Why this backup must not be restored into this site, or None."""
    app = app or current_app
    engine = "postgresql" if is_postgresql(app) else "sqlite"
    if manifest.format > FORMAT:
        return ("it was written by a newer version of lets-site (backup format "
                f"{manifest.format}); upgrade this site's code first")
    if manifest.engine != engine:
        return (f"it is a {manifest.engine} backup and this site uses {engine}; "
                "move between them with `lets-site export` and an import instead")
    _heads, known = code_revisions(migrations_folder(app))
    if manifest.revision is None:
        return "its database has no schema revision (it was never migrated)"
    if manifest.revision not in known:
        return (f"its schema ({manifest.revision}) is newer than this code knows; "
                "upgrade this site's code first, then restore")
    here = _site_address(str(app.config.get("BASE_URL") or ""))
    if not other_site and _site_address(manifest.base_url) != here:
        return (f"it is a backup of another site ({manifest.base_url}, this one is {here}); "
                "use --other-site if you mean to bring that site here")
    return None


def is_current_schema(manifest: Manifest, app: Flask | None = None) -> bool:
    heads, _known = code_revisions(migrations_folder(app))
    return manifest.revision in heads


# --- Restoring -------------------------------------------------------------------------------


def current_database_exists() -> bool:
    """Is there a database with tables to keep before a restore?"""
    if is_postgresql():
        with db.engines[None].connect() as connection:
            return bool(connection.scalar(text(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = current_schema()")))
    path = _sqlite_path()
    if not path.exists() or path.stat().st_size == 0:
        return False
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return bool(connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])
    finally:
        connection.close()


def sqlite_in_use() -> bool:
    """Best guess whether another process has the SQLite database open: SQLite removes the
    ``-wal`` file when the last connection closes, so one left after ours closed belongs
    to somebody else (or to a process that crashed)."""
    db.engines[None].dispose()
    path = _sqlite_path()
    if not path.exists():
        return False
    connection = sqlite3.connect(path)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        connection.close()
    return Path(f"{path}-wal").exists()


def restore(path: Path) -> None:
    """Replace this site's database with the backup at ``path`` (already read and accepted
    by :func:`read_backup` and :func:`refusal`)."""
    if is_postgresql():
        _restore_postgresql(path)
    else:
        _restore_sqlite(path)
    from lets_site.web.pagecache import bump_generation

    bump_generation(current_app.instance_path)


def _restore_sqlite(path: Path) -> None:
    """Copy the backup beside the live file, drop its manifest, check it, then swap it in
    with one rename. The live file's WAL is checkpointed and removed first, so no stale
    log is replayed onto the restored file."""
    live = _sqlite_path()
    db.engines[None].dispose()
    live.parent.mkdir(parents=True, exist_ok=True)
    staged = _partial(live)
    try:
        _sqlite_copy(path, staged)
        destination = sqlite3.connect(staged)
        try:
            with destination:
                destination.execute(f"DROP TABLE IF EXISTS {MANIFEST_TABLE}")
            destination.execute("PRAGMA journal_mode=WAL")
        finally:
            destination.close()
        problems = _sqlite_integrity(staged)
        if problems:
            raise BackupError("the restored copy failed its integrity check: "
                              + "; ".join(problems[:3]))
        _fsync_file(staged)
        if live.exists():
            connection = sqlite3.connect(live)
            try:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()
        for suffix in ("-wal", "-shm"):
            Path(f"{live}{suffix}").unlink(missing_ok=True)
        os.replace(staged, live)
        _fsync_dir(live.parent)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def _restore_postgresql(path: Path) -> None:
    """``pg_restore --clean --if-exists`` into the configured database, in one transaction
    (a failure leaves the database as it was). Tables of this code's models that the
    backup does not have (added by a later migration) are dropped, so ``lets-site db
    upgrade`` can create them again."""
    pg_restore = _pg_tool("pg_restore")
    db.engines[None].dispose()
    with _extracted_dump(path) as (_found, dump):
        listing = _run([pg_restore, "--list", str(dump)])
        if listing.returncode != 0:
            raise _failure("pg_restore --list", listing)
        result = _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges",
                       "--single-transaction", "--exit-on-error", "--dbname", _libpq_url(),
                       str(dump)])
        if result.returncode != 0:
            raise _failure("pg_restore", result)
    in_backup = set()
    for line in listing.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if not line.startswith(";") and "TABLE" in parts and "DATA" not in parts:
            at = parts.index("TABLE")
            if len(parts) > at + 2:
                in_backup.add(parts[at + 2])
    extra = [name for name in db.metadata.tables if name not in in_backup]
    if extra:
        with db.engines[None].begin() as connection:
            for name in extra:
                connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
