"""The full export (lets_site/portable.py): every table is carried or left out for a
reason, the document loads into an empty site and exports again the same, and loading is
all or nothing."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from lets_site import features, portable
from lets_site.extensions import db
from lets_site.ledger.models import Transfer
from lets_site.ledger.services import check
from lets_site.members.models import Member

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _demo() -> None:
    ctx = features.DemoContext(rng=random.Random(8900))
    for step in features.demo_steps():
        step.run(ctx)
        db.session.flush()


def _empty_site() -> None:
    """Every table emptied, as in a new site (the schema stays)."""
    db.session.flush()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    db.session.flush()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_table_is_carried_or_left_out_for_a_reason(app: Flask) -> None:
    carried = [p.table.name for p in portable.parts()]
    assert len(carried) == len(set(carried)), "a table carried by two features"
    reasons = portable.left_out()
    assert not set(carried) & set(reasons)
    assert all(str(reason).strip() for reason in reasons.values())
    unowned = set(db.metadata.tables) - set(carried) - set(reasons)
    assert not unowned, f"tables in no feature's Portable and not left out: {sorted(unowned)}"
    # Secret columns and skipped rows name tables the feature carries.
    for _name, port in features.portables():
        names = {portable._table(t).name for t in port.tables}
        assert set(port.secret_columns) <= names and set(port.skip_rows) <= names


def test_every_listed_feature_declares_its_portable(app: Flask) -> None:
    from lets_site import wiring

    declared = {f.name: f.portable for f in wiring.features()}
    assert all(p is not None for p in declared.values()), [
        n for n, p in declared.items() if p is None]


def test_the_demo_exports_loads_and_exports_again_the_same(app: Flask, tmp_path: Path) -> None:
    _demo()
    first = tmp_path / "first"
    counts = portable.write_export(first, now=NOW)
    assert counts["member"] >= 40 and counts["ledger_transfer"] > 0
    document = json.loads((first / "export.json").read_text(encoding="utf-8"))
    assert document["format"] == "lets-site-export" and document["version"] == 1
    members = document["features"]["members"]["member"]
    assert [m["id"] for m in members] == sorted(m["id"] for m in members)
    assert "session_token" not in members[0] and "password_hash" in members[0]
    assert list(members[0]) == sorted(members[0])
    uploads = portable.uploads_root()
    files_before = _files(uploads)
    assert any(name.startswith("documents/") for name in files_before)

    _empty_site()
    for path in sorted(uploads.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    loaded = portable.load_document(document, first / "files")
    db.session.commit()
    assert loaded["member"] == counts["member"]
    assert check() == []

    second = tmp_path / "second"
    portable.write_export(second, now=datetime(2027, 1, 1, tzinfo=UTC))
    again = json.loads((second / "export.json").read_text(encoding="utf-8"))
    assert again.pop("exported_at") != document.pop("exported_at")
    assert again == document
    assert _files(second / "csv") == _files(first / "csv")
    assert _files(uploads) == files_before
    # Ids continue after the loaded ones (PostgreSQL's sequences were moved on).
    from tests.factories import make_member

    newcomer = make_member(account_code="NEW-1")
    assert newcomer.id > max(m["id"] for m in members)


def test_a_zip_export_carries_the_document_csv_and_files(app: Flask, tmp_path: Path) -> None:
    from tests.factories import make_member

    make_member(display_name="=cmd|' /C calc'!A0", locale="en")
    target = tmp_path / "site.zip"
    portable.write_export(target, now=NOW)
    document = portable.read_export(target)
    assert document["features"]["members"]["member"][0]["display_name"].startswith("=cmd")
    import zipfile

    with zipfile.ZipFile(target) as archive:
        sheet = archive.read("csv/member.csv").decode("utf-8")
    assert sheet.startswith("\ufeffid;account_code;")  # the group's language: Dutch
    assert ";'=cmd" in sheet  # the formula guard


def test_loading_refuses_a_site_with_members(app: Flask) -> None:
    from tests.factories import make_member

    make_member()
    document = portable.build_document(NOW)
    with pytest.raises(portable.NotEmpty):
        portable.load_document(document)


def test_loading_refuses_what_is_not_an_export(app: Flask) -> None:
    with pytest.raises(portable.BadDocument):
        portable.load_document({"format": "something-else", "version": 1, "features": {}})
    with pytest.raises(portable.BadDocument):
        portable.load_document({"format": portable.FORMAT, "version": 2, "features": {}})


def _bad_copy(document: dict[str, Any]) -> dict[str, Any]:
    """The document with one transfer that names an account that is not there."""
    bad = json.loads(json.dumps(document))
    transfers = bad["features"]["ledger"]["ledger_transfer"]
    broken = dict(transfers[-1], id=transfers[-1]["id"] + 1, uid="x" * 32, payer_id=999999)
    transfers.append(broken)
    return bad


def test_loading_is_all_or_nothing(app: Flask) -> None:
    _demo()
    document = portable.build_document(NOW)
    _empty_site()
    db.session.commit()
    with pytest.raises(IntegrityError):  # the database refuses the row
        portable.load_document(_bad_copy(document))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == 0
