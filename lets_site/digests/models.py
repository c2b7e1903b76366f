"""The digest's tables: the group's default frequency, each member's choice, and one row
per digest sent (member, period), unique, so no member gets one period's digest twice."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db


class Frequency(enum.StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    NEVER = "never"


SETTINGS_ID = 1


class DigestSettings(db.Model):
    """One row: the group's default frequency (members who chose none follow it)."""

    __tablename__ = "digest_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    default_frequency: Mapped[str] = mapped_column(String(8), default=Frequency.WEEKLY)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DigestPreference(db.Model):
    """A member's digest: their frequency (None: the group's default), the version of
    their signed links (adding one revokes every link sent so far) and when their last
    digest was made (the next one carries what is newer)."""

    __tablename__ = "digest_preference"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    frequency: Mapped[str | None] = mapped_column(String(8))
    link_version: Mapped[int] = mapped_column(Integer, default=0)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DigestSent(db.Model):
    """A digest made for a member in a period ("2026-W49", "2026-12"). Written in the
    same transaction as its outbox row: after a crash, a rerun skips who has one."""

    __tablename__ = "digest_sent"
    __table_args__ = (UniqueConstraint("member_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True
    )
    period: Mapped[str] = mapped_column(String(16))
    items: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
