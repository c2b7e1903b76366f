"""Reports: the admins' overview of every balance, the spread of balances members may see,
the integrity check and counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import pairwise

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from lets_site.database import utcnow
from lets_site.domain import PermissionDenied
from lets_site.extensions import db
from lets_site.ledger.models import (
    Account,
    AccountKind,
    LedgerSettings,
    MassBatch,
    Transfer,
    TransferKind,
)
from lets_site.ledger.services.accounts import (
    ACTIVE_MEMBER,
    _new_account,
    group_account,
    holder_name,
    limits_of,
)
from lets_site.ledger.services.amounts import format_amount
from lets_site.ledger.services.settings import get_settings
from lets_site.members.models import Member
from lets_site.organisations.models import Organisation
from lets_site.settings import zone


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
