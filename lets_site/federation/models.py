"""The aggregator's tables: the registry of followed feeds, the merged items, the fetch
log and the decisions held for an admin.

Items are keyed by (feed, item id), never across groups. A stored tombstone
(``deleted``) keeps its revision so that an older copy of the item (a publisher's
rollback) cannot bring it back.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db


class Status(enum.StrEnum):
    """What the admin set: fetch it, or not."""

    ACTIVE = "active"
    PAUSED = "paused"
    GONE = "gone"  # the server answered 410; an admin may set it active again


class Health(enum.StrEnum):
    """What the last fetches say (the directory's badge)."""

    NEW = "new"
    OK = "ok"
    STALE = "stale"  # the last fetch failed; the last good snapshot is shown
    ERROR = "error"
    INVALID = "invalid"  # fetched, but the feed was refused
    GONE = "gone"


class DecisionKind(enum.StrEnum):
    MOVED = "moved"  # a permanent redirect to a new URL
    MASS_DELETE = "mass_delete"  # many items vanished at once without tombstones


class Feed(db.Model):
    __tablename__ = "federation_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    feed_url: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(8), default=Status.ACTIVE)
    public_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    health: Mapped[str] = mapped_column(String(8), default=Health.NEW)
    reason: Mapped[str] = mapped_column(Text, default="")
    group_name: Mapped[str] = mapped_column(String(200), default="")
    group_info: Mapped[str] = mapped_column(Text, default="{}")
    etag: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(100), nullable=True)
    body_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    next_fetch_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow)
    last_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True),
                                                           nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True),
                                                             nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True),
                                                         nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_federation_feed_due", "status", "next_fetch_at"),)

    @property
    def group(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.group_info or "{}")
        return value


class FeedItem(db.Model):
    __tablename__ = "federation_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("federation_feed.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(8))
    revision: Mapped[int] = mapped_column(Integer)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(300), default="")
    content_text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[str] = mapped_column(Text, default="{}")
    # Title, text and book fields in lower case without accents (search.normalise_text):
    # what the cross-group search matches (federation/crosssearch.py).
    search_text: Mapped[str] = mapped_column(Text, default="")
    date_published: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True),
                                                            nullable=True)
    date_modified: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True),
                                                           nullable=True)
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True),
                                                      nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True),
                                                        nullable=True)
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow)
    # Events (the agenda, federation/agenda.py): when it ends in UTC (all-day: the
    # midnight after its last day in its own zone; without an end: its start) and its
    # kind as the feed names it ("market").
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), nullable=True)
    kind: Mapped[str | None] = mapped_column(String(40), nullable=True)

    __table_args__ = (
        UniqueConstraint("feed_id", "item_id", name="uq_federation_item_feed_item"),
        Index("ix_federation_item_type_start", "type", "start_at"),
        # The agenda's page and calendar walk events in their order (start, id: no sort,
        # on PostgreSQL too) and read the end from the index (SQLite: its count too); its
        # kinds and kind filter read the second (federation/agenda.py; migration
        # 0023_agenda_index, the plans in docs/performance.md).
        Index("ix_federation_item_agenda_order", "type", "deleted", "start_at", "id",
              "end_at"),
        Index("ix_federation_item_kind", "type", "kind", "end_at"),
    )

    @property
    def details(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.data or "{}")
        return value


class FetchLog(db.Model):
    __tablename__ = "federation_fetch"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("federation_feed.id", ondelete="CASCADE"),
                                         index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(24))
    message: Mapped[str] = mapped_column(Text, default="")
    # [[item id, reason], ...] of the items dropped by this fetch
    dropped: Mapped[str] = mapped_column(Text, default="[]")

    @property
    def dropped_items(self) -> list[tuple[str, str]]:
        return [(str(a), str(b)) for a, b in json.loads(self.dropped or "[]")]


class Decision(db.Model):
    """A change held for an admin: accept or refuse (then the row goes)."""

    __tablename__ = "federation_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("federation_feed.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[str] = mapped_column(String(12))
    # moved: the new URL; mass_delete: a JSON list of the item ids that vanished
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow)
    refused: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("feed_id", "kind", name="uq_federation_decision_kind"),)

    @property
    def item_ids(self) -> list[str]:
        return [str(x) for x in json.loads(self.detail)] if \
            self.kind == DecisionKind.MASS_DELETE else []


class ScriptSource(db.Model):
    """Where a followed group publishes the contact scripts it shares (the feed's
    ``_lets.group.contact_scripts``) and the validators of its last good copy."""

    __tablename__ = "federation_script_source"

    feed_id: Mapped[int] = mapped_column(ForeignKey("federation_feed.id", ondelete="CASCADE"),
                                         primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    etag: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(100), nullable=True)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True),
                                                        nullable=True)


class SharedScript(db.Model):
    """A contact script a followed group shares, as its document has it (placeholders
    unfilled). Keyed by (feed, language, title in lower case), as a group's own titles are;
    the id stays while the script does, so a link to import it keeps working."""

    __tablename__ = "federation_script"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("federation_feed.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(120))
    title_key: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("feed_id", "language", "title_key", name="uq_federation_script_key"),
    )
