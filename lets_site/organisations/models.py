from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db
from lets_site.members.models import Member


class Organisation(db.Model):
    """A member organisation: it has its own account and acts through intermediaries."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    account_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    intermediaries: Mapped[list[Intermediary]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", lazy="selectin"
    )

    def has_intermediary(self, member: Member | None) -> bool:
        if member is None or not getattr(member, "is_authenticated", False):
            return False
        return any(i.member_id == member.id for i in self.intermediaries)

    def can_act_for(self, member: Member | None) -> bool:
        """Intermediaries act for the organisation; admins may too."""
        if member is None or not getattr(member, "is_authenticated", False):
            return False
        return self.has_intermediary(member) or member.is_admin

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class Intermediary(db.Model):
    __tablename__ = "intermediary"
    __table_args__ = (UniqueConstraint("organisation_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="intermediaries")
    member: Mapped[Member] = relationship(lazy="joined")
