"""What the notifications feature does when a feature announces something (signals.py).

Receivers run inside the sender's transaction and never commit. They act only in an app
that lists this feature (signals are process-wide; tests make apps without it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from lets_site import features, signals
from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.ledger.models import Account, TransferKind
from lets_site.mail import external_url
from lets_site.members.models import Member
from lets_site.notifications import services

PAYMENT_RECEIVED = "ledger.payment_received"
REQUEST_WAITING = "ledger.request_waiting"
REQUEST_ANSWERED = "ledger.request_answered"
NEAR_LIMIT = "ledger.near_limit"
BOOK_ACCEPTED = "books.accepted"

# "Near the limit": within a tenth of the minimum (at least one unit) above it.
NEAR_LIMIT_SHARE = 10
# A transfer booked with a date further back than this (the demo's history, an import)
# is no news to anyone: it sends nothing.
BACKDATED = timedelta(days=1)


def _active() -> bool:
    try:
        return "notifications" in features.registry(current_app).names()
    except (KeyError, RuntimeError):
        return False


def _people(account: Account | None) -> list[Member]:
    """Who reads the mail of an account: its member, or an organisation's intermediaries."""
    if account is None:
        return []
    if account.member is not None:
        return [account.member]
    if account.organisation is not None:
        return [i.member for i in account.organisation.intermediaries if i.member is not None]
    return []


def near_limit_threshold(minimum: int) -> int:
    """The balance at or below which a payer is told they are near their minimum."""
    return minimum + max(1, -(-abs(minimum) // NEAR_LIMIT_SHARE))


def on_transfer(transfer: Any, actor: Any = None, **_: Any) -> None:
    if not _active() or transfer.created_at < utcnow() - BACKDATED:
        return
    url = external_url("ledger.transfer", uid=transfer.uid)
    # A correction is not a payment; a paid request is told by on_request_answered.
    if transfer.kind not in (TransferKind.CORRECTION, TransferKind.REQUEST):
        for person in _people(transfer.payee):
            if actor is not None and person.id == getattr(actor, "id", None):
                continue
            services.notify(person, PAYMENT_RECEIVED,
                            _l("Payment received from %(name)s", name=_holder(transfer.payer)),
                            "notifications/mail/payment_received.txt", transfer=transfer,
                            payer=_holder(transfer.payer), url=url)
    minimum = transfer.payer_min
    if minimum is None:
        return
    threshold = near_limit_threshold(minimum)
    after = transfer.payer_balance_after
    before = after + transfer.amount
    if before > threshold >= after:  # this booking crossed into the zone
        for person in _people(transfer.payer):
            services.notify(person, NEAR_LIMIT, _l("Your balance is near its minimum"),
                            "notifications/mail/near_limit.txt",
                            once=f"{transfer.payer_id}:{transfer.uid}", balance=after,
                            minimum=minimum, code=transfer.payer.code,
                            url=external_url("ledger.account", code=transfer.payer.code))


def _holder(account: Account | None) -> str:
    if account is None:
        return ""
    if account.member is not None:
        return f"{account.member.display_name} ({account.code})"
    if account.organisation is not None:
        return f"{account.organisation.name} ({account.code})"
    return account.code


def on_payment_requested(req: Any, actor: Any = None, **_: Any) -> None:
    if not _active():
        return
    for person in _people(req.payer):
        services.notify(person, REQUEST_WAITING,
                        _l("%(name)s asks you for a payment", name=_holder(req.payee)),
                        "notifications/mail/request_waiting.txt", req=req,
                        payee=_holder(req.payee),
                        confirm_url=external_url("ledger.confirm_request", uid=req.uid),
                        decline_url=external_url("ledger.decline_request", uid=req.uid))


def on_request_answered(req: Any, actor: Any = None, **_: Any) -> None:
    if not _active():
        return
    requester = db.session.get(Member, req.created_by_id) if req.created_by_id else None
    if requester is None:
        return
    paid = req.status == "paid"
    subject = (_l("Your payment request was paid by %(name)s", name=_holder(req.payer)) if paid
               else _l("Your payment request was declined by %(name)s",
                       name=_holder(req.payer)))
    # One mail for a paid request: as "answered", or, for whom switched that off but
    # wants to hear of payments received, as a payment received.
    kind = REQUEST_ANSWERED
    if paid and not services.is_on(requester, REQUEST_ANSWERED):
        kind = PAYMENT_RECEIVED
    services.notify(requester, kind, subject,
                    "notifications/mail/request_answered.txt", req=req, paid=paid,
                    payer=_holder(req.payer), url=external_url("ledger.requests"))


def on_book_accepted(req: Any, actor: Any = None, **_: Any) -> None:
    if not _active():
        return
    services.notify(req.requester, BOOK_ACCEPTED,
                    _l("Yes to your request for \"%(title)s\"", title=req.book.title),
                    "notifications/mail/book_accepted.txt", req=req, book=req.book,
                    reply_to=(actor.email or None) if actor is not None else None,
                    url=external_url("books.detail", book_id=req.book.id))


def on_email_changed(member: Any, **_: Any) -> None:
    if _active():
        services.forget_flag(member)


def on_undeliverable(app: Any, recipient: str = "", reason: str = "",
                     connection: Any = None, **_: Any) -> None:
    if connection is None or "notifications" not in features.registry(app).names():
        return
    services.flag_address(connection, recipient, reason)


def connect() -> None:
    """Listen (once per process: blinker keeps one connection per receiver)."""
    signals.transfer_booked.connect(on_transfer)
    signals.payment_requested.connect(on_payment_requested)
    signals.payment_request_answered.connect(on_request_answered)
    signals.book_accepted.connect(on_book_accepted)
    signals.member_email_changed.connect(on_email_changed)
    signals.mail_undeliverable.connect(on_undeliverable)
