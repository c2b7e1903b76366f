"""The ledger's rules. :func:`_book` is the ONE function that writes transfer rows and
balances; every way of moving units (payment, confirmed request, admin booking, mass
transfer, correction) goes through it, inside the caller's transaction.

Concurrency: on SQLite every POST request (and :func:`write_transaction`) begins with
``BEGIN IMMEDIATE``, so writers are serialised before they read a balance. On PostgreSQL
:func:`_book` locks both account rows with ``SELECT ... FOR UPDATE`` in id order (no
deadlock between two opposite payments), then re-reads the balances and checks the
idempotency key under that lock.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, lazyload

from lets_site import codes, signals
from lets_site.audit import services as audit
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger.models import (
    Account,
    AccountKind,
    LedgerSettings,
    LimitChange,
    MassBatch,
    PaymentRequest,
    RequestStatus,
    Transfer,
    TransferKind,
)
from lets_site.members.models import Member, Status
from lets_site.organisations.models import Organisation
from lets_site.organisations.services import organisations_for
from lets_site.paging import Page
from lets_site.settings import cached, remember, zone
from lets_site.settings import get_settings as site_settings

SETTINGS_ID = 1
STATEMENT_PAGE_SIZE = 50
PRINT_MAX_ROWS = 5000
# The largest amount one transfer may move, in whole units.
MAX_TRANSFER_UNITS = 100_000
# The largest limit an admin may set, in whole units.
MAX_LIMIT_UNITS = 10_000_000
GROUP_SUFFIXES = ("GROUP", "GRP", "GROEP", "G0")
ACTIVE_MEMBER = (Status.ACTIVE, Status.LEAVING)
_AMOUNT_RE = re.compile(r"^\d{1,12}(?:[.,](\d+))?$", re.ASCII)
# Keys from forms; keys the ledger makes itself contain ":" so no form can take them.
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class LimitExceeded(DomainError):
    """A transfer would take an account past its limit."""


# --- Settings -------------------------------------------------------------------------------


_SETTINGS_KEY = "lets.ledger_settings"


def get_settings() -> LedgerSettings:
    """The group's ledger settings (unsaved defaults until an admin saves them). Kept for
    the rest of the request: a page formats many amounts."""
    return cached(_SETTINGS_KEY, _load_settings)


def _load_settings() -> LedgerSettings:
    settings = db.session.get(LedgerSettings, SETTINGS_ID)
    if settings is None:
        settings = LedgerSettings(id=SETTINGS_ID, decimals=0, default_min=-300, default_max=300,
                                  balances_visible=False)
    return settings


def _has_transfers() -> bool:
    return db.session.scalar(select(Transfer.id).limit(1)) is not None


def _amounts_stored() -> bool:
    """Whether any stored amount is counted in the current number of decimals."""
    if _has_transfers():
        return True
    if db.session.scalar(select(PaymentRequest.id).limit(1)) is not None:
        return True
    return db.session.scalar(
        select(Account.id).where(
            or_(Account.min_balance.is_not(None), Account.max_balance.is_not(None))
        ).limit(1)
    ) is not None


@dataclass(frozen=True)
class SettingsData:
    decimals: int
    default_min: str
    default_max: str
    balances_visible: bool


def update_settings(actor: Member, data: SettingsData) -> LedgerSettings:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins change the ledger settings."))
    if data.decimals not in (0, 2):
        raise DomainError(_l("Choose whole units or two decimals."), field="decimals")
    settings = db.session.get(LedgerSettings, SETTINGS_ID)
    if settings is None:
        settings = LedgerSettings(id=SETTINGS_ID, decimals=0, default_min=-300, default_max=300,
                                  balances_visible=False)
        db.session.add(settings)
    remember(_SETTINGS_KEY, settings)
    if data.decimals != settings.decimals and _amounts_stored():
        raise DomainError(
            _l("The number of decimals cannot change once transfers, payment requests or "
               "limits of single accounts are stored: their amounts would change meaning."),
            field="decimals",
        )
    new_min = parse_limit(data.default_min, data.decimals, "default_min")
    new_max = parse_limit(data.default_max, data.decimals, "default_max")
    _check_limit_pair(new_min, new_max, "default_min")
    old = {"decimals": settings.decimals, "default_min": settings.default_min,
           "default_max": settings.default_max, "balances_visible": settings.balances_visible}
    new = {"decimals": data.decimals, "default_min": new_min, "default_max": new_max,
           "balances_visible": bool(data.balances_visible)}
    changed = {k: {"old": old[k], "new": v} for k, v in new.items() if old[k] != v}
    for name, value in new.items():
        setattr(settings, name, value)
    settings.updated_at = utcnow()
    db.session.flush()
    if changed:
        audit.record(actor, "ledger.settings", target_type="ledger", target_id="settings",
                     target_label="ledger settings", details=changed)
    return settings


# --- Amounts --------------------------------------------------------------------------------


def parse_amount(text: str, decimals: int | None = None, fieldname: str = "amount") -> int:
    """A positive amount typed by a person ("12", "12,5", "12.50") in the smallest unit."""
    decimals = get_settings().decimals if decimals is None else decimals
    value = _parse_number(text, decimals, fieldname, allow_negative=False)
    if value <= 0:
        raise DomainError(_l("The amount must be more than zero."), field=fieldname)
    if value > MAX_TRANSFER_UNITS * 10**decimals:
        raise DomainError(
            _l("The amount is too large: at most %(max)s per transfer.",
               max=format_amount(MAX_TRANSFER_UNITS * 10**decimals, decimals)),
            field=fieldname,
        )
    return value


def parse_limit(text: str, decimals: int, fieldname: str) -> int:
    value = _parse_number(text, decimals, fieldname, allow_negative=True)
    if abs(value) > MAX_LIMIT_UNITS * 10**decimals:
        raise DomainError(_l("That limit is too large."), field=fieldname)
    return value


def _parse_number(text: str, decimals: int, fieldname: str, allow_negative: bool) -> int:
    raw = (text or "").strip().replace(" ", "").replace("\u00a0", "")
    negative = False
    if raw.startswith(("-", "\u2212")):
        if not allow_negative:
            raise DomainError(_l("The amount must be more than zero."), field=fieldname)
        negative, raw = True, raw[1:]
    match = _AMOUNT_RE.match(raw)
    if not raw:
        raise DomainError(_l("Fill in an amount."), field=fieldname)
    if match is None:
        raise DomainError(
            _l("Write the amount as a number, for example 12 or 12,50."), field=fieldname
        )
    fraction = match.group(1) or ""
    if len(fraction.rstrip("0")) > decimals:
        if decimals == 0:
            raise DomainError(_l("This group counts in whole units: no decimals."),
                              field=fieldname)
        raise DomainError(_l("At most two decimals."), field=fieldname)
    whole = raw.replace(",", ".").split(".")[0]
    fraction = (fraction + "0" * decimals)[:decimals]
    value = int(whole) * 10**decimals + (int(fraction) if fraction else 0)
    return -value if negative else value


def format_amount(value: int | None, decimals: int | None = None) -> str:
    if value is None:
        return "—"
    decimals = get_settings().decimals if decimals is None else decimals
    number: int | Decimal = value if decimals == 0 else Decimal(value).scaleb(-decimals)
    pattern = "#,##0" if decimals == 0 else "#,##0.00"
    # In the reader's language; on the command line, the group's (lets_site/locale.py).
    return format_decimal(number, format=pattern)


def plain_amount(value: int, decimals: int) -> str:
    """Amount without grouping, for CSV and form fields (12.50 or 12)."""
    if decimals == 0:
        return str(value)
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 100}.{value % 100:02d}"


# --- Accounts ---------------------------------------------------------------------------------


def account_code_taken(code: str) -> bool:
    return db.session.scalar(
        select(Account.id).where(Account.code == code, Account.kind == AccountKind.GROUP)
    ) is not None


def limits_of(account: Account, settings: LedgerSettings | None = None) -> tuple[
    int | None, int | None
]:
    """The (minimum, maximum) balance in force; None means no limit (the group account)."""
    if account.kind == AccountKind.GROUP:
        return None, None
    settings = settings or get_settings()
    low = account.min_balance if account.min_balance is not None else settings.default_min
    high = account.max_balance if account.max_balance is not None else settings.default_max
    return low, high


def holder_name(account: Account) -> str:
    if account.kind == AccountKind.MEMBER and account.member_id is not None:
        member = account.member or db.session.get(Member, account.member_id)
        return member.display_name if member else account.code
    if account.kind == AccountKind.ORGANISATION and account.organisation_id is not None:
        org = account.organisation or db.session.get(Organisation, account.organisation_id)
        return org.name if org else account.code
    return str(_l("%(group)s (group account)", group=site_settings().group_name))


def is_open(account: Account) -> bool:
    if account.kind == AccountKind.MEMBER:
        member = db.session.get(Member, account.member_id)
        return member is not None and member.status in ACTIVE_MEMBER
    if account.kind == AccountKind.ORGANISATION:
        org = db.session.get(Organisation, account.organisation_id)
        return org is not None and org.status == "active"
    return True


def can_act_for(member: Member | None, account: Account) -> bool:
    """Pay from, ask for and confirm for this account: its holder, or for an
    organisation's account its intermediaries. Admins book for others through the admin
    booking page, which is audited, not through the member's forms."""
    if member is None or not getattr(member, "is_authenticated", False):
        return False
    if account.kind == AccountKind.MEMBER:
        return account.member_id == member.id
    if account.kind == AccountKind.ORGANISATION:
        org = db.session.get(Organisation, account.organisation_id)
        return org is not None and org.has_intermediary(member)
    return False


def can_view(member: Member | None, account: Account) -> bool:
    if member is None or not getattr(member, "is_authenticated", False):
        return False
    return member.is_admin or can_act_for(member, account)


def _holder_for_code(code: str) -> tuple[str, Member | Organisation] | None:
    member = db.session.scalar(select(Member).where(Member.account_code == code))
    if member is not None:
        return AccountKind.MEMBER, member
    org = db.session.scalar(select(Organisation).where(Organisation.account_code == code))
    if org is not None:
        return AccountKind.ORGANISATION, org
    return None


def _new_account(kind: str, holder: Member | Organisation) -> Account:
    return Account(
        code=holder.account_code, kind=kind, balance=0,
        member_id=holder.id if kind == AccountKind.MEMBER else None,
        organisation_id=holder.id if kind == AccountKind.ORGANISATION else None,
    )


def find_account(code: str) -> Account:
    """The account for a code, for reading. A member or organisation that has not traded
    yet gets an unsaved account with balance 0 (GET requests never write)."""
    code = codes.normalise(code or "")
    if not code:
        raise NotFound(_l("Fill in an account code."))
    account = db.session.scalar(select(Account).where(Account.code == code))
    if account is not None:
        return account
    found = _holder_for_code(code)
    if found is None:
        raise NotFound(_l("There is no account with code %(code)s.", code=code))
    return _new_account(*found)


def _stored_account(code: str) -> Account:
    """The account for a code, created when it does not exist yet (write paths only)."""
    account = find_account(code)
    if account.id is not None:
        return account
    try:
        with db.session.begin_nested():
            db.session.add(account)
    except IntegrityError:  # created meanwhile by a concurrent request
        account = db.session.scalar(select(Account).where(Account.code == account.code))
        assert account is not None
    return account


def group_account(create: bool = False) -> Account | None:
    account = db.session.scalar(select(Account).where(Account.kind == AccountKind.GROUP))
    if account is not None or not create:
        return account
    prefix = codes.normalise(site_settings().code_prefix) or "LE"
    for suffix in GROUP_SUFFIXES:
        code = f"{prefix}-{suffix}"
        if not codes.is_taken(code):
            break
    else:  # pragma: no cover - every suffix taken
        code = f"{prefix}-G{secrets.randbelow(10**6)}"
    account = Account(code=code, kind=AccountKind.GROUP, balance=0)
    db.session.add(account)
    db.session.flush()
    return account


def member_account(member: Member) -> Account | None:
    if not member.account_code:
        return None
    return find_account(member.account_code)


def accounts_for(member: Member) -> list[Account]:
    """The accounts this member acts for: their own, then their organisations'."""
    result = []
    own = member_account(member)
    if own is not None:
        result.append(own)
    for org in organisations_for(member):
        if org.account_code:
            result.append(find_account(org.account_code))
    return result


def _check_limit_pair(low: int | None, high: int | None, fieldname: str) -> None:
    if low is not None and low > 0:
        raise DomainError(_l("The minimum balance cannot be above zero."), field=fieldname)
    if high is not None and high < 0:
        raise DomainError(_l("The maximum balance cannot be below zero."), field=fieldname)


def set_limits(actor: Member, code: str, low: str, high: str) -> LimitChange | None:
    """An admin sets an account's own limits ('' = the group default); kept as history."""
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins change limits."))
    account = _stored_account(code)
    if account.kind == AccountKind.GROUP:
        raise DomainError(_l("The group account has no limits."))
    decimals = get_settings().decimals
    new_min = parse_limit(low, decimals, "min_balance") if (low or "").strip() else None
    new_max = parse_limit(high, decimals, "max_balance") if (high or "").strip() else None
    _check_limit_pair(new_min, new_max, "min_balance")
    if (new_min, new_max) == (account.min_balance, account.max_balance):
        return None
    change = LimitChange(account_id=account.id, actor_id=actor.id, old_min=account.min_balance,
                         old_max=account.max_balance, new_min=new_min, new_max=new_max)
    account.min_balance, account.max_balance = new_min, new_max
    db.session.add(change)
    db.session.flush()
    audit.record(actor, "ledger.limits", target_type="ledger_account", target_id=account.code,
                 target_label=holder_name(account),
                 details={"old": [change.old_min, change.old_max], "new": [new_min, new_max]})
    return change


def limit_history(account: Account) -> list[LimitChange]:
    if account.id is None:
        return []
    return list(db.session.scalars(
        select(LimitChange).where(LimitChange.account_id == account.id)
        .order_by(LimitChange.at.desc(), LimitChange.id.desc())
    ))


# --- Booking: the one writer ------------------------------------------------------------------


def new_key() -> str:
    """An idempotency key for a form (a random hidden field)."""
    return secrets.token_urlsafe(18)


def _new_uid() -> str:
    return secrets.token_hex(8)


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
    broken = (payer_min is not None and after_payer < payer_min) or (
        payee_max is not None and after_payee > payee_max
    )
    if broken and not allow_over_limit:
        d = settings.decimals
        if payer_min is not None and after_payer < payer_min:
            room = max(0, payer.balance - payer_min)
            raise LimitExceeded(
                _l("Refused: this would take the balance of %(code)s below its minimum of "
                   "%(min)s. The balance is %(balance)s, so at most %(room)s can be paid.",
                   code=payer.code, min=format_amount(payer_min, d),
                   balance=format_amount(payer.balance, d), room=format_amount(room, d)),
                field="amount",
            )
        assert payee_max is not None
        if viewer_sees_payee:
            raise LimitExceeded(
                _l("Refused: this would take the balance of %(code)s above its maximum of "
                   "%(max)s. The balance is %(balance)s, so at most %(room)s can be received.",
                   code=payee.code, max=format_amount(payee_max, d),
                   balance=format_amount(payee.balance, d),
                   room=format_amount(max(0, payee_max - payee.balance), d)),
                field="amount",
            )
        raise LimitExceeded(
            _l("Refused: this would take the balance of %(code)s above its maximum of "
               "%(max)s. Ask them for a smaller amount or try again later.",
               code=payee.code, max=format_amount(payee_max, d)),
            field="amount",
        )
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


def _open_or_refuse(account: Account, fieldname: str) -> None:
    if not is_open(account):
        raise DomainError(
            _l("Account %(code)s is not active: it cannot pay or be paid.", code=account.code),
            field=fieldname,
        )


def _resolve(*pairs: tuple[str, str]) -> list[Account]:
    """The stored accounts for (code, form field) pairs, created where missing.

    Missing accounts are created in code order, before any row lock is taken: two
    requests that both create the same new accounts then wait for each other in the same
    order and cannot deadlock on PostgreSQL."""
    found = []
    for code, fieldname in pairs:
        try:
            found.append(find_account(code))
        except NotFound as exc:
            raise DomainError(exc.message, field=fieldname) from exc
    for account in sorted((a for a in found if a.id is None), key=lambda a: a.code):
        _stored_account(account.code)
    return [a if a.id is not None else _stored_account(a.code) for a in found]


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


# --- Transfers: reading and correcting ---------------------------------------------------------


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


# --- Payment requests --------------------------------------------------------------------------


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
    if key is not None:
        previous = db.session.scalar(
            select(PaymentRequest).where(PaymentRequest.idempotency_key == key)
        )
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
                         idempotency_key=key, created_by_id=actor.id, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(req)
    except IntegrityError:
        # The same form sent twice at once: on PostgreSQL the copy waits on the unique key
        # for the first one's transaction, then finds its request (SQLite's write lock
        # makes the copy a plain replay, answered above).
        previous = db.session.scalar(
            select(PaymentRequest).where(PaymentRequest.idempotency_key == key)
        ) if key is not None else None
        if previous is None:
            raise
        return previous
    signals.payment_requested.send(req, actor=actor)
    return req


def _request(uid: str, *, for_update: bool = False) -> PaymentRequest:
    stmt = select(PaymentRequest).where(PaymentRequest.uid == uid)
    if for_update:
        # On PostgreSQL a confirm and a decline of the same request take turns (SQLite's
        # write transactions already do). Only this table's row: the joined accounts are not.
        stmt = stmt.with_for_update(of=PaymentRequest)
    req = db.session.scalar(stmt)
    if req is None:
        raise NotFound(_l("No such payment request."))
    return req


def confirm_request(actor: Member, uid: str) -> Booked:
    req = _request(uid, for_update=True)
    if not can_act_for(actor, req.payer):
        raise PermissionDenied(_l("This payment request is not addressed to you."))
    if req.status == RequestStatus.PAID and req.transfer is not None:
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
    return booked


def decline_request(actor: Member, uid: str) -> PaymentRequest:
    req = _request(uid, for_update=True)
    if not can_act_for(actor, req.payer):
        raise PermissionDenied(_l("This payment request is not addressed to you."))
    return _close_request(actor, req, RequestStatus.DECLINED)


def cancel_request(actor: Member, uid: str) -> PaymentRequest:
    req = _request(uid, for_update=True)
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


def pending_for(member: Member) -> list[PaymentRequest]:
    """Requests waiting for this member's answer (their own and their organisations')."""
    ids = _account_ids(member)
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


# --- Mass transfers ----------------------------------------------------------------------------


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
    """Stored accounts for every active member and organisation (created if missing)."""
    result: list[Account] = []
    members = db.session.scalars(
        select(Member).where(Member.status == Status.ACTIVE, Member.account_code.is_not(None))
        .order_by(Member.account_code)
    ).all()
    orgs = db.session.scalars(
        select(Organisation).where(Organisation.status == "active",
                                   Organisation.account_code.is_not(None))
        .order_by(Organisation.account_code)
    ).all()
    # One code order for members and organisations together (see _resolve).
    for holder in sorted([*members, *orgs], key=lambda h: h.account_code or ""):
        result.append(_stored_account(holder.account_code or ""))
    return result


def plan_mass(actor: Member, kind: str, amount: int | str, description: str) -> MassPlan:
    """What a mass transfer would book. Creates missing accounts (call it in a POST)."""
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins book mass transfers."))
    if kind not in (MASS_CONTRIBUTION, MASS_START_CREDIT):
        raise DomainError(_l("Choose the kind of mass transfer."), field="kind")
    if isinstance(amount, str):
        amount = parse_amount(amount)
    description = _description(description)
    group = group_account(create=True)
    assert group is not None
    settings = get_settings()
    holders = _active_holder_accounts()
    if kind == MASS_START_CREDIT:
        credited = set(db.session.scalars(
            select(Transfer.payee_id).where(Transfer.kind == TransferKind.START_CREDIT)
        ))
        holders = [a for a in holders if a.kind == AccountKind.MEMBER and a.id not in credited]
    lines = []
    group_balance = group.balance
    for account in holders:
        low, high = limits_of(account, settings)
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
    key. A form sent again after it was booked finds the row; copies sent at the same
    time wait on the unique index for the first one's transaction (PostgreSQL) or on its
    write lock (SQLite) and then get the batch it booked, as a replay."""
    key = _clean_key(key)
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins book mass transfers."))
    batch = (key or _new_uid())[:32]
    done = _batch_transfers(batch)
    if done:
        return MassBooked(done, replayed=True)
    row = MassBatch(key=batch, kind=kind[:16], amount=0, lines=0, created_by_id=actor.id,
                    created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # the same form, booked meanwhile by a concurrent request
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


# --- Statements --------------------------------------------------------------------------------


@dataclass
class Entry:
    transfer: Transfer
    amount: int  # signed: negative when this account paid
    other: Account
    balance_after: int


@dataclass
class Statement:
    account: Account
    start: date | None
    end: date | None
    page: Page
    opening: int
    closing: int
    total_in: int = 0
    total_out: int = 0
    entries: list[Entry] = field(default_factory=list)


def _bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    tz = zone()
    # Years 1 and 9999 are valid dates but no ledger has entries there: an open end.
    if start is not None and start.year <= 1:
        start = None
    if end is not None and end.year >= 9999:
        end = None
    low = datetime.combine(start, time.min, tz).astimezone(UTC) if start else None
    high = (datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(UTC)
            if end else None)
    return low, high


def _entries_query(account: Account, start: date | None, end: date | None) -> Any:
    stmt = select(Transfer).where(
        or_(Transfer.payer_id == account.id, Transfer.payee_id == account.id)
    )
    return _period_filter(stmt, start, end)


def _entry(account: Account, t: Transfer) -> Entry:
    if t.payer_id == account.id:
        return Entry(t, -t.amount, t.payee, t.payer_balance_after)
    return Entry(t, t.amount, t.payer, t.payee_balance_after)


def _viewable(viewer: Member, code: str) -> Account:
    account = find_account(code)
    if not can_view(viewer, account):
        raise PermissionDenied(_l("Only the account holder and the admins see this account."))
    return account


def _balance_before(account: Account, low: datetime | None) -> int:
    """The balance at ``low``: the balance after the last transfer before it."""
    if low is None or account.id is None:
        return 0
    last_id = max(
        (db.session.scalar(select(Transfer.id).where(column == account.id,
                                                     Transfer.created_at < low)
                           .order_by(Transfer.id.desc()).limit(1)) or 0)
        for column in (Transfer.payer_id, Transfer.payee_id)
    )
    last = db.session.get(Transfer, last_id) if last_id else None
    return _entry(account, last).balance_after if last is not None else 0


def _period_filter(stmt: Any, start: date | None, end: date | None) -> Any:
    low, high = _bounds(start, end)
    if low is not None:
        stmt = stmt.where(Transfer.created_at >= low)
    if high is not None:
        stmt = stmt.where(Transfer.created_at < high)
    return stmt


def _page_ids(account: Account, start: date | None, end: date | None, limit: int,
              offset: int) -> list[int]:
    """Ids of one page, newest first: two index range scans (paid, received) merged, so
    the cost grows with the page number, not with the account's history."""
    sides = []
    for column in (Transfer.payer_id, Transfer.payee_id):
        side = _period_filter(select(Transfer.id).where(column == account.id), start, end)
        sides.append(select(side.order_by(Transfer.id.desc()).limit(offset + limit)
                            .subquery().c.id))
    merged = union_all(*sides).subquery()
    return list(db.session.scalars(
        select(merged.c.id).order_by(merged.c.id.desc()).limit(limit).offset(offset)
    ))


def statement(viewer: Member, code: str, start: date | None = None, end: date | None = None,
              page: int = 1) -> Statement:
    """Newest first, paginated, each line with the balance after it. With a period, also
    the opening and closing balance and the totals in and out."""
    account = _viewable(viewer, code)
    page = max(1, page)
    if account.id is None:
        return Statement(account, start, end, Page([], 0, 1, STATEMENT_PAGE_SIZE), 0, 0)
    total_in = total_out = 0
    if start is None and end is None:
        # Index-only counts; the totals in and out are shown for a period only.
        total = sum(
            db.session.scalar(select(func.count()).select_from(Transfer).where(column
                                                                              == account.id))
            or 0
            for column in (Transfer.payer_id, Transfer.payee_id)
        )
    else:
        sub = _entries_query(account, start, end).subquery()
        sums = db.session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((sub.c.payee_id == account.id, sub.c.amount),
                                            else_=0)), 0),
                func.coalesce(func.sum(case((sub.c.payer_id == account.id, sub.c.amount),
                                            else_=0)), 0),
            ).select_from(sub)
        ).one()
        total, total_in, total_out = int(sums[0]), int(sums[1]), int(sums[2])
    page = min(page, max(1, -(-total // STATEMENT_PAGE_SIZE)))  # past the end: the last page
    ids = _page_ids(account, start, end, STATEMENT_PAGE_SIZE, (page - 1) * STATEMENT_PAGE_SIZE)
    rows = db.session.scalars(
        select(Transfer).where(Transfer.id.in_(ids)).order_by(Transfer.id.desc())
    ).all() if ids else []
    entries = [_entry(account, t) for t in rows]
    low, _high = _bounds(start, end)
    opening = _balance_before(account, low)
    closing = opening + total_in - total_out if (start or end) else account.balance
    return Statement(account, start, end, Page(entries, total, page, STATEMENT_PAGE_SIZE),
                     opening, closing, total_in, total_out, entries)


def statement_rows(viewer: Member, code: str, start: date | None = None,
                   end: date | None = None, limit: int | None = None) -> tuple[
    Account, int, Iterator[Entry]
]:
    """Oldest first, for CSV and print: (account, opening balance, entries)."""
    account = _viewable(viewer, code)
    low, _high = _bounds(start, end)
    opening = _balance_before(account, low)
    if account.id is None:
        return account, opening, iter(())
    stmt = _entries_query(account, start, end).order_by(Transfer.id)
    if limit is not None:
        stmt = stmt.limit(limit)

    def rows() -> Iterator[Entry]:
        for t in db.session.scalars(stmt.execution_options(yield_per=500)):
            yield _entry(account, t)

    return account, opening, rows()


def recent_for(viewer: Member, code: str, limit: int = 10) -> list[Entry]:
    account = _viewable(viewer, code)
    if account.id is None:
        return []
    rows = db.session.scalars(_entries_query(account, None, None)
                              .order_by(Transfer.id.desc()).limit(limit))
    return [_entry(account, t) for t in rows]


# --- Overviews ---------------------------------------------------------------------------------


@dataclass
class Holder:
    account: Account
    name: str
    low: int | None
    high: int | None
    near_limit: bool
    open: bool


def _holders() -> list[Holder]:
    """Every account, also members and organisations that have not traded yet."""
    settings = get_settings()
    stored = {a.code: a for a in db.session.scalars(select(Account))}
    result: list[Holder] = []
    for m in db.session.scalars(select(Member).where(Member.account_code.is_not(None))):
        acc = stored.pop(m.account_code or "", None) or _new_account(AccountKind.MEMBER, m)
        if acc.balance == 0 and m.status not in ACTIVE_MEMBER:
            continue
        result.append(_holder(acc, m.display_name, settings, m.status in ACTIVE_MEMBER))
    for o in db.session.scalars(select(Organisation).where(
            Organisation.account_code.is_not(None))):
        acc = stored.pop(o.account_code or "", None) or _new_account(AccountKind.ORGANISATION, o)
        result.append(_holder(acc, o.name, settings, o.status == "active"))
    for acc in stored.values():
        result.append(_holder(acc, holder_name(acc), settings, True))
    result.sort(key=lambda h: h.account.code)
    return result


def _holder(acc: Account, name: str, settings: LedgerSettings, is_open_: bool) -> Holder:
    low, high = limits_of(acc, settings)
    near = False
    if low is not None and high is not None and high > low:
        margin = (high - low) // 10
        near = acc.balance <= low + margin or acc.balance >= high - margin
    return Holder(acc, name, low, high, near, is_open_)


@dataclass
class MonthFigures:
    month: str
    trades: int
    volume: int


@dataclass
class Overview:
    holders: list[Holder]
    months: list[MonthFigures]
    total_positive: int
    total_negative: int
    sum_all: int

    @property
    def near(self) -> list[Holder]:
        return [h for h in self.holders if h.near_limit and h.account.kind != AccountKind.GROUP]


def _months(count: int = 12) -> list[MonthFigures]:
    tz = zone()
    now = utcnow().astimezone(tz)
    first = date(now.year, now.month, 1)
    starts = []
    y, m = first.year, first.month
    for _ in range(count):
        starts.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    oldest = datetime.combine(starts[-1], time.min, tz).astimezone(UTC)
    rows = db.session.execute(
        select(Transfer.created_at, Transfer.amount).where(
            Transfer.created_at >= oldest,
            Transfer.kind.in_((TransferKind.PAYMENT, TransferKind.REQUEST, TransferKind.ADMIN)),
        )
    ).all()
    figures = {s.strftime("%Y-%m"): MonthFigures(s.strftime("%Y-%m"), 0, 0) for s in starts}
    for at, amount in rows:
        key = at.astimezone(tz).strftime("%Y-%m")
        if key in figures:
            figures[key].trades += 1
            figures[key].volume += amount
    return [figures[s.strftime("%Y-%m")] for s in starts]


def overview(actor: Member) -> Overview:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins see every balance."))
    holders = _holders()
    balances = [h.account.balance for h in holders]
    return Overview(holders, _months(), sum(b for b in balances if b > 0),
                    sum(b for b in balances if b < 0), sum(balances))


@dataclass
class Distribution:
    accounts: int
    total_positive: int
    total_negative: int
    buckets: list[tuple[str, int]]
    trades_last_month: int
    volume_last_month: int
    holders: list[Holder] | None  # only when the group makes balances visible
    group_balance: int = 0


def _bucket_edges(low: int, high: int, unit: int) -> list[int]:
    """Four to eight buckets between the default limits, on round numbers of whole units,
    with the limits themselves as edges when a round step allows it."""
    span = max(high - low, 10 * unit)
    steps = [m * 10**k * unit // 2 for k in range(12) for m in (2, 4, 5, 10)]  # 1, 2, 2.5, 5
    fitting = [s for s in steps if span / 8 <= s <= span / 4]
    aligned = [s for s in fitting if low % s == 0 and high % s == 0]
    step = (aligned or fitting or [next(s for s in steps if s >= span / 8)])[0]
    edges = [(low // step) * step]
    while edges[-1] < high:
        edges.append(edges[-1] + step)
    return edges


def distribution(viewer: Member) -> Distribution:
    """What every member may see: totals and how balances are spread, never whose."""
    if not getattr(viewer, "is_authenticated", False):
        raise PermissionDenied(_l("Log in to see the ledger."))
    settings = get_settings()
    holders = [h for h in _holders() if h.account.kind != AccountKind.GROUP and h.open]
    balances = [h.account.balance for h in holders]
    d = settings.decimals
    edges = _bucket_edges(settings.default_min, settings.default_max, 10**d)
    buckets: list[tuple[str, int]] = [
        (f"< {format_amount(edges[0], d)}", sum(1 for b in balances if b < edges[0]))
    ]
    for lo, hi in pairwise(edges):
        buckets.append((f"{format_amount(lo, d)} … {format_amount(hi, d)}",
                        sum(1 for b in balances if lo <= b < hi)))
    buckets.append((f"≥ {format_amount(edges[-1], d)}",
                    sum(1 for b in balances if b >= edges[-1])))
    month = _months(1)[0]
    group = group_account()
    return Distribution(len(balances), sum(b for b in balances if b > 0),
                        sum(b for b in balances if b < 0), buckets, month.trades, month.volume,
                        holders if (settings.balances_visible or viewer.is_admin) else None,
                        group.balance if group is not None else 0)


def header_balance(member: Member) -> int | None:
    """The logged-in member's own balance, for the page header: one small query per page
    (0 for a member who has not traded yet)."""
    if not getattr(member, "is_authenticated", False) or not member.account_code:
        return None
    balance = db.session.scalar(select(Account.balance).where(Account.code == member.account_code))
    return balance if balance is not None else 0


# --- Integrity check ---------------------------------------------------------------------------


def check() -> list[str]:
    """Problems found in the ledger (empty when all is well):
    the sum of all balances is zero; each balance equals the sum of its entries and each
    row's balance-after follows from the one before; no row broke a limit it was checked
    against unless an admin overrode it; a correction mirrors its original; no form was
    booked twice (see :func:`_duplicate_keys`)."""
    problems: list[str] = []
    total = db.session.scalar(select(func.coalesce(func.sum(Account.balance), 0))) or 0
    if total != 0:
        problems.append(f"sum of all balances is {total}, not 0")
    incoming = dict(db.session.execute(
        select(Transfer.payee_id, func.sum(Transfer.amount)).group_by(Transfer.payee_id)
    ).all())
    outgoing = dict(db.session.execute(
        select(Transfer.payer_id, func.sum(Transfer.amount)).group_by(Transfer.payer_id)
    ).all())
    accounts = {a.id: a for a in db.session.scalars(select(Account))}
    for acc in accounts.values():
        expected = int(incoming.get(acc.id, 0) or 0) - int(outgoing.get(acc.id, 0) or 0)
        if acc.balance != expected:
            problems.append(f"{acc.code}: balance {acc.balance} but its entries sum to {expected}")
    running: dict[int, int] = dict.fromkeys(accounts, 0)
    stmt = select(Transfer.id, Transfer.uid, Transfer.payer_id, Transfer.payee_id,
                  Transfer.amount, Transfer.payer_balance_after, Transfer.payee_balance_after,
                  Transfer.payer_min, Transfer.payee_max, Transfer.over_limit).order_by(
                      Transfer.id)
    for row in db.session.execute(stmt.execution_options(yield_per=2000)):
        running[row.payer_id] = running.get(row.payer_id, 0) - row.amount
        running[row.payee_id] = running.get(row.payee_id, 0) + row.amount
        if row.amount <= 0:
            problems.append(f"transfer {row.uid}: amount {row.amount} is not positive")
        if running[row.payer_id] != row.payer_balance_after:
            problems.append(f"transfer {row.uid}: payer balance after is "
                            f"{row.payer_balance_after}, entries give {running[row.payer_id]}")
            running[row.payer_id] = row.payer_balance_after
        if running[row.payee_id] != row.payee_balance_after:
            problems.append(f"transfer {row.uid}: payee balance after is "
                            f"{row.payee_balance_after}, entries give {running[row.payee_id]}")
            running[row.payee_id] = row.payee_balance_after
        if not row.over_limit:
            if row.payer_min is not None and row.payer_balance_after < row.payer_min:
                problems.append(f"transfer {row.uid}: payer below its minimum {row.payer_min} "
                                "without an override")
            if row.payee_max is not None and row.payee_balance_after > row.payee_max:
                problems.append(f"transfer {row.uid}: payee above its maximum {row.payee_max} "
                                "without an override")
    original = aliased(Transfer)
    mismatched = db.session.scalars(
        select(Transfer.uid).join(original, original.id == Transfer.reverses_id).where(
            ~and_(original.payer_id == Transfer.payee_id,
                  original.payee_id == Transfer.payer_id,
                  original.amount == Transfer.amount)
        )
    ).all()
    for uid in mismatched:
        problems.append(f"correction {uid} does not mirror the transfer it reverses")
    problems.extend(_duplicate_keys())
    return problems


def _duplicate_keys() -> list[str]:
    """Forms booked more than once: transfers or batches sharing one idempotency key, a
    batch that books one pair of accounts twice (what concurrent copies of one mass
    transfer form left before its key was unique), a batch with more lines than it
    booked."""
    problems: list[str] = []
    for key, n in db.session.execute(
        select(Transfer.idempotency_key, func.count()).where(
            Transfer.idempotency_key.is_not(None))
        .group_by(Transfer.idempotency_key).having(func.count() > 1)
    ):
        problems.append(f"idempotency key {key} is used by {n} transfers")
    for key, n in db.session.execute(
        select(MassBatch.key, func.count()).group_by(MassBatch.key).having(func.count() > 1)
    ):
        problems.append(f"batch key {key} is used by {n} batches")
    payer, payee = aliased(Account), aliased(Account)
    for batch, payer_code, payee_code, n in db.session.execute(
        select(Transfer.batch, payer.code, payee.code, func.count())
        .join(payer, payer.id == Transfer.payer_id).join(payee, payee.id == Transfer.payee_id)
        .where(Transfer.batch.is_not(None))
        .group_by(Transfer.batch, payer.code, payee.code).having(func.count() > 1)
        .order_by(Transfer.batch, payer.code, payee.code)
    ):
        problems.append(f"batch {batch} books {payer_code} -> {payee_code} {n} times")
    counted = (select(Transfer.batch, func.count().label("n")).where(Transfer.batch.is_not(None))
               .group_by(Transfer.batch).subquery())
    for key, lines, n in db.session.execute(
        select(MassBatch.key, MassBatch.lines, counted.c.n)
        .join(counted, counted.c.batch == MassBatch.key)
        .where(counted.c.n != MassBatch.lines).order_by(MassBatch.key)
    ):
        problems.append(f"batch {key} booked {lines} transfers but {n} carry its key")
    return problems


def counts() -> dict[str, int]:
    return {
        "accounts": db.session.scalar(select(func.count(Account.id))) or 0,
        "transfers": db.session.scalar(select(func.count(Transfer.id))) or 0,
    }


# --- Member data download ----------------------------------------------------------------------


def export_section(member: Member) -> dict[str, Any]:
    account = member_account(member)
    if account is None or account.id is None:
        return {"account": member.account_code, "balance": 0, "transfers": []}
    d = get_settings().decimals
    _acc, _opening, rows = statement_rows(member, account.code)
    return {
        "account": account.code,
        "balance": plain_amount(account.balance, d),
        "transfers": [
            {"id": e.transfer.uid, "at": e.transfer.created_at.isoformat(),
             "amount": plain_amount(e.amount, d), "other": e.other.code,
             "description": e.transfer.description,
             "balance_after": plain_amount(e.balance_after, d)}
            for e in rows
        ],
    }
