"""Bulk add: a preview names each bad row by its line and writes nothing; confirming adds
the good rows; a file in another encoding or too large gets a clear message."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import func, select

from lets_site.books import bulk
from lets_site.books.models import Book
from lets_site.extensions import db

LIST = """978-0-306-40615-7 De avonden
Het verdriet van België
978-0-306-40615-8 Kaas
2-07-036822-X L'Étranger
"""

CSV = """isbn;title;authors;mode;language
9780306406157;Pallieter;Felix Timmermans;lenen;nl
;Le Petit Prince;Antoine de Saint-Exupéry;donner;fr
;;Nobody;give;nl
;Max Havelaar;Multatuli;verkopen;nl
;Sapiens;Harari;swap;klingon
"""


def _books() -> int:
    return db.session.scalar(select(func.count(Book.id))) or 0


def _login(auth: Any, make_member: Any) -> Any:
    member = make_member(locale="en")
    auth.login(member.account_code)
    return member


def test_parse_pasted_lines_and_their_problems() -> None:
    rows = bulk.parse(LIST)
    assert [(r.line, r.data.title if r.data else r.problem) for r in rows] == [
        (1, "De avonden"), (2, "Het verdriet van België"),
        (3, "the ISBN 978-0-306-40615-8 is not valid (check digit)"), (4, "L'Étranger")]


def test_parse_csv_with_a_header_in_any_order() -> None:
    rows = bulk.parse(CSV)
    assert [r.line for r in rows] == [2, 3, 4, 5, 6]
    good = [(r.data.title, r.data.language, r.data.mode) for r in rows if r.data]
    assert good == [("Pallieter", "nl", "lend"), ("Le Petit Prince", "fr", "give")]
    assert [r.problem for r in rows if not r.data] == [
        "no title", "unknown mode “verkopen” (give, lend or swap)",
        "unknown language “klingon”"]


def test_preview_writes_nothing_and_confirming_adds_the_good_rows(
        client: Any, auth: Any, make_member: Any) -> None:
    member = _login(auth, make_member)
    preview = client.post_form("/books/import", {"text": LIST, "language": "nl",
                                                 "mode": "give", "owner": ""})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and _books() == 0
    assert "3 rows can be added, 1 cannot." in page
    assert "not valid (check digit)" in page
    added = client.post_form("/books/import", {"text": LIST, "language": "nl", "mode": "lend",
                                               "owner": "", "add": "Add the good rows"})
    assert added.status_code == 303
    books = db.session.scalars(select(Book).order_by(Book.id)).all()
    assert [(b.title, b.isbn, b.mode, b.owner_member_id) for b in books] == [
        ("De avonden", "9780306406157", "lend", member.id),
        ("Het verdriet van België", None, "lend", member.id),
        ("L'Étranger", "9782070368228", "lend", member.id)]


def test_a_csv_file_is_previewed_and_moved_into_the_text_box(
        client: Any, auth: Any, make_member: Any) -> None:
    _login(auth, make_member)
    data = {"csrf_token": client.csrf_token("/books/import"), "language": "nl",
            "mode": "give", "owner": "", "text": "",
            "file": (io.BytesIO(("\ufeff" + CSV).encode()), "books.csv")}
    response = client.post("/books/import", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and _books() == 0
    assert "2 rows can be added, 3 cannot." in page
    assert "Pallieter;Felix Timmermans" in page  # the text box holds the file's text


def test_a_file_in_another_encoding_is_refused_with_a_message(
        client: Any, auth: Any, make_member: Any) -> None:
    _login(auth, make_member)
    data = {"csrf_token": client.csrf_token("/books/import"), "language": "nl",
            "mode": "give", "owner": "", "text": "",
            "file": (io.BytesIO(CSV.encode("latin-1")), "books.csv")}
    response = client.post("/books/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "The file is not UTF-8 text." in response.get_data(as_text=True)
    assert _books() == 0


def test_an_oversize_file_is_refused_with_a_message(client: Any, auth: Any,
                                                    make_member: Any) -> None:
    _login(auth, make_member)
    big = ("Een titel\n" * (bulk.MAX_BYTES // 10 + 1)).encode()
    assert len(big) > bulk.MAX_BYTES
    data = {"csrf_token": client.csrf_token("/books/import"), "language": "nl",
            "mode": "give", "owner": "", "text": "",
            "file": (io.BytesIO(big), "books.csv")}
    response = client.post("/books/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "The file is too large" in response.get_data(as_text=True)
    assert _books() == 0


def test_more_rows_than_allowed_are_refused() -> None:
    import pytest

    from lets_site.domain import DomainError

    with pytest.raises(DomainError, match="At most 500 books"):
        bulk.parse("Titel\n" * (bulk.MAX_ROWS + 1))
    assert len(bulk.parse("Titel\n" * bulk.MAX_ROWS)) == bulk.MAX_ROWS
