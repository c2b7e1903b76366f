"""Book covers: the shared image pipeline on the book's form (POST, CSRF, no script
needed), shown on the book's page and small in the list; the owner, an intermediary for
an organisation's book and admins may change them; members-only books' covers are a 404
for visitors."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from lets_site import photos
from lets_site.books.models import Book, BookState, Visibility
from lets_site.extensions import db
from tests import uploads
from tests.books.helpers import make_book
from tests.html import select_text


def _form(book: Book, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"title": book.title, "authors": book.authors, "isbn": "",
                            "language": book.language, "genre": book.genre,
                            "condition": book.condition, "mode": book.mode, "price": "",
                            "visibility": book.visibility, "note": book.note}
    data.update(extra)
    return data


def _post(client: Any, book: Book, content: bytes | None = None,
          filename: str = "cover.png", **extra: Any) -> Any:
    data = _form(book, **extra)
    if content is not None:
        data["cover"] = (content, filename)
    return uploads.post_multipart(client, f"/books/{book.id}/edit", data)


def _cover_paths(page: Any) -> list[str]:
    return re.findall(r'src="(/books/covers/[0-9a-f]{32}(?:-t)?\.jpg)"',
                      page.get_data(as_text=True))


def _reload(book: Book) -> Book:
    db.session.expire_all()
    found = db.session.get(Book, book.id)
    assert found is not None
    return found


@pytest.mark.parametrize("role, owner, status", [
    ("member", "member", 303), ("admin", "member", 303), ("intermediary", "member", 403),
    ("other_org_member", "member", 403), ("anonymous", "member", 302),
    ("intermediary", "org", 303), ("member", "org", 403),
])
def test_who_may_change_a_cover(client: Any, login_as: Any, people: dict[str, Any],
                                role: str, owner: str, status: int) -> None:
    book = make_book(people[owner], "Het smelt")
    login_as(role)
    assert _post(client, book, uploads.png()).status_code == status
    assert (_reload(book).cover_key is not None) == (status == 303)


def test_a_new_book_with_a_cover_and_where_it_shows(client: Any, login_as: Any,
                                                    people: dict[str, Any]) -> None:
    login_as("member")
    data = {"owner": "", "title": "De avonden", "authors": "Gerard Reve", "isbn": "",
            "language": "nl", "genre": "novel", "condition": "good", "mode": "give",
            "price": "", "visibility": "public", "note": "",
            "cover": (uploads.png(size=(400, 600)), "voorkant.png")}
    response = uploads.post_multipart(client, "/books/new", data)
    assert response.status_code == 303
    book = db.session.scalar(db.select(Book))
    assert book is not None and book.cover_key
    assert (book.cover_width, book.cover_height) == (400, 600)
    assert (book.cover_thumb_width, book.cover_thumb_height) == (160, 240)
    page = client.get(f"/books/{book.id}")
    full = f"/books/covers/{photos.file_name(book.cover_key)}"
    thumb = f"/books/covers/{photos.file_name(book.cover_key, thumb=True)}"
    # The page shows the thumbnail (at most 8 KB: the page's budget), linked to the photo.
    assert _cover_paths(page) == [thumb]
    assert f'<a href="{full}">' in page.get_data(as_text=True)
    assert 'alt="Cover of De avonden"' in page.get_data(as_text=True)
    assert thumb in _cover_paths(client.get("/books/"))
    assert client.get(full).status_code == 200 and client.get(thumb).status_code == 200


def test_replace_and_remove_a_cover(client: Any, login_as: Any,
                                    people: dict[str, Any]) -> None:
    book = make_book(people["member"], "Kaas", cover=io.BytesIO(uploads.png()))
    first = book.cover_key
    login_as("member")
    form = client.get(f"/books/{book.id}/edit").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and 'name="remove_cover"' in form
    assert _post(client, book).status_code == 303
    assert _reload(book).cover_key == first  # saved without a file: the cover stays
    assert _post(client, book, uploads.png((0, 0, 250))).status_code == 303
    second = _reload(book).cover_key
    assert second and second != first
    assert client.get(f"/books/covers/{photos.file_name(first or '')}").status_code == 404
    assert _post(client, book, remove_cover="y").status_code == 303
    assert _reload(book).cover_key is None
    assert _cover_paths(client.get(f"/books/{book.id}")) == []


@pytest.mark.parametrize("content, filename, message", [
    (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", "cover.png", "not a photo"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "cover.svg", "not a photo"),
    (b"\xff" * (photos.MAX_UPLOAD_BYTES + 1), "cover.jpg", "10 MB"),
])
def test_a_refused_cover_is_a_message_on_the_field(client: Any, login_as: Any,
                                                   people: dict[str, Any], content: bytes,
                                                   filename: str, message: str) -> None:
    book = make_book(people["member"], "Kaas")
    login_as("member")
    response = _post(client, book, content, filename=filename, title="Andere titel")
    assert response.status_code == 200
    assert message in select_text(response, "#cover-error")
    kept = _reload(book)
    assert kept.cover_key is None and kept.title == "Kaas"


def test_a_members_only_books_cover_is_a_404_for_visitors(client: Any, login_as: Any,
                                                          people: dict[str, Any]) -> None:
    hidden = make_book(people["member"], "Kaas", visibility=Visibility.MEMBERS,
                       cover=io.BytesIO(uploads.png()))
    public = make_book(people["member"], "Pallieter", cover=io.BytesIO(uploads.png((0, 90, 0))))
    hidden_url = f"/books/covers/{photos.file_name(hidden.cover_key or '', thumb=True)}"
    public_url = f"/books/covers/{photos.file_name(public.cover_key or '', thumb=True)}"
    assert client.get(hidden_url).status_code == 404
    response = client.get(public_url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == photos.PUBLIC_CACHE
    login_as("other_org_member")
    response = client.get(hidden_url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == photos.PRIVATE_CACHE


def test_a_shelved_books_cover_is_for_its_owner_only(client: Any, login_as: Any, auth: Any,
                                                     people: dict[str, Any]) -> None:
    book = make_book(people["member"], "Kaas", cover=io.BytesIO(uploads.png()))
    book.state = BookState.SHELVED
    db.session.commit()
    url = f"/books/covers/{photos.file_name(book.cover_key or '')}"
    login_as("other_org_member")
    assert client.get(url).status_code == 404
    auth.logout()
    login_as("member")
    assert client.get(url).status_code == 200
