"""Factories for pages, news and documents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask

from lets_site.content import files
from lets_site.content import search as content_search
from lets_site.content.models import (
    ContentEditor,
    Document,
    NewsItem,
    Page,
    PageRevision,
    PageText,
    State,
    Visibility,
)
from lets_site.extensions import db

# The smallest PDF a reader opens: one empty page.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


def make_page(slug: str = "huisregels", title: str = "Huisregels", body: str = "Wees lief.",
              **overrides: Any) -> Page:
    texts = overrides.pop("texts", {"nl": (title, body)})
    values: dict[str, Any] = {"slug": slug, "state": State.PUBLISHED,
                              "visibility": Visibility.PUBLIC, "placement": "none",
                              "position": 0, "deleted": False}
    values.update(overrides)
    page = Page(**values)
    for lang, (t, b) in texts.items():
        page.texts.append(PageText(lang=lang, title=t, body=b))
    page.search_text = content_search.page_text(page)
    db.session.add(page)
    db.session.flush()
    db.session.add(PageRevision(page_id=page.id, number=1, texts_json="{}", note=""))
    db.session.commit()
    return page


def make_news(title: str = "Nieuwe infoavonden", **overrides: Any) -> NewsItem:
    values: dict[str, Any] = {"title": title, "summary": "Kom kennismaken.", "body": "",
                              "news_date": date(2026, 11, 20), "pinned": False,
                              "state": State.PUBLISHED, "visibility": Visibility.PUBLIC}
    values.update(overrides)
    item = NewsItem(**values)
    item.search_text = content_search.news_text(item)
    db.session.add(item)
    db.session.commit()
    return item


def make_document(title: str = "Statuten", content: bytes = PDF, **overrides: Any) -> Document:
    stored = files.new_stored_name("pdf")
    files.path_of(stored).write_bytes(content)
    values: dict[str, Any] = {"title": title, "description": "", "folder": "Statuten",
                              "visibility": Visibility.MEMBERS, "file_name": "statuten.pdf",
                              "stored_name": stored, "content_type": "application/pdf",
                              "size": len(content)}
    values.update(overrides)
    document = Document(**values)
    document.search_text = content_search.document_text(document)
    db.session.add(document)
    db.session.commit()
    return document


def make_editor(member: Any) -> Any:
    db.session.add(ContentEditor(member_id=member.id))
    db.session.commit()
    return member


@pytest.fixture
def page_factory(app: Flask) -> Callable[..., Page]:
    return make_page


@pytest.fixture
def news_factory(app: Flask) -> Callable[..., NewsItem]:
    return make_news


@pytest.fixture
def document_factory(app: Flask) -> Callable[..., Document]:
    return make_document


@pytest.fixture
def request_ctx(app: Flask) -> Any:
    with app.test_request_context("/"):
        yield
