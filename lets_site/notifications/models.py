"""Preferences, the group's defaults, flagged addresses and the record that makes a
notification once-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db


class NotificationDefault(db.Model):
    """The group's default for one kind (an admin's choice); no row: the kind's own
    default."""

    __tablename__ = "notification_default"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)


class NotificationPreference(db.Model):
    """A member's own choice for one kind; it overrides the group's default."""

    __tablename__ = "notification_preference"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)


class NotificationSent(db.Model):
    """A notification that must go once only (a balance crossing, a loan's due date, a
    listing's expiry): the unique key makes a second one fail, also between two
    processes at once."""

    __tablename__ = "notification_sent"
    __table_args__ = (UniqueConstraint("kind", "once_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    once_key: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AddressFlag(db.Model):
    """A member's e-mail address a mail server refused for good: shown to admins until
    the address changes or an admin clears it."""

    __tablename__ = "notification_address_flag"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(Text, default="")
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
