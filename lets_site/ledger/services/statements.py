"""Statements: an account's transfers with the balance after each, by page and period, and
as rows for CSV, print and the member's data download.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select, union_all
from sqlalchemy.orm import defaultload

from lets_site.domain import PermissionDenied
from lets_site.extensions import db
from lets_site.ledger.models import Account, Transfer
from lets_site.ledger.services.accounts import can_view, find_account, member_account
from lets_site.ledger.services.amounts import plain_amount
from lets_site.ledger.services.settings import get_settings
from lets_site.members.models import Member
from lets_site.organisations.models import Organisation
from lets_site.paging import Page
from lets_site.settings import zone

STATEMENT_PAGE_SIZE = 50
# A statement line names the other party (holder name and code): the organisations among
# them come without their intermediaries, which the relationship would otherwise read in a
# batch per side (payer, payee) of every page of lines.
LINE_LOAD_OPTIONS = tuple(
    defaultload(side).defaultload(Account.organisation).lazyload(Organisation.intermediaries)
    for side in (Transfer.payer, Transfer.payee))
PRINT_MAX_ROWS = 5000


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
        # Index-only counts, both in one query; the totals in and out are shown for a
        # period only.
        total = sum(db.session.execute(select(*(
            select(func.count()).select_from(Transfer).where(column == account.id)
            .scalar_subquery()
            for column in (Transfer.payer_id, Transfer.payee_id)
        ))).one())
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
        select(Transfer).where(Transfer.id.in_(ids)).options(*LINE_LOAD_OPTIONS)
        .order_by(Transfer.id.desc())
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
    rows = db.session.scalars(_entries_query(account, None, None).options(*LINE_LOAD_OPTIONS)
                              .order_by(Transfer.id.desc()).limit(limit))
    return [_entry(account, t) for t in rows]


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
