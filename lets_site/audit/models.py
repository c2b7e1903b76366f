from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db

if TYPE_CHECKING:  # the audit log knows members by their table: members import audit
    from lets_site.members.models import Member


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    # A dotted name, e.g. "member.approve", "ledger.correction".
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    # Kept as text so the entry still reads well if the target is renamed or removed.
    target_label: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[Member | None] = relationship("Member", lazy="joined")
