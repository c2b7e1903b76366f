"""Mass transfers: a contribution from every active account to the group account, or a
start credit from the group account to every member not credited yet; previewed, then
booked all or nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lets_site.audit import services as audit
from lets_site.domain import DomainError, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger.models import Account, AccountKind, MassBatch, Transfer, TransferKind
from lets_site.ledger.services.accounts import _stored_account, group_account, limits_of
from lets_site.ledger.services.amounts import parse_amount
from lets_site.ledger.services.booking import _book, _clean_key, _description, _new_uid
from lets_site.members.models import Member, Status
from lets_site.organisations.models import Organisation

MASS_CONTRIBUTION = "contribution"
MASS_START_CREDIT = "start_credit"


@dataclass
class MassLine:
    payer: Account
    payee: Account
    amount: int
    payer_after: int
    payee_after: int
    over_limit: bool


@dataclass
class MassPlan:
    kind: str
    amount: int
    description: str
    group: Account
    lines: list[MassLine]
    fingerprint: str

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def over_limit_count(self) -> int:
        return sum(1 for line in self.lines if line.over_limit)


def _active_holder_accounts() -> list[Account]:
    """Stored accounts for every active member and organisation (created if missing).
    Every active holder has a code: approving a member or adding an organisation gives it
    one, and a member other than a candidate cannot be without one."""
    result: list[Account] = []
    members = db.session.scalars(select(Member).where(Member.status == Status.ACTIVE)).all()
    orgs = db.session.scalars(select(Organisation).where(Organisation.status == "active")).all()
    # One code order for members and organisations together (see _resolve).
    for code in sorted(holder.account_code for holder in [*members, *orgs]):
        result.append(_stored_account(code))
    return result


def _refuse(actor: Member, kind: str) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins book mass transfers."))
    if kind not in (MASS_CONTRIBUTION, MASS_START_CREDIT):
        raise DomainError(_l("Choose the kind of mass transfer."), field="kind")


def plan_mass(actor: Member, kind: str, amount: int | str, description: str) -> MassPlan:
    """What a mass transfer would book. Creates missing accounts (call it in a POST)."""
    _refuse(actor, kind)
    if isinstance(amount, str):
        amount = parse_amount(amount)
    description = _description(description)
    group = group_account(create=True)
    assert group is not None
    holders = _active_holder_accounts()
    if kind == MASS_START_CREDIT:
        credited = set(db.session.scalars(
            select(Transfer.payee_id).where(Transfer.kind == TransferKind.START_CREDIT)
        ))
        holders = [a for a in holders if a.kind == AccountKind.MEMBER and a.id not in credited]
    lines = []
    group_balance = group.balance
    for account in holders:
        low, high = limits_of(account)
        if kind == MASS_CONTRIBUTION:
            after = account.balance - amount
            group_balance += amount
            lines.append(MassLine(account, group, amount, after, group_balance,
                                  low is not None and after < low))
        else:
            after = account.balance + amount
            group_balance -= amount
            lines.append(MassLine(group, account, amount, group_balance, after,
                                  high is not None and after > high))
    ids = ",".join(str(a.id) for a in holders)
    fingerprint = hashlib.sha256(f"{kind}|{amount}|{ids}".encode()).hexdigest()[:16]
    return MassPlan(kind, amount, description, group, lines, fingerprint)


@dataclass
class MassBooked:
    transfers: list[Transfer]
    replayed: bool = False


def _batch_transfers(batch: str) -> list[Transfer]:
    return list(db.session.scalars(select(Transfer).where(Transfer.batch == batch)
                                   .order_by(Transfer.id)))


def book_mass(
    actor: Member, kind: str, amount: int | str, description: str, fingerprint: str,
    key: str | None, allow_over_limit: bool = False,
) -> MassBooked:
    """Book the previewed mass transfer, all or nothing (the caller rolls back on error).

    One form key books once: its :class:`MassBatch` row is inserted first, under a UNIQUE
    key. A form sent again after it was booked meets the row; copies sent at the same
    time wait on the unique index for the first one's transaction (PostgreSQL) or on its
    write lock (SQLite) and then meet it too: either way they get the batch it booked,
    as a replay."""
    key = _clean_key(key)
    _refuse(actor, kind)
    batch = (key or _new_uid())[:32]
    # amount and lines are set once booked; the kind is checked above (16 characters).
    row = MassBatch(key=batch, kind=kind, amount=0, created_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # the same form, booked before or meanwhile
        # Its transaction has committed (the insert waited for it): its lines are visible.
        done = _batch_transfers(batch)
        if not done:
            raise
        return MassBooked(done, replayed=True)
    plan = plan_mass(actor, kind, amount, description)
    if plan.fingerprint != fingerprint:
        raise DomainError(_l("The list of accounts changed since the preview. Look at the new "
                             "preview and book again."))
    if not plan.lines:
        raise DomainError(_l("There is no account to book for."))
    booked = []
    transfer_kind = (TransferKind.CONTRIBUTION if kind == MASS_CONTRIBUTION
                     else TransferKind.START_CREDIT)
    for line in plan.lines:
        result = _book(actor, line.payer, line.payee, plan.amount, plan.description,
                       kind=transfer_kind, allow_over_limit=allow_over_limit, batch=batch,
                       viewer_sees_payee=True)
        booked.append(result.transfer)
    row.amount, row.lines = plan.amount, len(booked)
    db.session.flush()
    audit.record(actor, f"ledger.mass_{kind}", target_type="ledger_batch", target_id=batch,
                 target_label=plan.description,
                 details={"count": len(booked), "amount": plan.amount,
                          "over_limit": sum(1 for t in booked if t.over_limit),
                          "override_ticked": bool(allow_over_limit)})
    return MassBooked(booked)
