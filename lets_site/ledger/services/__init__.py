"""The ledger's rules, one module per seam; this package re-exports their names, so callers
write ``from lets_site.ledger import services`` and ``services.pay(...)``.

- ``settings``: the group's ledger settings, read once per request;
- ``amounts``: parsing and formatting amounts in the group's unit;
- ``accounts``: finding and creating accounts, who acts for them, limits and their history,
  changing the ledger settings;
- ``booking``: :func:`_book`, the ONE writer of transfer rows and balances; payments, admin
  bookings, corrections;
- ``payment_requests``: asking for a payment, confirming, declining, withdrawing;
- ``payees``: finding whom to pay by name or code (the payee field);
- ``mass``: contributions and start credits for every account;
- ``statements``: an account's transfers, by page and period, for CSV, print and the data
  download;
- ``reports``: the admins' overview, the spread of balances, the integrity check, counts.

Each module imports only modules listed before it, never a later one.
"""

from __future__ import annotations

from lets_site.ledger.services.accounts import (
    ACTIVE_MEMBER,
    GROUP_SUFFIXES,
    SettingsData,
    _stored_account,
    account_code_taken,
    accounts_for,
    can_act_for,
    can_view,
    find_account,
    full_holder_name,
    group_account,
    header_balance,
    holder_name,
    is_open,
    limit_history,
    limits_of,
    member_account,
    set_limits,
    update_settings,
)
from lets_site.ledger.services.amounts import (
    MAX_LIMIT_UNITS,
    MAX_TRANSFER_UNITS,
    format_amount,
    format_units,
    parse_amount,
    parse_limit,
    plain_amount,
    units_formatter,
)
from lets_site.ledger.services.booking import (
    Booked,
    LimitExceeded,
    Preview,
    _book,
    _new_uid,
    admin_book,
    get_transfer,
    is_form_key,
    new_key,
    pay,
    preview_payment,
    reversal_of,
    reverse,
)
from lets_site.ledger.services.mass import (
    MASS_CONTRIBUTION,
    MASS_START_CREDIT,
    MassBooked,
    MassLine,
    MassPlan,
    book_mass,
    plan_mass,
)
from lets_site.ledger.services.payees import Payee, exact_code, find_payees, fold
from lets_site.ledger.services.payment_requests import (
    asked_by,
    cancel_request,
    confirm_request,
    decline_request,
    pending_for,
    pending_request,
    preview_request,
    request_payment,
)
from lets_site.ledger.services.reports import (
    Distribution,
    Holder,
    MonthFigures,
    Overview,
    _bucket_edges,
    check,
    counts,
    distribution,
    overview,
)
from lets_site.ledger.services.settings import SETTINGS_ID, get_settings
from lets_site.ledger.services.statements import (
    PRINT_MAX_ROWS,
    STATEMENT_PAGE_SIZE,
    Entry,
    Line,
    Party,
    Shown,
    Statement,
    export_section,
    recent_for,
    statement,
    statement_rows,
    viewable_account,
)

__all__ = [
    "ACTIVE_MEMBER",
    "GROUP_SUFFIXES",
    "MASS_CONTRIBUTION",
    "MASS_START_CREDIT",
    "MAX_LIMIT_UNITS",
    "MAX_TRANSFER_UNITS",
    "PRINT_MAX_ROWS",
    "SETTINGS_ID",
    "STATEMENT_PAGE_SIZE",
    "Booked",
    "Distribution",
    "Entry",
    "Holder",
    "LimitExceeded",
    "Line",
    "MassBooked",
    "MassLine",
    "MassPlan",
    "MonthFigures",
    "Overview",
    "Party",
    "Payee",
    "Preview",
    "SettingsData",
    "Shown",
    "Statement",
    "_book",
    "_bucket_edges",
    "_new_uid",
    "_stored_account",
    "account_code_taken",
    "accounts_for",
    "admin_book",
    "asked_by",
    "book_mass",
    "can_act_for",
    "can_view",
    "cancel_request",
    "check",
    "confirm_request",
    "counts",
    "decline_request",
    "distribution",
    "exact_code",
    "export_section",
    "find_account",
    "find_payees",
    "fold",
    "format_amount",
    "format_units",
    "full_holder_name",
    "get_settings",
    "get_transfer",
    "group_account",
    "header_balance",
    "holder_name",
    "is_form_key",
    "is_open",
    "limit_history",
    "limits_of",
    "member_account",
    "new_key",
    "overview",
    "parse_amount",
    "parse_limit",
    "pay",
    "pending_for",
    "pending_request",
    "plain_amount",
    "plan_mass",
    "preview_payment",
    "preview_request",
    "recent_for",
    "request_payment",
    "reversal_of",
    "reverse",
    "set_limits",
    "statement",
    "statement_rows",
    "units_formatter",
    "update_settings",
    "viewable_account",
]
