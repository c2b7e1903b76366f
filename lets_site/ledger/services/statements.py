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
from sqlalchemy.orm import aliased, defaultload

from lets_site.domain import PermissionDenied
from lets_site.extensions import db
from lets_site.ledger.models import Account, AccountKind, Transfer
from lets_site.ledger.services.accounts import can_view, find_account, member_account
from lets_site.ledger.services.amounts import plain_amount
from lets_site.ledger.services.settings import get_settings
from lets_site.members.models import Member
from lets_site.organisations.models import Organisation
from lets_site.paging import Page
from lets_site.settings import get_settings as site_settings
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


@dataclass(frozen=True, slots=True)
class Shown:
    """What a statement line shows of its transfer."""

    uid: str
    created_at: datetime
    description: str
    kind: str
    imported: bool


@dataclass(frozen=True, slots=True)
class Party:
    """The other party of a line: its code and its holder's name (:func:`holder_name`)."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Line:
    """A line of a statement or of the member's latest transfers, as :class:`Entry` but
    read as plain columns: only what the page shows."""

    transfer: Shown
    amount: int  # signed: negative when this account paid
    other: Party
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
    entries: list[Line] = field(default_factory=list)


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


def viewable_account(viewer: Member, code: str) -> Account:
    """The account ``code`` when ``viewer`` may see its statement (its holder, an
    intermediary of its organisation, an admin); else PermissionDenied."""
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
              offset: int) -> Any:
    """A select of the ids of one page, newest first: two index range scans (paid,
    received) merged, so the cost grows with the page number, not with the account's
    history."""
    sides = []
    for column in (Transfer.payer_id, Transfer.payee_id):
        side = _period_filter(select(Transfer.id).where(column == account.id), start, end)
        sides.append(select(side.order_by(Transfer.id.desc()).limit(offset + limit)
                            .subquery().c.id))
    merged = union_all(*sides).subquery()
    return select(merged.c.id).order_by(merged.c.id.desc()).limit(limit).offset(offset)


def _lines(account: Account, ids: Any) -> list[Line]:
    """The lines of the transfers ``ids`` selects, newest first, in one query of the
    shown columns: the transfer's, the other party's code and its member's or
    organisation's name (no ORM rows to build, no relationships to load)."""
    other = aliased(Account)
    other_id = case((Transfer.payer_id == account.id, Transfer.payee_id),
                    else_=Transfer.payer_id)
    rows = db.session.execute(
        select(Transfer.uid, Transfer.created_at, Transfer.description, Transfer.kind,
               Transfer.imported, Transfer.amount, Transfer.payer_id,
               Transfer.payer_balance_after, Transfer.payee_balance_after,
               other.code, other.kind, other.member_id, other.organisation_id,
               Member.display_name, Organisation.name)
        .join(other, other.id == other_id)
        .outerjoin(Member, Member.id == other.member_id)
        .outerjoin(Organisation, Organisation.id == other.organisation_id)
        .where(Transfer.id.in_(ids))
        .order_by(Transfer.id.desc())
    ).all()
    group_name: str | None = None
    lines = []
    for (uid, created_at, description, kind, imported, amount, payer_id, payer_after,
         payee_after, code, other_kind, member_id, organisation_id, member_name,
         org_name) in rows:
        # holder_name(), from the joined columns.
        if other_kind == AccountKind.MEMBER and member_id is not None:
            name = member_name if member_name is not None else code
        elif other_kind == AccountKind.ORGANISATION and organisation_id is not None:
            name = org_name if org_name is not None else code
        else:
            if group_name is None:
                group_name = str(_l("%(group)s (group account)",
                                    group=site_settings().group_name))
            name = group_name
        paid = payer_id == account.id
        lines.append(Line(Shown(uid, created_at, description, kind, bool(imported)),
                          -amount if paid else amount, Party(code, name),
                          payer_after if paid else payee_after))
    return lines


def statement(viewer: Member, code: str, start: date | None = None, end: date | None = None,
              page: int = 1) -> Statement:
    """Newest first, paginated, each line with the balance after it. With a period, also
    the opening and closing balance and the totals in and out."""
    account = viewable_account(viewer, code)
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
    entries = _lines(account, _page_ids(account, start, end, STATEMENT_PAGE_SIZE,
                                        (page - 1) * STATEMENT_PAGE_SIZE)) if total else []
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
    account = viewable_account(viewer, code)
    low, _high = _bounds(start, end)
    opening = _balance_before(account, low)
    if account.id is None:
        return account, opening, iter(())
    stmt = _entries_query(account, start, end).options(*LINE_LOAD_OPTIONS).order_by(Transfer.id)
    if limit is not None:
        stmt = stmt.limit(limit)

    def rows() -> Iterator[Entry]:
        for t in db.session.scalars(stmt.execution_options(yield_per=500)):
            yield _entry(account, t)

    return account, opening, rows()


def recent_for(viewer: Member, code: str, limit: int = 10) -> list[Line]:
    """The account's latest ``limit`` lines, newest first."""
    account = viewable_account(viewer, code)
    if account.id is None:
        return []
    return _lines(account, _page_ids(account, None, None, limit, 0))


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
