"""Booking. :func:`_book` is the ONE function that writes transfer rows and balances; every
way of moving units (payment, confirmed request, admin booking, mass transfer, correction)
goes through it, inside the caller's transaction.

Concurrency: on SQLite every POST request (and :func:`write_transaction`) begins with
``BEGIN IMMEDIATE``, so writers are serialised before they read a balance. On PostgreSQL
:func:`_book` locks both account rows with ``SELECT ... FOR UPDATE`` in id order (no
deadlock between two opposite payments), then re-reads the balances and checks the
idempotency key under that lock.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from lets_site import codes, signals
from lets_site.audit import services as audit
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger.models import Account, LedgerSettings, Transfer, TransferKind
from lets_site.ledger.services.accounts import (
    _open_or_refuse,
    _resolve,
    can_act_for,
    can_view,
    find_account,
    limits_of,
)
from lets_site.ledger.services.amounts import format_units, parse_amount
from lets_site.ledger.services.settings import get_settings
from lets_site.members.models import Member

# Keys from forms; keys the ledger makes itself contain ":" so no form can take them.
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class LimitExceeded(DomainError):
    """A transfer would take an account past its limit."""


def new_key() -> str:
    """An idempotency key for a form (a random hidden field)."""
    return secrets.token_urlsafe(18)


def _new_uid() -> str:
    return secrets.token_hex(8)


def is_form_key(key: str | None) -> bool:
    """Whether ``key`` looks like a key :func:`new_key` made (a link may carry one)."""
    return bool(key) and bool(_KEY_RE.match(key or ""))


def _clean_key(key: str | None) -> str | None:
    if key is None or key == "":
        return None
    if not _KEY_RE.match(key):
        raise DomainError(_l("This form is damaged. Reload the page and try again."))
    return key


def _lock(accounts: list[Account]) -> None:
    """Row locks on PostgreSQL, in id order; fresh balances everywhere."""
    ids = sorted({a.id for a in accounts})
    # No eager joins here: PostgreSQL refuses FOR UPDATE next to an outer join.
    stmt = (select(Account).options(lazyload(Account.member), lazyload(Account.organisation))
            .where(Account.id.in_(ids)).order_by(Account.id))
    if db.session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(of=Account)
    db.session.scalars(stmt.execution_options(populate_existing=True)).all()


def _existing(key: str | None) -> Transfer | None:
    if key is None:
        return None
    return db.session.scalar(select(Transfer).where(Transfer.idempotency_key == key))


@dataclass
class Booked:
    transfer: Transfer
    replayed: bool = False


def _limit_refusal(payer: Account, payee: Account, amount: int, settings: LedgerSettings,
                   viewer_sees_payee: bool) -> LimitExceeded | None:
    """Why moving ``amount`` from ``payer`` to ``payee`` breaks a limit, or None. The
    payee's balance is named only to who may see it."""
    payer_min, _payer_max = limits_of(payer, settings)
    _payee_min, payee_max = limits_of(payee, settings)
    after_payer = payer.balance - amount
    after_payee = payee.balance + amount
    d = settings.decimals
    if payer_min is not None and after_payer < payer_min:
        room = max(0, payer.balance - payer_min)
        return LimitExceeded(
            _l("Refused: this would take the balance of %(code)s below its minimum of "
               "%(min)s. The balance is %(balance)s, so at most %(room)s can be paid.",
               code=payer.code, min=format_units(payer_min, d),
               balance=format_units(payer.balance, d), room=format_units(room, d)),
            field="amount",
        )
    if payee_max is None or after_payee <= payee_max:
        return None
    if viewer_sees_payee:
        return LimitExceeded(
            _l("Refused: this would take the balance of %(code)s above its maximum of "
               "%(max)s. The balance is %(balance)s, so at most %(room)s can be received.",
               code=payee.code, max=format_units(payee_max, d),
               balance=format_units(payee.balance, d),
               room=format_units(max(0, payee_max - payee.balance), d)),
            field="amount",
        )
    return LimitExceeded(
        _l("Refused: this would take the balance of %(code)s above its maximum of "
           "%(max)s. Ask them for a smaller amount or try again later.",
           code=payee.code, max=format_units(payee_max, d)),
        field="amount",
    )


def _book(
    actor: Member | None,
    payer: Account,
    payee: Account,
    amount: int,
    description: str,
    *,
    kind: str,
    key: str | None = None,
    listing_id: int | None = None,
    allow_over_limit: bool = False,
    reverses: Transfer | None = None,
    reason: str = "",
    batch: str | None = None,
    viewer_sees_payee: bool = False,
    at: datetime | None = None,
) -> Booked:
    """Book one transfer. ``at`` back-dates it (demo data and imports only)."""
    if payer.id is None or payee.id is None:
        raise AssertionError("accounts must be stored before booking")
    if payer.id == payee.id:
        raise DomainError(_l("You cannot pay your own account."), field="payee")
    if amount <= 0:
        raise DomainError(_l("The amount must be more than zero."), field="amount")
    _lock([payer, payee])
    previous = _existing(key)
    if previous is not None:
        # A replay is the same booking sent again, not another one reusing its key.
        if (
            previous.payer_id != payer.id
            or previous.payee_id != payee.id
            or previous.amount != amount
            or previous.kind != kind
            or (actor and previous.created_by_id != actor.id)
        ):
            raise DomainError(_l("This form is damaged. Reload the page and try again."))
        return Booked(previous, replayed=True)
    settings = get_settings()
    payer_min, _payer_max = limits_of(payer, settings)
    _payee_min, payee_max = limits_of(payee, settings)
    after_payer = payer.balance - amount
    after_payee = payee.balance + amount
    refusal = _limit_refusal(payer, payee, amount, settings, viewer_sees_payee)
    broken = refusal is not None
    if refusal is not None and not allow_over_limit:
        raise refusal
    transfer = Transfer(
        uid=_new_uid(), payer_id=payer.id, payee_id=payee.id, amount=amount,
        description=description.strip()[:200], kind=kind, listing_id=listing_id,
        idempotency_key=key, created_by_id=actor.id if actor else None,
        created_at=at or utcnow(),
        payer_balance_after=after_payer, payee_balance_after=after_payee,
        payer_min=payer_min, payee_max=payee_max, over_limit=bool(broken),
        reverses_id=reverses.id if reverses else None, reason=reason.strip(), batch=batch,
    )
    payer.balance = after_payer
    payee.balance = after_payee
    db.session.add(transfer)
    db.session.flush()
    signals.transfer_booked.send(transfer, actor=actor)
    return Booked(transfer)


def _listing(listing_id: int | str | None) -> int | None:
    if listing_id in (None, ""):
        return None
    try:
        value = int(listing_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if 0 < value < 2**31 else None


def _description(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(_l("Say what the payment is for."), field="description")
    if len(text) > 200:
        raise DomainError(_l("At most 200 characters."), field="description")
    return text


def pay(
    actor: Member,
    from_code: str,
    to_code: str,
    amount: int | str,
    description: str,
    key: str | None,
    listing_id: int | str | None = None,
) -> Booked:
    """The payer (or an intermediary for an organisation) pays the payee."""
    if isinstance(amount, str):
        amount = parse_amount(amount)
    description = _description(description)
    key = _clean_key(key)
    payer = find_account(from_code) if from_code else None
    if payer is None or not can_act_for(actor, payer):
        raise PermissionDenied(_l("You cannot pay from account %(code)s.",
                                  code=codes.normalise(from_code or "")))
    payer, payee = _resolve((from_code, "from_account"), (to_code, "payee"))
    if payee.id == payer.id:
        raise DomainError(_l("You cannot pay your own account."), field="payee")
    previous = _existing(key)
    if previous is None:
        _open_or_refuse(payer, "from_account")
        _open_or_refuse(payee, "payee")
    return _book(actor, payer, payee, amount, description, kind=TransferKind.PAYMENT, key=key,
                 listing_id=_listing(listing_id), viewer_sees_payee=can_view(actor, payee))


@dataclass(frozen=True)
class Preview:
    """What a payment will do, shown before it is booked: who pays whom, how much, and the
    payer's balance after it (the payer is an account the viewer acts for)."""

    payer: Account
    payee: Account
    amount: int
    description: str
    listing_id: int | None
    balance_after: int
    minimum: int | None

    @property
    def at_minimum(self) -> bool:
        """The payment uses the last of the payer's credit: nothing more can be paid."""
        return self.minimum is not None and self.balance_after == self.minimum


def _preview(actor: Member, payer: Account, payee: Account, amount: int, description: str,
             listing_id: int | None) -> Preview:
    """The limit check of :func:`_book`, without booking: a payment past a limit is
    refused here already, with the same message."""
    settings = get_settings()
    refusal = _limit_refusal(payer, payee, amount, settings, can_view(actor, payee))
    if refusal is not None:
        raise refusal
    return Preview(payer=payer, payee=payee, amount=amount, description=description,
                   listing_id=listing_id, balance_after=payer.balance - amount,
                   minimum=limits_of(payer, settings)[0])


def preview_payment(
    actor: Member,
    from_code: str,
    to_code: str,
    amount: int | str,
    description: str,
    key: str | None,
    listing_id: int | str | None = None,
) -> Preview:
    """Everything :func:`pay` checks, without writing anything: the summary a member
    confirms. ``pay`` checks it all again when the confirmation comes."""
    if isinstance(amount, str):
        amount = parse_amount(amount)
    description = _description(description)
    _clean_key(key)
    payer = find_account(from_code) if from_code else None
    if payer is None or not can_act_for(actor, payer):
        raise PermissionDenied(_l("You cannot pay from account %(code)s.",
                                  code=codes.normalise(from_code or "")))
    try:
        payee = find_account(to_code)
    except NotFound as exc:
        raise DomainError(exc.message, field="payee") from exc
    if payee.code == payer.code:
        raise DomainError(_l("You cannot pay your own account."), field="payee")
    _open_or_refuse(payer, "from_account")
    _open_or_refuse(payee, "payee")
    return _preview(actor, payer, payee, amount, description, _listing(listing_id))


def admin_book(
    actor: Member,
    payer_code: str,
    payee_code: str,
    amount: int | str,
    description: str,
    key: str | None,
    allow_over_limit: bool = False,
) -> Booked:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins book between other accounts."))
    if isinstance(amount, str):
        amount = parse_amount(amount)
    description = _description(description)
    key = _clean_key(key)
    payer, payee = _resolve((payer_code, "payer"), (payee_code, "payee"))
    if payee.id == payer.id:
        raise DomainError(_l("Payer and payee are the same account."), field="payee")
    if _existing(key) is None:
        _open_or_refuse(payer, "payer")
        _open_or_refuse(payee, "payee")
    booked = _book(actor, payer, payee, amount, description, kind=TransferKind.ADMIN, key=key,
                   allow_over_limit=allow_over_limit, viewer_sees_payee=True)
    if not booked.replayed:
        t = booked.transfer
        audit.record(actor, "ledger.admin_booking", target_type="ledger_transfer",
                     target_id=t.uid, target_label=f"{payer.code} → {payee.code}",
                     details={"amount": t.amount, "description": t.description,
                              "over_limit": t.over_limit,
                              "override_ticked": bool(allow_over_limit)})
    return booked


def get_transfer(viewer: Member, uid: str) -> Transfer:
    transfer = db.session.scalar(select(Transfer).where(Transfer.uid == uid))
    if transfer is None:
        raise NotFound(_l("No such transfer."))
    if not (viewer.is_admin or can_act_for(viewer, transfer.payer)
            or can_act_for(viewer, transfer.payee)):
        raise PermissionDenied(_l("Only the two parties and the admins see this transfer."))
    return transfer


def reversal_of(transfer: Transfer) -> Transfer | None:
    return db.session.scalar(select(Transfer).where(Transfer.reverses_id == transfer.id))


def reverse(actor: Member, uid: str, reason: str, key: str | None) -> Booked:
    """A correction: an admin books the same amount back, with a reason, linked to the
    original. The original stays as it was."""
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins correct transfers."))
    key = _clean_key(key)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise DomainError(_l("Give the reason for the correction."), field="reason")
    original = get_transfer(actor, uid)
    previous = _existing(key)
    if previous is not None:
        return Booked(previous, replayed=True)
    if original.kind == TransferKind.CORRECTION:
        raise DomainError(_l("A correction is not reversed; book a new transfer instead."))
    if reversal_of(original) is not None:
        raise DomainError(_l("This transfer has already been reversed."))
    booked = _book(
        actor, original.payee, original.payer, original.amount,
        str(_l("Correction of %(uid)s", uid=original.uid)), kind=TransferKind.CORRECTION,
        key=key, allow_over_limit=True, reverses=original, reason=reason,
    )
    audit.record(actor, "ledger.correction", target_type="ledger_transfer", target_id=original.uid,
                 target_label=f"{original.payer.code} → {original.payee.code}",
                 details={"correction": booked.transfer.uid, "amount": original.amount,
                          "reason": reason, "over_limit": booked.transfer.over_limit})
    return booked
