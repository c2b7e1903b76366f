from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db


class SiteSettings(db.Model):
    """One row: the group's own settings, edited by admins."""

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_name: Mapped[str] = mapped_column(String(120), default="LETS")
    slug: Mapped[str] = mapped_column(String(40), default="lets")
    # Prefix of new account codes, e.g. "IE" gives IE-001.
    code_prefix: Mapped[str] = mapped_column(String(6), default="LE")
    locality: Mapped[str] = mapped_column(String(80), default="")
    region: Mapped[str] = mapped_column(String(80), default="")
    country: Mapped[str] = mapped_column(String(2), default="BE")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels")
    unit_name: Mapped[str] = mapped_column(String(40), default="uur")
    default_language: Mapped[str] = mapped_column(String(8), default="nl")
    about: Mapped[str] = mapped_column(Text, default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
