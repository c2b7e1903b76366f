"""Accounts: finding them by code, creating them when they are first booked on, who may act
for them, their limits (the group's defaults in the ledger settings, an account's own
limits and their history).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from lets_site import codes
from lets_site.audit import services as audit
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.ledger.models import (
    Account,
    AccountKind,
    LedgerSettings,
    LimitChange,
    PaymentRequest,
    Transfer,
)
from lets_site.ledger.services.amounts import parse_limit
from lets_site.ledger.services.settings import _SETTINGS_KEY, SETTINGS_ID, get_settings
from lets_site.members.models import Member, Status
from lets_site.organisations.models import Organisation
from lets_site.organisations.services import organisations_for
from lets_site.settings import cached, forget, remember, shared
from lets_site.settings import get_settings as site_settings

GROUP_SUFFIXES = ("GROUP", "GRP", "GROEP", "G0")
ACTIVE_MEMBER = (Status.ACTIVE, Status.LEAVING)


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


def full_holder_name(account: Account) -> str:
    """The name to say who is paid, where a mistake costs money: a member's full name
    ("Jean-Pierre Lemaire", not "Jean-Pierre L."), else :func:`holder_name`."""
    if account.kind == AccountKind.MEMBER and account.member_id is not None:
        member = account.member or db.session.get(Member, account.member_id)
        if member is not None and member.full_name:
            return member.full_name
    return holder_name(account)


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
    # A stored account once per request (the page's header, its lists and its checks ask
    # for the same accounts); the session keeps the one object anyway.
    account = cached(f"ledger.account.{code}", lambda: db.session.scalar(
        select(Account).where(Account.code == code)))
    if account is not None:
        return account
    forget(f"ledger.account.{code}")  # not stored yet: ask again (it may be created)
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


def header_balance(member: Member) -> int | None:
    """The logged-in member's own balance, for the page header (0 for a member who has not
    traded yet): kept per process until someone writes (``lets_site.settings.shared``;
    every transfer is a write)."""
    if not getattr(member, "is_authenticated", False) or not member.account_code:
        return None
    code = member.account_code
    balance = shared(f"ledger.header_balance.{code}", lambda: db.session.scalar(
        select(Account.balance).where(Account.code == code)))
    return balance if balance is not None else 0


# --- Limits ---------------------------------------------------------------------------------


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


# --- The ledger settings: unit and default limits -------------------------------------------


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
