"""Business rules for pages, news and documents. Services flush, never commit."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from lets_site.audit import services as audit
from lets_site.content import files
from lets_site.content import search as content_search
from lets_site.content.models import (
    ContentEditor,
    Document,
    NewsItem,
    Page,
    PageRevision,
    PageText,
    Placement,
    State,
    Visibility,
    is_editor,
    may_see,
)
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.paging import Page as ResultPage
from lets_site.settings import LANGUAGES, detached_copy, get_settings, shared

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 80
# What a Markdown body must not carry: raw HTML that runs code. The sanitiser would drop
# it when the page is shown; refusing it says so to the editor and keeps it out of the
# database, the revisions and the search index.
UNSAFE_MARKUP = re.compile(
    r"<\s*/?\s*(?:script|iframe|object|embed|style|form|svg|math|meta|link|base)\b"
    r"|<[^>]*\bon[a-z]+\s*="
    r"|\]\(\s*(?:javascript|vbscript|data):"
    r"|<[^>]*(?:javascript|vbscript):",
    re.IGNORECASE,
)
UNSAFE_MESSAGE = _l("Remove the script or HTML code: pages are written in Markdown "
                    "(no script, no event handlers).")
# Page slugs that a group's own page may not take.
RESERVED_SLUGS = {"new", "admin", "edit"}
HOUSE_RULES = "house-rules"
MAX_ID = 2**31 - 1  # an id in a URL beyond the column's range is simply not found
ABOUT = "about-us"


def _require_editor(actor: Any) -> None:
    if not is_editor(actor):
        raise PermissionDenied(_l("Only content editors and admins edit the group's content."))


def _check_markdown(value: str, field: str) -> None:
    if UNSAFE_MARKUP.search(value or ""):
        raise DomainError(UNSAFE_MESSAGE, field=field)


# --- Editors ---------------------------------------------------------------------------------


def editors() -> list[Any]:
    from lets_site.members.models import Member

    return list(db.session.scalars(
        select(Member).join(ContentEditor, ContentEditor.member_id == Member.id)
        .order_by(Member.display_name)))


def set_editor(actor: Any, member: Any, editor: bool) -> None:
    """Admins give and take the content editor role."""
    if actor is None or not actor.is_admin:
        raise PermissionDenied(_l("Only admins give the content editor role."))
    row = db.session.get(ContentEditor, member.id)
    if editor and row is None:
        db.session.add(ContentEditor(member_id=member.id))
        audit.record_for_member(actor, "content.editor_grant", member)
    elif not editor and row is not None:
        db.session.delete(row)
        audit.record_for_member(actor, "content.editor_revoke", member)
    db.session.flush()


# --- Pages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageInput:
    slug: str
    visibility: str
    placement: str
    parent_id: int | None
    position: int
    texts: dict[str, tuple[str, str]]  # lang -> (title, body)


def get_page(page_id: int) -> Page:
    page = db.session.get(Page, page_id) if 0 < page_id <= MAX_ID else None
    if page is None or page.deleted:
        raise NotFound(_l("This page does not exist."))
    return page


def page_by_slug(slug: str) -> Page | None:
    return db.session.scalar(select(Page).where(Page.slug == slug, Page.deleted.is_(False)))


def published_page(slug: str, viewer: Any) -> Page | None:
    """The page at ``slug`` if it is published and the viewer may read it."""
    page = page_by_slug(slug)
    if page is None or page.state != State.PUBLISHED or not may_see(page.visibility, viewer):
        return None
    return page


def all_pages() -> list[Page]:
    return list(db.session.scalars(
        select(Page).where(Page.deleted.is_(False)).order_by(Page.position, Page.slug)))


def tree(pages: list[Page]) -> list[tuple[Page, int]]:
    """The pages in tree order with their depth (a parent before its children)."""
    children: dict[int | None, list[Page]] = {}
    ids = {p.id for p in pages}
    for page in pages:
        parent = page.parent_id if page.parent_id in ids else None
        children.setdefault(parent, []).append(page)
    out: list[tuple[Page, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for page in children.get(parent, []):
            out.append((page, depth))
            walk(page.id, depth + 1)

    walk(None, 0)
    return out


def placed_pages(placement: str, viewer: Any) -> list[Page]:
    """Published pages placed in the menu or the footer that the viewer may read.

    The menu and the footer are on every page: the placed pages of both, with their texts,
    are read in one go (two queries, however many pages) and kept per process until someone
    writes (``lets_site.settings.shared``): copies attached to no session, to show only."""
    members = viewer is not None and bool(getattr(viewer, "is_authenticated", False))
    pages = shared(f"content.placed.{'members' if members else 'public'}",
                   lambda: _copies(_placed_pages(members)))
    return [page for page in pages if page.placement == placement]


def _placed_pages(members: bool) -> list[Page]:
    query = (select(Page).where(Page.deleted.is_(False), Page.state == State.PUBLISHED,
                                Page.placement.in_((Placement.MENU, Placement.FOOTER)))
             .options(selectinload(Page.texts))
             .order_by(Page.position, Page.slug))
    if not members:
        query = query.where(Page.visibility == Visibility.PUBLIC)
    return list(db.session.scalars(query))


def _copies(pages: list[Page]) -> list[Page]:
    copies = []
    for page in pages:
        copy = detached_copy(page)
        set_committed_value(copy, "texts", [detached_copy(text) for text in page.texts])
        copies.append(copy)
    return copies


def _validate_page(data: PageInput, page: Page | None) -> None:
    if not SLUG_RE.match(data.slug or "") or len(data.slug) > SLUG_MAX:
        raise DomainError(_l("Use lower-case letters, digits and hyphens (like house-rules)."),
                          field="slug")
    if data.slug in RESERVED_SLUGS:
        raise DomainError(_l("This address is reserved; choose another."), field="slug")
    clash = db.session.scalar(select(Page.id).where(Page.slug == data.slug))
    if clash is not None and (page is None or clash != page.id):
        raise DomainError(_l("Another page already has this address; choose another."),
                          field="slug")
    if data.visibility not in set(Visibility):
        raise DomainError(_l("Choose who may read the page."), field="visibility")
    if data.placement not in set(Placement):
        raise DomainError(_l("Choose where the page is linked."), field="placement")
    default = get_settings().default_language
    title, _body = data.texts.get(default, ("", ""))
    if not title.strip():
        raise DomainError(_l("A page needs a title in the group's default language."),
                          field=f"title_{default}")
    for lang, (title, body) in data.texts.items():
        if body.strip() and not title.strip():
            raise DomainError(_l("Give this translation a title, or empty its text."),
                              field=f"title_{lang}")
        _check_markdown(body, f"body_{lang}")
        _check_markdown(title, f"title_{lang}")
    if data.parent_id is not None:
        parent = db.session.get(Page, data.parent_id)
        if parent is None or parent.deleted:
            raise DomainError(_l("Choose an existing page."), field="parent_id")
        # No page under itself or one of its own sub-pages.
        seen = parent
        while seen is not None:
            if page is not None and seen.id == page.id:
                raise DomainError(_l("A page cannot be placed under itself."),
                                  field="parent_id")
            seen = seen.parent


def _write_texts(page: Page, texts: dict[str, tuple[str, str]]) -> None:
    existing = {t.lang: t for t in page.texts}
    for lang in LANGUAGES:
        title, body = texts.get(lang, ("", ""))
        title, body = title.strip(), body.strip()
        if title:
            row = existing.get(lang)
            if row is None:
                page.texts.append(PageText(lang=lang, title=title, body=body))
            else:
                row.title, row.body = title, body
        elif lang in existing:
            page.texts.remove(existing[lang])


def _revise(page: Page, actor: Any, note: str = "") -> PageRevision:
    db.session.flush()
    number = (db.session.scalar(select(func.max(PageRevision.number))
                                .where(PageRevision.page_id == page.id)) or 0) + 1
    revision = PageRevision(page_id=page.id, number=number,
                            author_id=actor.id if actor is not None else None,
                            note=note[:200],
                            texts_json=json.dumps(page.snapshot(), ensure_ascii=False,
                                                  sort_keys=True))
    db.session.add(revision)
    db.session.flush()
    return revision


def save_page(actor: Any, page_id: int | None, data: PageInput) -> Page:
    """Create or change a page; every save keeps a revision."""
    _require_editor(actor)
    page = get_page(page_id) if page_id is not None else None
    _validate_page(data, page)
    if page is None:
        page = Page(state=State.DRAFT)
        db.session.add(page)
    page.slug = data.slug
    page.visibility = data.visibility
    page.placement = data.placement
    page.parent_id = data.parent_id
    page.position = data.position
    page.updated_at = utcnow()
    _write_texts(page, data.texts)
    page.search_text = content_search.page_text(page)
    _revise(page, actor)
    return page


def set_page_state(actor: Any, page_id: int, state: str) -> Page:
    _require_editor(actor)
    page = get_page(page_id)
    if state not in set(State):
        raise DomainError(_l("Unknown state."))
    if page.state != state:
        page.state = state
        page.updated_at = utcnow()
        action = "content.page_publish" if state == State.PUBLISHED else "content.page_unpublish"
        audit.record(actor, action, target_type="page", target_id=page.id,
                     target_label=page.slug)
        db.session.flush()
    return page


def delete_page(actor: Any, page_id: int) -> Page:
    """Take a page off the site. Its revisions stay (and the audit log says who)."""
    _require_editor(actor)
    page = get_page(page_id)
    audit.record(actor, "content.page_delete", target_type="page", target_id=page.id,
                 target_label=page.slug, details={"state": page.state})
    page.deleted = True
    page.state = State.DRAFT
    # The address is free again for a new page.
    page.slug = f"deleted-{page.id}-{page.slug}"[:SLUG_MAX]
    for child in db.session.scalars(select(Page).where(Page.parent_id == page.id)):
        child.parent_id = page.parent_id
    db.session.flush()
    return page


def revisions(page: Page) -> list[PageRevision]:
    return list(db.session.scalars(
        select(PageRevision).where(PageRevision.page_id == page.id)
        .order_by(PageRevision.number.desc())))


def get_revision(page: Page, number: int) -> PageRevision:
    revision = db.session.scalar(select(PageRevision).where(
        PageRevision.page_id == page.id, PageRevision.number == number)
    ) if 0 < number <= MAX_ID else None
    if revision is None:
        raise NotFound(_l("This revision does not exist."))
    return revision


def restore_revision(actor: Any, page_id: int, number: int) -> PageRevision:
    """The page's texts become those of revision ``number``; that is a new revision."""
    _require_editor(actor)
    page = get_page(page_id)
    old = get_revision(page, number)
    texts = {lang: (t.get("title", ""), t.get("body", "")) for lang, t in old.texts.items()}
    _write_texts(page, texts)
    page.search_text = content_search.page_text(page)
    page.updated_at = utcnow()
    return _revise(page, actor, note=f"restored {number}")


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


def diff(old: PageRevision, new: PageRevision) -> list[tuple[str, str, list[DiffLine]]]:
    """(language, "title" or "text", lines) for each part that differs."""
    out = []
    a, b = old.texts, new.texts
    for lang in LANGUAGES:
        for part, key in (("title", "title"), ("text", "body")):
            before = a.get(lang, {}).get(key, "")
            after = b.get(lang, {}).get(key, "")
            if before == after:
                continue
            lines = []
            for line in difflib.ndiff(before.splitlines(), after.splitlines()):
                code, text = line[:2], line[2:]
                if code == "+ ":
                    lines.append(DiffLine("added", text))
                elif code == "- ":
                    lines.append(DiffLine("removed", text))
                elif code == "  ":
                    lines.append(DiffLine("same", text))
            out.append((lang, part, lines))
    return out


# --- News ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewsInput:
    title: str
    summary: str
    body: str
    news_date: date
    pinned: bool
    visibility: str


def get_news(news_id: int) -> NewsItem:
    item = db.session.get(NewsItem, news_id) if 0 < news_id <= MAX_ID else None
    if item is None:
        raise NotFound(_l("This news item does not exist."))
    return item


def save_news(actor: Any, news_id: int | None, data: NewsInput) -> NewsItem:
    _require_editor(actor)
    if not data.title.strip():
        raise DomainError(_l("A news item needs a title."), field="title")
    if data.visibility not in set(Visibility):
        raise DomainError(_l("Choose who may read it."), field="visibility")
    for field in ("title", "summary", "body"):
        _check_markdown(getattr(data, field), field)
    item = get_news(news_id) if news_id is not None else None
    if item is None:
        item = NewsItem(state=State.DRAFT, author_id=actor.id)
        db.session.add(item)
    item.title = data.title.strip()
    item.summary = data.summary.strip()
    item.body = data.body.strip()
    item.news_date = data.news_date
    item.pinned = data.pinned
    item.visibility = data.visibility
    item.search_text = content_search.news_text(item)
    item.updated_at = utcnow()
    db.session.flush()
    return item


def set_news_state(actor: Any, news_id: int, state: str) -> NewsItem:
    _require_editor(actor)
    item = get_news(news_id)
    if item.state != state:
        item.state = state
        item.updated_at = utcnow()
        action = "content.news_publish" if state == State.PUBLISHED else "content.news_unpublish"
        audit.record(actor, action, target_type="news", target_id=item.id,
                     target_label=item.title)
        db.session.flush()
    return item


def delete_news(actor: Any, news_id: int) -> None:
    _require_editor(actor)
    item = get_news(news_id)
    audit.record(actor, "content.news_delete", target_type="news", target_id=item.id,
                 target_label=item.title, details={"state": item.state})
    db.session.delete(item)
    db.session.flush()


def _news_query(viewer: Any, all_states: bool = False) -> Any:
    query = select(NewsItem)
    if not all_states:
        query = query.where(NewsItem.state == State.PUBLISHED)
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        query = query.where(NewsItem.visibility == Visibility.PUBLIC)
    return query


def newest_news(viewer: Any, limit: int) -> list[NewsItem]:
    """Published news this viewer may read: pinned first, then by date."""
    return list(db.session.scalars(
        _news_query(viewer).order_by(NewsItem.pinned.desc(), NewsItem.news_date.desc(),
                                     NewsItem.id.desc()).limit(limit)))


def news_page(viewer: Any, number: int, size: int = 20) -> ResultPage:
    editor = is_editor(viewer)
    query = _news_query(viewer, all_states=editor).order_by(
        NewsItem.pinned.desc(), NewsItem.news_date.desc(), NewsItem.id.desc())
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    # A page past the last (or a huge number in the URL) shows the last page.
    number = min(max(1, number), max(1, -(-total // size)))
    items = list(db.session.scalars(query.limit(size).offset((number - 1) * size)))
    return ResultPage(items=items, total=total, page=number, per_page=size)


def news_for_items(viewer: Any, limit: int) -> list[NewsItem]:
    return list(db.session.scalars(
        _news_query(viewer).order_by(NewsItem.created_at.desc()).limit(limit)))


# --- Documents -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentInput:
    title: str
    description: str
    folder: str
    visibility: str
    expires_on: date | None


def _check_document(data: DocumentInput) -> None:
    if not data.title.strip():
        raise DomainError(_l("A document needs a title."), field="title")
    if data.visibility not in set(Visibility):
        raise DomainError(_l("Choose who may read it."), field="visibility")
    _check_markdown(data.description, "description")


def upload_document(actor: Any, data: DocumentInput, file_name: str,
                    content: bytes) -> Document:
    """Keep an uploaded file: its kind is read from its content; the name's extension must
    agree (an HTML page named .pdf is refused)."""
    _require_editor(actor)
    _check_document(data)
    if not content:
        raise DomainError(_l("Choose a file."), field="file")
    if len(content) > files.MAX_DOCUMENT_BYTES:
        raise DomainError(_l("This file is too large (at most %(mb)d MB).",
                             mb=files.MAX_DOCUMENT_BYTES // (1024 * 1024)), field="file")
    kind = files.sniff(content)
    if kind is None:
        raise DomainError(_l("This file is not a PDF, an office document (ODT, DOCX, XLSX) "
                             "or an image (PNG, JPEG, GIF)."), field="file")
    if files.extension_of(file_name) not in files.EXTENSIONS[kind]:
        raise DomainError(_l("The file's name does not match what it contains."),
                          field="file")
    stored = files.new_stored_name(kind)
    document = Document(title=data.title.strip(), description=data.description.strip(),
                        folder=data.folder.strip(), visibility=data.visibility,
                        expires_on=data.expires_on,
                        file_name=files.clean_file_name(file_name, kind),
                        stored_name=stored, content_type=files.KINDS[kind][0],
                        size=len(content), uploader_id=actor.id)
    document.search_text = content_search.document_text(document)
    db.session.add(document)
    db.session.flush()
    files.path_of(stored).write_bytes(content)
    audit.record(actor, "content.document_add", target_type="document",
                 target_id=document.id, target_label=document.title)
    return document


def get_document(document_id: int) -> Document:
    document = db.session.get(Document, document_id) if 0 < document_id <= MAX_ID else None
    if document is None:
        raise NotFound(_l("This document does not exist."))
    return document


def edit_document(actor: Any, document_id: int, data: DocumentInput) -> Document:
    _require_editor(actor)
    _check_document(data)
    document = get_document(document_id)
    document.title = data.title.strip()
    document.description = data.description.strip()
    document.folder = data.folder.strip()
    document.visibility = data.visibility
    document.expires_on = data.expires_on
    document.search_text = content_search.document_text(document)
    db.session.flush()
    return document


def delete_document(actor: Any, document_id: int) -> str:
    """Remove the document's row; returns the stored file's name, which the view deletes
    after the commit."""
    _require_editor(actor)
    document = get_document(document_id)
    audit.record(actor, "content.document_delete", target_type="document",
                 target_id=document.id, target_label=document.title)
    stored = document.stored_name
    db.session.delete(document)
    db.session.flush()
    return stored


def visible_documents(viewer: Any) -> list[Document]:
    today = utcnow().date()
    query = select(Document).order_by(Document.folder, Document.title)
    if not is_editor(viewer):
        query = query.where((Document.expires_on.is_(None)) | (Document.expires_on >= today))
        if viewer is None or not getattr(viewer, "is_authenticated", False):
            query = query.where(Document.visibility == Visibility.PUBLIC)
    return list(db.session.scalars(query))


def document_for(viewer: Any, document_id: int) -> Document:
    """The document if the viewer may see it; NotFound otherwise (a visitor learns nothing
    from guessing numbers)."""
    document = db.session.get(Document, document_id) if 0 < document_id <= MAX_ID else None
    if document is None or not document.can_see(viewer, utcnow().date()):
        raise NotFound(_l("This document does not exist."))
    return document
