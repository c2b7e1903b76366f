"""Ledger tables. Amounts are integers in the group's smallest unit (cents when the group
counts in two decimals). Transfers are append-only: never updated, never deleted."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lets_site.database import UTCDateTime, utcnow
from lets_site.extensions import db
from lets_site.members.models import Member
from lets_site.organisations.models import Organisation


class AccountKind(enum.StrEnum):
    MEMBER = "member"
    ORGANISATION = "organisation"
    GROUP = "group"


class TransferKind(enum.StrEnum):
    PAYMENT = "payment"  # the payer's own form
    REQUEST = "request"  # a payment request the payer confirmed
    ADMIN = "admin"  # an admin booking between any two accounts
    CONTRIBUTION = "contribution"  # mass transfer to the group account
    START_CREDIT = "start_credit"  # mass transfer from the group account
    CORRECTION = "correction"  # reverses an earlier transfer


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class LedgerSettings(db.Model):
    """One row (id 1): how the group counts. Kept by the ledger, not the site settings."""

    __tablename__ = "ledger_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decimals: Mapped[int] = mapped_column(Integer, default=0)
    # In the smallest unit, like balances.
    default_min: Mapped[int] = mapped_column(BigInteger, default=-300)
    default_max: Mapped[int] = mapped_column(BigInteger, default=300)
    balances_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Account(db.Model):
    __tablename__ = "ledger_account"
    __table_args__ = (
        CheckConstraint("kind in ('member', 'organisation', 'group')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="RESTRICT"), unique=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), unique=True
    )
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    # None: the group's default applies. The group account has no limits.
    min_balance: Mapped[int | None] = mapped_column(BigInteger)
    max_balance: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Loaded with the account: statements show names without a query per line.
    member: Mapped[Member | None] = relationship(lazy="joined", viewonly=True)
    organisation: Mapped[Organisation | None] = relationship(lazy="joined", viewonly=True)

    def __repr__(self) -> str:
        return f"<Account {self.code} {self.balance}>"


class LimitChange(db.Model):
    """History of an account's own limits: who changed them, when, from what to what."""

    __tablename__ = "ledger_limit_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    old_min: Mapped[int | None] = mapped_column(BigInteger)
    old_max: Mapped[int | None] = mapped_column(BigInteger)
    new_min: Mapped[int | None] = mapped_column(BigInteger)
    new_max: Mapped[int | None] = mapped_column(BigInteger)

    actor: Mapped[Member | None] = relationship(lazy="joined")


class Transfer(db.Model):
    """One booking from payer to payee. Each row keeps both balances after it and the
    limits it was checked against, so statements need no running sum and
    ``lets-site ledger check`` can verify every row."""

    __tablename__ = "ledger_transfer"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("payer_id <> payee_id", name="not_self"),
        Index("ix_ledger_transfer_payer_id_id", "payer_id", "id"),
        Index("ix_ledger_transfer_payee_id_id", "payee_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    payee_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16), default=TransferKind.PAYMENT, index=True)
    # The offers feature is built on another branch: a plain column, no foreign key yet.
    listing_id: Mapped[int | None] = mapped_column(Integer, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    payer_balance_after: Mapped[int] = mapped_column(BigInteger)
    payee_balance_after: Mapped[int] = mapped_column(BigInteger)
    # The limits in force when it was booked (None: no limit, the group account).
    payer_min: Mapped[int | None] = mapped_column(BigInteger)
    payee_max: Mapped[int | None] = mapped_column(BigInteger)
    # An admin chose to go past a limit (audited).
    over_limit: Mapped[bool] = mapped_column(Boolean, default=False)
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transfer.id"), unique=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    batch: Mapped[str | None] = mapped_column(String(32), index=True)
    # Brought over from the group's old system when it moved in (lets_site/moving): kept
    # with its date and description, shown as "imported" on statements.
    imported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    payer: Mapped[Account] = relationship(foreign_keys=[payer_id], lazy="joined")
    payee: Mapped[Account] = relationship(foreign_keys=[payee_id], lazy="joined")
    created_by: Mapped[Member | None] = relationship(lazy="select")
    reverses: Mapped[Transfer | None] = relationship(
        remote_side=[id], foreign_keys=[reverses_id], lazy="select"
    )


class MassBatch(db.Model):
    """One mass transfer, keyed by its form's idempotency key. The UNIQUE key is what
    makes a form POSTed several times at once book once: the second insert waits for the
    first transaction and then fails, on PostgreSQL as on SQLite. Its transfers carry the
    same key in :attr:`Transfer.batch`."""

    __tablename__ = "ledger_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    # How many transfers it booked (``lets-site ledger check`` counts them again).
    lines: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentRequest(db.Model):
    """The payee asks; the payer confirms (which books a transfer) or declines."""

    __tablename__ = "ledger_request"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_ledger_request_payer_status", "payer_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    payee_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(200), default="")
    listing_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.PENDING)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transfer.id"))

    payer: Mapped[Account] = relationship(foreign_keys=[payer_id], lazy="joined")
    payee: Mapped[Account] = relationship(foreign_keys=[payee_id], lazy="joined")
    transfer: Mapped[Transfer | None] = relationship(lazy="select")
