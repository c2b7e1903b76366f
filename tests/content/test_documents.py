"""Documents: uploads checked by content and size, stored under the instance folder, and
served only to who may see them, as a download that nothing can run from."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from lets_site.content import files
from lets_site.content.models import Document
from lets_site.extensions import db
from tests.content.conftest import PDF, make_document, make_editor
from tests.factories import make_member
from tests.html import main_text


@pytest.fixture
def editor(client: Any, auth: Any) -> Any:
    member = make_editor(make_member(locale="en"))
    auth.login(member.account_code)
    return member


def _upload(client: Any, content: bytes, name: str, **fields: str) -> Any:
    data = {"title": "Statuten", "description": "", "folder": "Statuten",
            "visibility": "members", "expires_on": "", **fields,
            "file": FileStorage(io.BytesIO(content), name, content_type="application/pdf")}
    data["csrf_token"] = client.csrf_token()
    # Encoded in memory: the test client would spool a large body to a temporary file.
    stream, _length, boundary = stream_encode_multipart(data, use_tempfile=False)
    return client.post("/admin/documents/new", data=stream.getvalue(),
                       content_type=f"multipart/form-data; boundary={boundary}")


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_upload_is_stored_under_the_instance_folder_and_served_as_a_download(
        client: Any, editor: Any, app: Any) -> None:
    response = _upload(client, PDF, "Statuten vzw É.pdf")
    assert response.status_code == 303
    document = db.session.scalar(select(Document))
    path = Path(app.instance_path) / "uploads" / "documents" / document.stored_name
    assert path.read_bytes() == PDF
    assert "static" not in path.parts
    served = client.get(f"/documents/{document.id}/file")
    assert served.status_code == 200 and served.data == PDF
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    csp = served.headers["Content-Security-Policy"]
    assert csp.endswith("; sandbox") and "object-src 'none'" in csp
    assert served.headers["Content-Disposition"] == (
        "attachment; filename=\"Statuten vzw E.pdf\"; "
        "filename*=UTF-8''Statuten%20vzw%20%C3%89.pdf")


@pytest.mark.parametrize(("content", "name"), [
    (b"<!doctype html><script>alert(1)</script>", "statuten.pdf"),
    (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "statuten.pdf"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "statuten.pdf"),
    (b"PK\x03\x04 not really a zip", "statuten.docx"),
    (PDF, "statuten.html"),
    (PDF, "statuten"),
])
def test_an_upload_that_is_not_what_it_claims_is_refused_and_nothing_is_kept(
        client: Any, editor: Any, app: Any, content: bytes, name: str) -> None:
    response = _upload(client, content, name)
    assert response.status_code == 200
    text = main_text(response)
    assert ("is not a PDF" in text) or ("does not match what it contains" in text)
    assert db.session.scalar(select(Document)) is None
    folder = Path(app.instance_path) / "uploads" / "documents"
    assert not folder.exists() or not any(folder.iterdir())


def test_an_oversize_upload_is_refused(client: Any, editor: Any) -> None:
    big = PDF + b"0" * (files.MAX_DOCUMENT_BYTES - len(PDF) + 1)
    response = _upload(client, big, "groot.pdf")
    assert response.status_code == 200 and "too large" in main_text(response)
    just = PDF + b"0" * (files.MAX_DOCUMENT_BYTES - len(PDF))
    assert _upload(client, just, "net.pdf").status_code == 303


def test_office_files_are_recognised_by_their_archive(client: Any, editor: Any) -> None:
    assert _upload(client, _docx(), "verslag.docx").status_code == 303
    assert db.session.scalar(select(Document.content_type)).endswith("document")


def test_members_document_is_hidden_from_visitors_even_by_its_file_url(
        client: Any, auth: Any) -> None:
    document = make_document()
    expired = make_document("Oud", visibility="public", expires_on=date(2020, 1, 1))
    assert client.get(f"/documents/{document.id}/file").status_code == 404
    assert client.get(f"/documents/{expired.id}/file").status_code == 404
    assert "Statuten" not in main_text(client.get("/documents/"))
    auth.login(make_member(locale="en").account_code)
    assert client.get(f"/documents/{document.id}/file").status_code == 200
    assert "Statuten" in main_text(client.get("/documents/"))
    assert client.get(f"/documents/{expired.id}/file").status_code == 404


def test_the_stored_file_is_not_reachable_by_its_name(client: Any) -> None:
    document = make_document(visibility="public")
    for guess in (f"/static/{document.stored_name}", f"/uploads/documents/{document.stored_name}",
                  f"/instance/uploads/documents/{document.stored_name}"):
        assert client.get(guess).status_code == 404


def test_content_disposition_is_rfc_6266() -> None:
    assert files.content_disposition('a"b;c%d.pdf') == (
        "attachment; filename=\"a_b_c_d.pdf\"; filename*=UTF-8''a%22b%3Bc%25d.pdf")
    assert files.clean_file_name("../../etc/passwd\x00.pdf", "pdf") == "passwd.pdf"
