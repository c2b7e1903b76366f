from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, or_, true
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db

if TYPE_CHECKING:
    from collections.abc import Iterable


class Status(enum.StrEnum):
    CANDIDATE = "candidate"
    ACTIVE = "active"
    LEAVING = "leaving"
    INACTIVE = "inactive"


class Visibility(enum.StrEnum):
    HIDDEN = "hidden"
    MEMBERS = "members"
    PUBLIC = "public"


class Role(enum.StrEnum):
    ADMIN = "admin"
    MEMBER = "member"
    # Creates events (lets_site/events); admins may too.
    ORGANISER = "organiser"


CONTACT_FIELDS = ("email", "phone", "address")


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class MemberRole(db.Model):
    __tablename__ = "member_role"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class Member(UserMixin, db.Model):
    __tablename__ = "member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    full_name: Mapped[str] = mapped_column(String(160))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(12), default="", index=True)
    languages: Mapped[str] = mapped_column(String(80), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=Status.CANDIDATE, index=True)
    joined_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Changes at every login-relevant event (password set, logout everywhere); Flask-Login
    # keeps this token, not the id, so old sessions and links stop working.
    session_token: Mapped[str] = mapped_column(
        String(64), unique=True, default=new_session_token
    )
    email_visibility: Mapped[str] = mapped_column(String(8), default=Visibility.MEMBERS)
    phone_visibility: Mapped[str] = mapped_column(String(8), default=Visibility.MEMBERS)
    address_visibility: Mapped[str] = mapped_column(String(8), default=Visibility.MEMBERS)
    # Opt-in: visitors who are not logged in may see this member's name and public details.
    profile_public: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(8))
    close_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set for members who have no e-mail or internet: an admin manages the account.
    managed_by_admin: Mapped[bool] = mapped_column(Boolean, default=False)

    # Read when asked for: most pages load other members (owners, payees, hosts) only for
    # their names, and the logged-in member's roles come with the member in one query
    # (services.load_for_session).
    role_rows: Mapped[list[MemberRole]] = relationship(
        cascade="all, delete-orphan", lazy="select"
    )

    # Flask-Login -------------------------------------------------------------
    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.status in (Status.ACTIVE, Status.LEAVING) and self.password_hash is not None

    # Roles -------------------------------------------------------------------
    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN) and self.status in (Status.ACTIVE, Status.LEAVING)

    def set_roles(self, roles: Iterable[str]) -> None:
        wanted = set(roles)
        self.role_rows = [r for r in self.role_rows if r.role in wanted]
        have = self.roles
        for role in sorted(wanted - have):
            self.role_rows.append(MemberRole(role=role))

    @property
    def greeting_name(self) -> str:
        """How a mail to this member greets them: their full name, not the short name
        the lists show ("Dag Jean-Pierre Lefebvre," rather than "Dag Jean-Pierre L.,")."""
        return self.full_name or self.display_name

    # Questions asked by services and templates alike -------------------------
    def can_view_profile(self, viewer: Member | None) -> bool:
        if viewer is not None and viewer.is_authenticated and viewer.is_active:
            return True
        return self.profile_public and self.status in (Status.ACTIVE, Status.LEAVING)

    def can_edit(self, actor: Member | None) -> bool:
        if actor is None or not actor.is_authenticated:
            return False
        return actor.id == self.id or actor.is_admin

    def visible_contact(self, field: str, viewer: Member | None) -> str:
        """The value of a contact field as ``viewer`` may see it ('' when hidden)."""
        if field not in CONTACT_FIELDS:
            raise ValueError(field)
        if field == "email":
            value = self.email or ""
        elif field == "address":
            value = ", ".join(p for p in (self.address, self.postcode) if p)
        else:
            value = self.phone
        if not value:
            return ""
        return value if self.may_see(field, viewer) else ""

    def may_see(self, field: str, viewer: Member | None) -> bool:
        """May ``viewer`` see this contact field (by its visibility setting)?"""
        if field not in CONTACT_FIELDS:
            raise ValueError(field)
        if viewer is not None and viewer.is_authenticated and (
            viewer.id == self.id or viewer.is_admin
        ):
            return True
        visibility = getattr(self, f"{field}_visibility")
        if visibility == Visibility.PUBLIC:
            return True
        return bool(visibility == Visibility.MEMBERS and viewer is not None
                    and viewer.is_authenticated)

    def visible_postcode(self, viewer: Member | None) -> str:
        """The postcode as ``viewer`` may see it ('' when hidden). It is part of the address
        (the profile form puts it under "Who sees my address"), so it follows the address's
        visibility."""
        return self.postcode if self.postcode and self.may_see("address", viewer) else ""

    @staticmethod
    def address_visible_clause(member: Any, viewer: Member | None) -> ColumnElement[bool]:
        """SQL for :meth:`may_see` ("address"), on ``member`` (the class or an alias): the
        rows whose address, postcode included, ``viewer`` may see. Searches that match a
        postcode use it, so a hidden postcode cannot be found by guessing."""
        authenticated = viewer is not None and bool(viewer.is_authenticated)
        if authenticated and viewer is not None and viewer.is_admin:
            return true()
        levels = [Visibility.PUBLIC.value]
        if not authenticated:
            return member.address_visibility.in_(levels)
        assert viewer is not None
        levels.append(Visibility.MEMBERS.value)
        return or_(member.address_visibility.in_(levels), member.id == viewer.id)

    def __repr__(self) -> str:
        return f"<Member {self.account_code or self.id} {self.display_name!r}>"


class LoginAttempt(db.Model):
    """Failed logins and reset requests, for throttling per account and per address."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "login" or "reset"
    account_key: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

