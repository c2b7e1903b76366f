"""Payment requests: a member asks another for a payment; the payer confirms (booked
through :func:`~lets_site.ledger.services.booking._book`) or declines, the payee may
withdraw it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lets_site import codes, signals
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger.models import (
    Account,
    AccountKind,
    PaymentRequest,
    RequestStatus,
    TransferKind,
)
from lets_site.ledger.services.accounts import (
    _open_or_refuse,
    _resolve,
    accounts_for,
    can_act_for,
    can_view,
    find_account,
)
from lets_site.ledger.services.amounts import parse_amount
from lets_site.ledger.services.booking import (
    Booked,
    Preview,
    _book,
    _clean_key,
    _description,
    _listing,
    _new_uid,
    _preview,
)
from lets_site.members.models import Member


def request_payment(
    actor: Member,
    payee_code: str,
    payer_code: str,
    amount: int | str,
    description: str,
    key: str | None,
    listing_id: int | str | None = None,
) -> PaymentRequest:
    if isinstance(amount, str):
        amount = parse_amount(amount)
    description = _description(description)
    key = _clean_key(key)
    previous = _stored_with_key(key)
    if previous is not None:
        return previous
    payee = find_account(payee_code) if payee_code else None
    if payee is None or not can_act_for(actor, payee):
        raise PermissionDenied(_l("You cannot ask payment for account %(code)s.",
                                  code=codes.normalise(payee_code or "")))
    payee, payer = _resolve((payee_code, "to_account"), (payer_code, "payer"))
    if payer.id == payee.id:
        raise DomainError(_l("You cannot ask a payment from your own account."), field="payer")
    _open_or_refuse(payee, "to_account")
    _open_or_refuse(payer, "payer")
    if payer.kind == AccountKind.GROUP:
        raise DomainError(_l("Ask the admins for a payment from the group account."),
                          field="payer")
    req = PaymentRequest(uid=_new_uid(), payer_id=payer.id, payee_id=payee.id, amount=amount,
                         description=description, listing_id=_listing(listing_id),
                         idempotency_key=key, created_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(req)
    except IntegrityError:
        # The same form sent twice at once: on PostgreSQL the copy waits on the unique key
        # for the first one's transaction, then finds its request (SQLite's write lock
        # makes the copy a plain replay, answered above).
        previous = _stored_with_key(key)
        if previous is None:
            raise
        return previous
    signals.payment_requested.send(req, actor=actor)
    return req


def _stored_with_key(key: str | None) -> PaymentRequest | None:
    """The request a form with this key stored already (none without a key)."""
    if key is None:
        return None
    return db.session.scalar(select(PaymentRequest).where(PaymentRequest.idempotency_key == key))


def _request(uid: str) -> PaymentRequest:
    return _found(db.session.scalar(select(PaymentRequest).where(PaymentRequest.uid == uid)))


def _request_to_answer(uid: str) -> PaymentRequest:
    """The request, locked: on PostgreSQL a confirm and a decline of the same request take
    turns (SQLite's write transactions already do). Only this table's row: the joined
    accounts are not."""
    return _found(db.session.scalar(
        select(PaymentRequest).where(PaymentRequest.uid == uid)
        .with_for_update(of=PaymentRequest)
    ))


def _found(req: PaymentRequest | None) -> PaymentRequest:
    if req is None:
        raise NotFound(_l("No such payment request."))
    return req


def confirm_request(actor: Member, uid: str) -> Booked:
    req = _request_to_answer(uid)
    if not can_act_for(actor, req.payer):
        raise PermissionDenied(_l("This payment request is not addressed to you."))
    if req.status == RequestStatus.PAID:
        assert req.transfer is not None  # stored together with the PAID status
        return Booked(req.transfer, replayed=True)
    if req.status != RequestStatus.PENDING:
        raise DomainError(_l("This payment request is no longer pending."))
    _open_or_refuse(req.payer, "payer")
    _open_or_refuse(req.payee, "payee")
    booked = _book(actor, req.payer, req.payee, req.amount, req.description,
                   kind=TransferKind.REQUEST, key=f"request:{req.uid}",
                   listing_id=req.listing_id, viewer_sees_payee=can_view(actor, req.payee))
    req.status = RequestStatus.PAID
    req.transfer_id = booked.transfer.id
    req.decided_by_id, req.decided_at = actor.id, utcnow()
    db.session.flush()
    signals.payment_request_answered.send(req, actor=actor)
    return booked


def preview_request(actor: Member, uid: str) -> tuple[PaymentRequest, Preview]:
    """The request and what confirming it will do, for the page that asks "pay this?".
    A request that is no longer pending, or that would break a limit, is refused."""
    req = _request(uid)
    if not can_act_for(actor, req.payer):
        raise PermissionDenied(_l("This payment request is not addressed to you."))
    if req.status != RequestStatus.PENDING:
        raise DomainError(_l("This payment request is no longer pending."))
    _open_or_refuse(req.payer, "payer")
    _open_or_refuse(req.payee, "payee")
    return req, _preview(actor, req.payer, req.payee, req.amount, req.description,
                         req.listing_id)


def pending_request(actor: Member, uid: str) -> PaymentRequest:
    """A request addressed to the viewer, for the page that asks "decline this?"."""
    req = _request(uid)
    if not can_act_for(actor, req.payer):
        raise PermissionDenied(_l("This payment request is not addressed to you."))
    if req.status != RequestStatus.PENDING:
        raise DomainError(_l("This payment request is no longer pending."))
    return req


def decline_request(actor: Member, uid: str) -> PaymentRequest:
    req = _request_to_answer(uid)
    if not can_act_for(actor, req.payer):
        raise PermissionDenied(_l("This payment request is not addressed to you."))
    if req.status == RequestStatus.DECLINED:
        return req
    _close_request(actor, req, RequestStatus.DECLINED)
    signals.payment_request_answered.send(req, actor=actor)
    return req


def cancel_request(actor: Member, uid: str) -> PaymentRequest:
    req = _request_to_answer(uid)
    if not can_act_for(actor, req.payee):
        raise PermissionDenied(_l("Only who asked can withdraw this payment request."))
    return _close_request(actor, req, RequestStatus.CANCELLED)


def _close_request(actor: Member, req: PaymentRequest, status: str) -> PaymentRequest:
    if req.status == status:
        return req
    if req.status != RequestStatus.PENDING:
        raise DomainError(_l("This payment request is no longer pending."))
    req.status = status
    req.decided_by_id, req.decided_at = actor.id, utcnow()
    db.session.flush()
    return req


def _account_ids(member: Member) -> list[int]:
    return [a.id for a in accounts_for(member) if a.id is not None]


def pending_for(member: Member, accounts: list[Account] | None = None) -> list[PaymentRequest]:
    """Requests waiting for this member's answer (their own and their organisations'):
    ``accounts`` when the caller has read :func:`accounts_for` already."""
    ids = (_account_ids(member) if accounts is None
           else [a.id for a in accounts if a.id is not None])
    if not ids:
        return []
    return list(db.session.scalars(
        select(PaymentRequest)
        .where(PaymentRequest.payer_id.in_(ids), PaymentRequest.status == RequestStatus.PENDING)
        .order_by(PaymentRequest.created_at, PaymentRequest.id)
    ))


def asked_by(member: Member, limit: int = 20) -> list[PaymentRequest]:
    ids = _account_ids(member)
    if not ids:
        return []
    return list(db.session.scalars(
        select(PaymentRequest).where(PaymentRequest.payee_id.in_(ids))
        .order_by(PaymentRequest.created_at.desc(), PaymentRequest.id.desc()).limit(limit)
    ))
