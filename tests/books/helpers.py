"""Book factories for the tests (plain functions, committed like tests/factories.py)."""

from __future__ import annotations

from typing import Any

from lets_site.books import services
from lets_site.books.models import Book, BookRequest, Visibility
from lets_site.extensions import db
from lets_site.members.models import Member
from lets_site.organisations.models import Organisation


def make_book(owner: Member | Organisation, title: str = "De avonden", *,
              actor: Member | None = None, **overrides: Any) -> Book:
    values: dict[str, Any] = {"title": title, "authors": "Gerard Reve",
                              "visibility": Visibility.PUBLIC}
    values.update(overrides)
    data = services.BookData(**values)
    if isinstance(owner, Organisation):
        acting = actor or owner.intermediaries[0].member
        book = services.create_book(acting, data, organisation=owner)
    else:
        book = services.create_book(owner, data)
    db.session.commit()
    return book


def make_request(book: Book, requester: Member, message: str = "Graag!") -> BookRequest:
    req = services.request_book(requester, book, message)
    db.session.commit()
    return req


def accepted(book: Book, requester: Member, owner: Member, **kwargs: Any) -> BookRequest:
    req = make_request(book, requester)
    services.accept(owner, req, **kwargs)
    db.session.commit()
    return req
