"""Who wants which mail, the once-only record, flagged addresses, undeliverable mail.

Services flush and never commit (the view or the command does, once)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from lets_site import features
from lets_site.audit import services as audit
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.mail import MailStatus, OutboxMail, wake_after_commit
from lets_site.members.mailing import mail_to
from lets_site.members.models import Member, Status
from lets_site.notifications.models import (
    AddressFlag,
    NotificationDefault,
    NotificationPreference,
    NotificationSent,
)

UNDELIVERABLE_PAGE = 100


# --- Kinds and preferences ------------------------------------------------------------------


def kinds() -> list[features.NotificationKind]:
    return features.notification_kinds()


def _kind(key: str) -> features.NotificationKind | None:
    return next((k for k in kinds() if k.key == key), None)


def receives(member: Member, kind: features.NotificationKind) -> bool:
    """Whether ``member`` is in the kind's audience (admins' kinds only for admins)."""
    if kind.audience == features.ADMINS and not member.is_admin:
        return False
    return kind.receives is None or bool(kind.receives(member))


def kinds_for(member: Member) -> list[features.NotificationKind]:
    return [kind for kind in kinds() if receives(member, kind)]


def group_defaults() -> dict[str, bool]:
    """Each kind's default for the group: the admins' choice, else the kind's own."""
    chosen = dict(db.session.execute(
        select(NotificationDefault.kind, NotificationDefault.enabled)).all())
    return {kind.key: bool(chosen.get(kind.key, kind.default)) for kind in kinds()}


def preferences(member: Member) -> dict[str, bool]:
    """What the member receives, per kind they can receive: their choice, else the
    group's default."""
    own = dict(db.session.execute(
        select(NotificationPreference.kind, NotificationPreference.enabled)
        .where(NotificationPreference.member_id == member.id)).all())
    defaults = group_defaults()
    return {kind.key: bool(own.get(kind.key, defaults[kind.key])) for kind in kinds_for(member)}


def is_on(member: Member, key: str) -> bool:
    """The switch every notification asks (features.notification_on): an unknown kind is
    always sent (a feature that did not declare it cannot be switched off)."""
    kind = _kind(key)
    if kind is None:
        return True
    if member.id is not None:
        own = db.session.scalar(select(NotificationPreference.enabled).where(
            NotificationPreference.member_id == member.id, NotificationPreference.kind == key))
        if own is not None:
            return bool(own)
    chosen = db.session.scalar(
        select(NotificationDefault.enabled).where(NotificationDefault.kind == key))
    return bool(kind.default if chosen is None else chosen)


def save_preferences(actor: Member, member: Member, enabled: Iterable[str]) -> dict[str, bool]:
    """Store the member's choice for every kind they can receive (checked: on)."""
    if actor.id != member.id:
        raise PermissionDenied(_l("You can only choose your own notifications."))
    on = set(enabled)
    keys = [kind.key for kind in kinds_for(member)]
    db.session.execute(delete(NotificationPreference).where(
        NotificationPreference.member_id == member.id))
    for key in keys:
        db.session.add(NotificationPreference(member_id=member.id, kind=key, enabled=key in on))
    db.session.flush()
    return {key: key in on for key in keys}


def save_defaults(actor: Member, enabled: Iterable[str]) -> dict[str, bool]:
    """The group's defaults (admins): what members receive until they choose."""
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins set the group's defaults."))
    on = set(enabled)
    db.session.execute(delete(NotificationDefault))
    for kind in kinds():
        db.session.add(NotificationDefault(kind=kind.key, enabled=kind.key in on))
    db.session.flush()
    chosen = {kind.key: kind.key in on for kind in kinds()}
    audit.record(actor, "notifications.defaults",
                 details={"off": sorted(k for k, v in chosen.items() if not v)})
    return chosen


# --- Sending --------------------------------------------------------------------------------


def claim_once(kind: str, once: str, member: Member | None = None) -> bool:
    """Record that ``(kind, once)`` is being sent; False when it was already (the unique
    key decides, also against another process at the same time)."""
    try:
        with db.session.begin_nested():
            db.session.add(NotificationSent(kind=kind, once_key=once[:128],
                                            member_id=member.id if member else None,
                                            created_at=utcnow()))
    except IntegrityError:
        return False
    return True


def notify(member: Member | None, kind: str, subject: Any, template: str, /, *,
           once: str | None = None, reply_to: str | None = None, **context: Any) -> bool:
    """Queue a notification of ``kind`` to ``member`` in their language, unless they
    switched it off, have no address, or (with ``once``) it went already. True when
    queued."""
    if member is None or not member.email or member.status not in (Status.ACTIVE, Status.LEAVING):
        return False
    if not is_on(member, kind):
        return False
    if once is not None and not claim_once(kind, once, member):
        return False
    return mail_to(member, subject, template, reply_to=reply_to, recipient=member,
                   **context)


def send_due(now: Any = None) -> int:
    """The reminders whose time has come (each kind's ``due``), each sent once."""
    now = now or utcnow()
    queued = 0
    for kind in kinds():
        if kind.due is None:
            continue
        for notice in kind.due(now):
            if notify(notice.recipient, kind.key, notice.subject, notice.template,
                      once=notice.once, reply_to=notice.reply_to, **dict(notice.context)):
                queued += 1
    db.session.flush()
    return queued


# --- Addresses a server refused -------------------------------------------------------------


def flag_address(connection: Connection, address: str, reason: str) -> int:
    """Flag the members whose address a mail server refused for good (called by the
    outbox's sender, in its own transaction)."""
    address = (address or "").strip()
    if not address:
        return 0
    table = AddressFlag.__table__
    ids = list(connection.execute(select(Member.id).where(
        func.lower(Member.email) == address.lower())).scalars())
    for member_id in ids:
        connection.execute(delete(table).where(table.c.member_id == member_id))
        connection.execute(insert(table).values(member_id=member_id, address=address[:320],
                                                reason=reason[:2000], flagged_at=utcnow()))
    return len(ids)


def flag_of(member: Member) -> AddressFlag | None:
    """The member's flag, while their address is the one that was refused."""
    flag = db.session.get(AddressFlag, member.id)
    if flag is None or (member.email or "").lower() != flag.address.lower():
        return None
    return flag


def is_flagged(member: Member) -> bool:
    """The contract's question (features.address_flagged): is the member's current
    address refused?"""
    return member.id is not None and bool(member.email) and flag_of(member) is not None


def flagged_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(AddressFlag)) or 0)


def clear_flag(actor: Member, member: Member) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins clear an address's flag."))
    db.session.execute(delete(AddressFlag).where(AddressFlag.member_id == member.id))
    db.session.flush()
    audit.record_for_member(actor, "notifications.clear_flag", member)


def forget_flag(member: Member) -> None:
    """The address changed: its old flag no longer applies."""
    db.session.execute(delete(AddressFlag).where(AddressFlag.member_id == member.id))


# --- Undeliverable mail (admins) ------------------------------------------------------------


def undeliverable(actor: Member, limit: int = UNDELIVERABLE_PAGE) -> list[OutboxMail]:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins see undeliverable mail."))
    return list(db.session.scalars(
        select(OutboxMail).where(OutboxMail.status == MailStatus.FAILED)
        .order_by(OutboxMail.id.desc()).limit(limit)))


def undeliverable_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(OutboxMail)
                                 .where(OutboxMail.status == MailStatus.FAILED)) or 0)


def retry(actor: Member, mail_id: int) -> OutboxMail:
    """Queue an undeliverable mail once more (after its cause is fixed)."""
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins retry undeliverable mail."))
    row = db.session.get(OutboxMail, mail_id)
    if row is None:
        raise NotFound(_l("No such mail."))
    if row.status != MailStatus.FAILED:
        raise DomainError(_l("This mail is not undeliverable (any more)."))
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail_id,
                                                OutboxMail.status == MailStatus.FAILED)
                       .values(status=MailStatus.QUEUED, next_attempt_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.flush()
    audit.record(actor, "notifications.retry", target_type="mail", target_id=mail_id,
                 target_label=row.recipient)
    wake_after_commit()
    return row
