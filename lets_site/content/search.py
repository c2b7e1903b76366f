"""Full-text search over pages, news and documents, on the shared machinery
(``lets_site/search.py``): one index per table over its ``search_text`` column (titles,
texts, summaries and descriptions in lower case without accents)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lets_site.content.models import Document, NewsItem, Page, State, Visibility, is_editor
from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.search import FullText, normalise_text, terms

PAGES = FullText("content_page_fts", "content_page")
NEWS = FullText("content_news_fts", "content_news")
DOCUMENTS = FullText("content_document_fts", "content_document")
INDEXES = (PAGES, NEWS, DOCUMENTS)
for _index, _model in zip(INDEXES, (Page, NewsItem, Document), strict=True):
    _index.bind(_model.__table__)  # type: ignore[arg-type]

RESULTS = 20


def page_text(page: Page) -> str:
    return normalise_text("\n".join(f"{t.title}\n{t.body}" for t in page.texts))


def news_text(item: NewsItem) -> str:
    return normalise_text("\n".join((item.title, item.summary, item.body)))


def document_text(document: Document) -> str:
    return normalise_text("\n".join((document.title, document.description,
                                     document.folder, document.file_name)))


def _member(viewer: Any) -> bool:
    return viewer is not None and bool(getattr(viewer, "is_authenticated", False))


def find(query: str, viewer: Any) -> dict[str, list[Any]]:
    """Pages, news and documents matching every word of ``query`` that the viewer may
    see (the same rules as their pages), best match first."""
    found: dict[str, list[Any]] = {"pages": [], "news": [], "documents": []}
    if not terms(query):
        return found
    dialect = db.engine.dialect.name
    editor = is_editor(viewer)
    pages = select(Page).where(Page.deleted.is_(False))
    news = select(NewsItem)
    documents = select(Document)
    if not editor:
        pages = pages.where(Page.state == State.PUBLISHED)
        news = news.where(NewsItem.state == State.PUBLISHED)
        today = utcnow().date()
        documents = documents.where((Document.expires_on.is_(None))
                                    | (Document.expires_on >= today))
        if not _member(viewer):
            pages = pages.where(Page.visibility == Visibility.PUBLIC)
            news = news.where(NewsItem.visibility == Visibility.PUBLIC)
            documents = documents.where(Document.visibility == Visibility.PUBLIC)
    found["pages"] = list(db.session.scalars(
        PAGES.apply(pages, query, dialect, Page.id).limit(RESULTS)))
    found["news"] = list(db.session.scalars(
        NEWS.apply(news, query, dialect, NewsItem.id).limit(RESULTS)))
    found["documents"] = list(db.session.scalars(
        DOCUMENTS.apply(documents, query, dialect, Document.id).limit(RESULTS)))
    return found
