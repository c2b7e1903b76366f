"""What the feed remembers about each public item: its urn:uuid, its revision, a hash of
what was last published, and a tombstone once it left the public set.

One row per contract item id (``Item.id``, e.g. ``urn:lets-site:partner:3``). ``item_key``
and ``uuid`` are UNIQUE: two requests that refresh the table at the same moment insert with
"on conflict do nothing" and then both read the one row that won (services.refresh).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db


class FeedEntry(db.Model):
    __tablename__ = "feed_entry"
    __table_args__ = (Index("ix_feed_entry_deleted_at", "deleted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The contract's Item.id: stable across renames, never shown in the feed.
    item_key: Mapped[str] = mapped_column(String(200), unique=True)
    # The feed's id is urn:uuid:<uuid>: made once, never derived from a title.
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    # The item's type when it was last published (a tombstone's former_type).
    kind: Mapped[str] = mapped_column(String(32))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # sha256 of the item's published JSON without id, revision and date_modified.
    content_hash: Mapped[str] = mapped_column(String(64))
    # When the published content last changed (the item's date_modified).
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the item left the public set; the row is purged tombstone_days later.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def urn(self) -> str:
        return f"urn:uuid:{self.uuid}"

    def __repr__(self) -> str:
        return f"<FeedEntry {self.item_key} r{self.revision}>"
