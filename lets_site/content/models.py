"""Pages, news items and documents: the group's own content.

Each has a workflow state (``draft``/``published``; documents are published on upload)
and a visibility (``public`` or ``members``). Pages have a title and body per language
and keep a revision of every save."""

from __future__ import annotations

import enum
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db
from lets_site.settings import LANGUAGES, get_settings, shared


class State(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"


class Placement(enum.StrEnum):
    NONE = "none"
    MENU = "menu"
    FOOTER = "footer"


class ContentEditor(db.Model):
    """A member an admin made a content editor: edits pages, news and documents."""

    __tablename__ = "content_editor"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def is_editor(actor: Any) -> bool:
    """Admins and content editors (active members) edit the group's content."""
    if actor is None or not actor.is_authenticated:
        return False
    if actor.is_admin:
        return True
    # Only active and leaving members are authenticated (Member.is_active).
    return shared(f"content.editor.{actor.id}",
                  lambda: db.session.get(ContentEditor, actor.id) is not None)


def may_see(visibility: str, viewer: Any) -> bool:
    return visibility == Visibility.PUBLIC or (
        viewer is not None and bool(viewer.is_authenticated))


class Page(db.Model):
    __tablename__ = "content_page"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("content_page.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default=State.DRAFT)
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.PUBLIC)
    placement: Mapped[str] = mapped_column(String(16), default=Placement.NONE)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Every language's title and text, folded for search (content/search.py).
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    texts: Mapped[list[PageText]] = relationship(
        back_populates="page", cascade="all, delete-orphan", order_by="PageText.lang")
    parent: Mapped[Page | None] = relationship(remote_side=[id])

    @property
    def urn(self) -> str:
        return f"urn:lets:page:{self.id}"

    def text_in(self, lang: str) -> PageText | None:
        return next((t for t in self.texts if t.lang == lang and t.title.strip()), None)

    def shown_text(self, lang: str) -> tuple[PageText | None, bool]:
        """The text to show in ``lang`` and whether it is a fallback (the group's default
        language, then any)."""
        own = self.text_in(lang)
        if own is not None:
            return own, False
        for code in (get_settings().default_language, *LANGUAGES):
            other = self.text_in(code)
            if other is not None:
                return other, True
        return None, True

    def title(self, lang: str) -> str:
        text, _fallback = self.shown_text(lang)
        return text.title if text else self.slug

    def can_see(self, viewer: Any) -> bool:
        if self.deleted:
            return False
        if is_editor(viewer):
            return True
        return self.state == State.PUBLISHED and may_see(self.visibility, viewer)

    def snapshot(self) -> dict[str, dict[str, str]]:
        return {t.lang: {"title": t.title, "body": t.body} for t in self.texts}


class PageText(db.Model):
    __tablename__ = "content_page_text"

    page_id: Mapped[int] = mapped_column(
        ForeignKey("content_page.id", ondelete="CASCADE"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")

    page: Mapped[Page] = relationship(back_populates="texts")


class PageRevision(db.Model):
    """The page's texts as one save left them (who, when)."""

    __tablename__ = "content_page_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("content_page.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(200), default="")
    texts_json: Mapped[str] = mapped_column(Text, default="{}")

    author: Mapped[Any] = relationship("Member")

    @property
    def texts(self) -> dict[str, dict[str, str]]:
        return json.loads(self.texts_json)  # type: ignore[no-any-return]


class NewsItem(db.Model):
    __tablename__ = "content_news"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    news_date: Mapped[date] = mapped_column(Date)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    search_text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=State.DRAFT)
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.PUBLIC)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def urn(self) -> str:
        return f"urn:lets:news:{self.id}"

    def can_see(self, viewer: Any) -> bool:
        if is_editor(viewer):
            return True
        return self.state == State.PUBLISHED and may_see(self.visibility, viewer)


class Document(db.Model):
    __tablename__ = "content_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    folder: Mapped[str] = mapped_column(String(80), default="")
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.MEMBERS)
    expires_on: Mapped[date | None] = mapped_column(Date)
    file_name: Mapped[str] = mapped_column(String(200))
    # The random name of the stored file under instance/uploads/documents/.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    search_text: Mapped[str] = mapped_column(Text, default="")
    uploader_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def urn(self) -> str:
        return f"urn:lets:document:{self.id}"

    def expired(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on < today

    def can_see(self, viewer: Any, today: date) -> bool:
        if is_editor(viewer):
            return True
        return not self.expired(today) and may_see(self.visibility, viewer)
