"""The import page works without JavaScript: upload, a preview at its own URL, confirm;
the export downloads; the commands."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from lets_site.extensions import db
from lets_site.ledger.models import Transfer
from lets_site.members.models import Member
from tests.html import main_text

USERS = "letscode;name;email;saldo\r\n101;Jan;jan@example.org;5\r\n102;Renée;;-5\r\n"
HISTORY = "Datum;Van;Aan;Bedrag;Dienst\r\n01/02/2024;102 Renée;101 Jan;5;Soep\r\n"


def _members() -> int:
    return db.session.scalar(select(func.count()).select_from(Member)) or 0


def _upload(client: Any, files: list[tuple[str, bytes]]) -> Any:
    """Several files in one field, encoded in memory as tests/uploads.py does (the test
    client's own encoder may leave a temporary file open)."""
    fields = {"csrf_token": client.csrf_token("/admin/import"),
              "files": [FileStorage(io.BytesIO(content), filename=name)
                        for name, content in files]}
    stream, _length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return client.post("/admin/import", data=stream.getvalue(),
                       content_type=f"multipart/form-data; boundary={boundary}")


def test_upload_preview_and_confirm_without_javascript(app: Flask, client: Any, auth: Any,
                                                       make_admin: Any) -> None:
    admin = make_admin(locale="en")
    auth.login(admin.email)
    before = _members()
    sent = _upload(client, [("users.csv", USERS.encode("cp1252")),
                            ("transactions.csv", HISTORY.encode("cp1252"))])
    assert sent.status_code == 303
    preview_url = sent.headers["Location"]
    assert preview_url.startswith("/admin/import/check/")
    page = client.get(preview_url)
    text = main_text(page.get_data(as_text=True))
    assert "Windows-1252 / Latin-1" in text and "Import everything" in text
    assert "Members: 2" in text and "Transactions: 1" in text
    assert _members() == before  # the preview wrote nothing
    done = client.post_form(preview_url, {"csrf_token": client.csrf_token(preview_url)})
    assert done.status_code == 303 and done.headers["Location"] == "/admin/import/done"
    assert _members() == before + 2
    statement = client.get("/ledger/accounts/LE-101")
    assert "(imported)" in main_text(statement.get_data(as_text=True))
    assert "Send the invitation to 1 member" in main_text(
        client.get("/admin/import/done").get_data(as_text=True))
    # The upload's folder is gone with the import.
    assert client.get(preview_url).status_code == 404


def test_a_preview_with_problems_has_no_import_button(app: Flask, client: Any, auth: Any,
                                                      make_admin: Any) -> None:
    auth.login(make_admin(locale="en").email)
    sent = _upload(client, [("users.csv", (USERS + "101;Dubbel;;0\r\n").encode())])
    text = main_text(client.get(sent.headers["Location"]).get_data(as_text=True))
    assert "1 problem: nothing will be imported" in text
    assert "Duplicate code 101" in text and "Import everything" not in text


def test_the_export_downloads_as_a_zip(app: Flask, client: Any, auth: Any,
                                       make_admin: Any) -> None:
    admin = make_admin(locale="en")
    auth.login(admin.email)
    response = client.get("/admin/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        document = json.loads(archive.read("export.json"))
    codes = [m["account_code"] for m in document["features"]["members"]["member"]]
    assert admin.account_code in codes
    response.close()


def test_the_import_command_dry_run_writes_nothing(app: Flask, runner: Any,
                                                   tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_bytes(USERS.encode())
    (tmp_path / "transactions.csv").write_bytes(HISTORY.encode())
    files = [str(tmp_path / "users.csv"), str(tmp_path / "transactions.csv")]
    result = runner.invoke(args=["import", "--dry-run", *files])
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was written." in result.output
    assert _members() == 0
    result = runner.invoke(args=["import", *files])
    assert result.exit_code == 0, result.output
    assert _members() == 2
    assert db.session.scalar(select(Transfer.imported)) is True
    from lets_site.ledger.services import check

    assert check() == []


def test_the_import_command_reports_every_problem(app: Flask, runner: Any,
                                                  tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_bytes((USERS + "103;Kim;;x\r\n").encode())
    result = runner.invoke(args=["import", str(tmp_path / "users.csv")])
    assert result.exit_code == 1
    assert "PROBLEM users.csv:4 [saldo]" in result.output
    assert _members() == 0


def test_export_then_load_with_the_commands(app: Flask, runner: Any, tmp_path: Path,
                                            make_member: Any) -> None:
    make_member(account_code="LE-900")
    target = tmp_path / "site.zip"
    result = runner.invoke(args=["export", "--output", str(target)])
    assert result.exit_code == 0 and target.exists(), result.output
    refused = runner.invoke(args=["import", str(target)])
    assert refused.exit_code == 1 and "already has members" in refused.output
