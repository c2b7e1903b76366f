"""The site's full export, and loading it into a new, empty site (a group that moves).

Every feature says in its description what it carries (:class:`features.Portable`): its
tables in dependency order, columns that are secrets, rows to skip, the tables it leaves
out on purpose and its upload folders. :func:`build_document` turns them into one
versioned JSON document::

    {"format": "lets-site-export", "version": 1, "exported_at": "2026-...",
     "features": {"members": {"member": [{...}, ...], "member_role": [...]}, ...}}

Rows are plain JSON: every column by name (ids kept), timestamps and dates in ISO 8601,
decimals as strings, rows ordered by primary key, keys sorted. :func:`write_export` writes
the document (``export.json``), one CSV per table (``csv/<table>.csv``, the spreadsheet
conventions of the group's language with the formula guard) and the uploaded files
(``files/<folder>/...``), into a folder or a zip.

:func:`load_document` writes a document into a site that has no members and no transfers
yet: the same ids, PostgreSQL's sequences moved past them, and all or nothing (it flushes;
the caller commits or rolls back). The importer of eLAS, eLAND and spreadsheet files
(``lets_site/moving``) builds the same document, so there is one loader.

Secrets: password hashes travel (members keep their password when the site moves);
session tokens and link tokens do not (``secret_columns``: new ones are made on load, so
everybody logs in again); signing keys live in the instance folder, not in the database,
and are not part of the export.

This module belongs to the base layer: it imports no feature.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    Table,
    TypeDecorator,
    delete,
    func,
    select,
    text,
)

from lets_site import features
from lets_site.domain import DomainError
from lets_site.extensions import db
from lets_site.locale import spreadsheet
from lets_site.settings import get_settings

FORMAT = "lets-site-export"
VERSION = 1
DOCUMENT_NAME = "export.json"

# Tables of the base layer, which belong to no feature, left out on purpose.
BASE_LEFT_OUT = {
    "mail_outbox": "mail queued or sent by the old site; the new one starts with none",
}

# The tables whose rows make a site "not empty": a document is loaded only without them.
OCCUPIED_TABLES = ("member", "ledger_transfer")

_BATCH = 1000


class NotEmpty(DomainError):
    """The site already has members or transfers."""


class BadDocument(DomainError):
    """Not an export of this kind, or of a version this site cannot read."""


@dataclass(frozen=True)
class Part:
    """One exported table: the feature it belongs to and what it leaves out."""

    feature: str
    table: Table
    secret: frozenset[str]
    skip: Any  # a callable returning a WHERE clause of rows left out, or None


def _table(model: Any) -> Table:
    return model if isinstance(model, Table) else model.__table__  # type: ignore[no-any-return]


def parts() -> list[Part]:
    """Every exported table, feature by feature in the features' order."""
    found: list[Part] = []
    for name, portable in features.portables():
        for model in portable.tables:
            table = _table(model)
            found.append(Part(name, table, frozenset(portable.secret_columns.get(table.name, ())),
                              portable.skip_rows.get(table.name)))
    return found


def left_out() -> dict[str, str]:
    """The tables deliberately not exported, with the reason."""
    reasons = dict(BASE_LEFT_OUT)
    for _name, portable in features.portables():
        reasons.update(portable.left_out)
    return reasons


def upload_folders() -> list[str]:
    return sorted({folder for _n, p in features.portables() for folder in p.files})


# --- Values ---------------------------------------------------------------------------------


def _kind(column: Column[Any]) -> Any:
    kind = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl if not isinstance(kind.impl, type) else kind.impl()
    return kind


def to_json(value: Any) -> Any:
    """A column's value as plain JSON."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return value
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def from_json(value: Any, column: Column[Any]) -> Any:
    """The plain JSON value back as the column's Python value."""
    if value is None:
        return None
    kind = _kind(column)
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, Boolean):
        return bool(value)
    if isinstance(kind, Numeric) and not isinstance(kind, Float):
        return Decimal(value)
    if isinstance(kind, Integer):
        return int(value)
    if isinstance(kind, LargeBinary):
        return base64.b64decode(value)
    return value


# --- Export ---------------------------------------------------------------------------------


def _columns(part: Part) -> list[Column[Any]]:
    return [c for c in part.table.columns if c.name not in part.secret]


def table_rows(part: Part) -> list[dict[str, Any]]:
    columns = _columns(part)
    stmt = select(*columns).order_by(*part.table.primary_key.columns)
    if part.skip is not None:
        stmt = stmt.where(~part.skip())
    return [{c.name: to_json(row[i]) for i, c in enumerate(columns)}
            for row in db.session.execute(stmt)]


def build_document(now: datetime | None = None) -> dict[str, Any]:
    """The whole site as one JSON-ready document."""
    sections: dict[str, dict[str, list[dict[str, Any]]]] = {
        name: {} for name, _p in features.portables()}
    for part in parts():
        sections[part.feature][part.table.name] = table_rows(part)
    stamp = now or datetime.now().astimezone()
    return {"format": FORMAT, "version": VERSION, "exported_at": stamp.isoformat(),
            "features": sections}


def dumps(document: Mapping[str, Any]) -> str:
    """The document as text: keys sorted, one stable form (two exports of the same data
    differ only in ``exported_at``)."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, indent=1) + "\n"


def table_csv(part: Part, rows: Iterable[Mapping[str, Any]], lang: str) -> bytes:
    """One table as a spreadsheet opens it in ``lang``: its delimiter, numbers with its
    decimal mark, text that looks like a formula kept as text, UTF-8 with a BOM."""
    sheet = spreadsheet(lang)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sheet.delimiter, lineterminator="\r\n")
    names = [c.name for c in _columns(part)]
    writer.writerow(names)
    for row in rows:
        cells = []
        for name in names:
            value = row.get(name)
            if value is None:
                cells.append("")
            elif isinstance(value, bool):
                cells.append("1" if value else "0")
            elif isinstance(value, int | float):
                cells.append(sheet.number(str(value)))
            else:
                cells.append(sheet.text(str(value)))
        writer.writerow(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def uploads_root() -> Path:
    return Path(current_app.instance_path) / "uploads"


def write_export(target: Path, as_zip: bool | None = None,
                 now: datetime | None = None) -> dict[str, int]:
    """Write the export to ``target``: a zip when it ends in ``.zip`` (or ``as_zip``),
    else a folder. Returns the number of rows per table."""
    document = build_document(now)
    zipped = target.suffix == ".zip" if as_zip is None else as_zip
    lang = get_settings().default_language or "nl"
    entries: list[tuple[str, bytes | Path]] = [(DOCUMENT_NAME, dumps(document).encode("utf-8"))]
    by_name = {p.table.name: p for p in parts()}
    counts: dict[str, int] = {}
    for section in document["features"].values():
        for name, rows in section.items():
            counts[name] = len(rows)
            entries.append((f"csv/{name}.csv", table_csv(by_name[name], rows, lang)))
    root = uploads_root()
    for folder in upload_folders():
        base = root / folder
        if base.is_dir():
            for path in sorted(p for p in base.rglob("*") if p.is_file()):
                entries.append((f"files/{folder}/{path.relative_to(base).as_posix()}", path))
    if zipped:
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in entries:
                if isinstance(content, Path):
                    archive.write(content, name)
                else:
                    archive.writestr(name, content)
    else:
        for name, content in entries:
            path = target / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copyfile(content, path)
            else:
                path.write_bytes(content)
    return counts


def read_export(source: Path, files_to: Path | None = None) -> dict[str, Any]:
    """The document of an export (a folder or a zip); its files are unpacked into
    ``files_to`` when given (a zip) or read where they are (a folder)."""
    if source.is_dir():
        return json.loads((source / DOCUMENT_NAME).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    with zipfile.ZipFile(source) as archive:
        document = json.loads(archive.read(DOCUMENT_NAME).decode("utf-8"))
        if files_to is not None:
            for info in archive.infolist():
                name = info.filename
                if name.startswith("files/") and not info.is_dir() and ".." not in name:
                    path = files_to / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(archive.read(info))
    return document  # type: ignore[no-any-return]


# --- Load -----------------------------------------------------------------------------------


def occupied() -> bool:
    """Does the site have members or transfers (then nothing is loaded into it)?"""
    for name in OCCUPIED_TABLES:
        table = db.metadata.tables.get(name)
        if table is not None and db.session.scalar(select(func.count()).select_from(table)):
            return True
    return False


def check_document(document: Any) -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BadDocument(_l("This is not a lets-site export."))
    if document.get("version") != VERSION:
        raise BadDocument(_l("This export has version %(version)s; this site reads version "
                             "%(ours)s.", version=document.get("version"), ours=VERSION))
    if not isinstance(document.get("features"), dict):
        raise BadDocument(_l("This export has no features section."))


def load_document(document: Mapping[str, Any], files: Path | None = None, *,
                  keep_existing: bool = False) -> dict[str, int]:
    """Write ``document`` into this empty site (no members, no transfers): every row with
    its id, PostgreSQL's sequences moved past them, the files of ``files`` (the export's
    ``files/`` folder) copied into the uploads. Rows the new site made by itself in the
    tables the document carries (its default settings) are replaced. Flushes only: the
    caller commits, or rolls back and nothing is written. Returns rows per table.

    ``keep_existing``: the importer's documents (lets_site/moving) add to a new site the
    admins who set it up, with ids after theirs; it checks the site itself, and nothing
    is deleted."""
    check_document(document)
    if not keep_existing and occupied():
        raise NotEmpty(_l("This site already has members or transfers: an export can only be "
                          "loaded into a new, empty site."))
    known = {p.table.name: p for p in parts()}
    rows_of: dict[str, list[Mapping[str, Any]]] = {}
    for feature, section in document["features"].items():
        for name, rows in (section or {}).items():
            if name not in known:
                raise BadDocument(_l("The export has a table %(table)s (feature %(feature)s) "
                                     "this site does not know.", table=name, feature=feature))
            rows_of[name] = rows
    order = [t for t in db.metadata.sorted_tables if t.name in rows_of]
    db.session.flush()
    for table in reversed(order if not keep_existing else []):
        db.session.execute(delete(table))
    counts: dict[str, int] = {}
    for table in order:
        part = known[table.name]
        columns = {c.name: c for c in _columns(part)}
        rows = rows_of[table.name]
        converted = []
        for row in rows:
            unknown = set(row) - set(columns)
            if unknown:
                raise BadDocument(_l("Table %(table)s has unknown columns: %(columns)s.",
                                     table=table.name, columns=", ".join(sorted(unknown))))
            converted.append({name: from_json(row.get(name), column)
                              for name, column in columns.items() if name in row})
        for start in range(0, len(converted), _BATCH):
            db.session.execute(table.insert(), converted[start:start + _BATCH])
        counts[table.name] = len(converted)
    reset_sequences(order)
    db.session.flush()
    if files is not None:
        copy_files(files)
    return counts


def reset_sequences(tables: Iterable[Table]) -> None:
    """On PostgreSQL, move each table's id sequence past the largest id it now holds."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    quote = db.session.get_bind().dialect.identifier_preparer.quote
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(_kind(keys[0]), Integer):
            continue
        sequence = db.session.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                     {"t": quote(table.name), "c": keys[0].name})
        if sequence is None:
            continue
        db.session.execute(text(
            f"SELECT setval(:s, COALESCE((SELECT MAX({quote(keys[0].name)}) FROM "  # noqa: S608
            f"{quote(table.name)}), 1), (SELECT COUNT(*) > 0 FROM {quote(table.name)}))"),
            {"s": sequence})


def copy_files(files: Path) -> int:
    """Copy an export's ``files/<folder>/...`` into the uploads; returns how many."""
    copied = 0
    root = uploads_root()
    for folder in upload_folders():
        base = files / folder
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            destination = root / folder / path.relative_to(base)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            copied += 1
    return copied
