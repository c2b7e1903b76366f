"""The ledger feature: accounts, transfers, payment requests, mutual-credit limits."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.ledger import commands, demo, models, services
from lets_site.ledger.views import bp
from lets_site.settings import reader_language, shared


def _balance(viewer: Any) -> Any:
    """The viewer's balance, read once per request: the header and the home panel both
    show it."""
    cache: dict[int, Any] = g.setdefault("lets_ledger_balances", {})
    if viewer.id not in cache:
        cache[viewer.id] = services.header_balance(viewer)
    return cache[viewer.id]


def _header(_subject: Any, viewer: Any) -> dict[str, Any] | None:
    """The header's balance, written out once per process, language and amount until
    someone writes (a transfer, the unit or the decimals changed): every page a member
    sees shows it, and formatting it read the ledger's settings and babel's patterns."""
    balance = _balance(viewer) if viewer is not None else None
    if balance is None:
        return None
    lang = reader_language()
    text = shared(f"ledger.header_balance_text.{lang}.{balance}",
                  lambda: services.format_units(balance))
    return {"balance": balance, "text": text}


def _home(_subject: Any, viewer: Any) -> dict[str, Any] | None:
    """For members: their balance and the payment requests waiting for them."""
    if viewer is None:
        return None
    balance = _balance(viewer)
    return {"balance": balance or 0, "pending": services.pending_for(viewer)}


def _others_account(viewer: Any, code: str | None, is_open: bool) -> bool:
    """Whether the viewer may be shown "pay" and "ask to be paid" for account ``code``:
    logged in, the account open, and not one the viewer acts for."""
    if viewer is None or not code or not is_open:
        return False
    return code not in {a.code for a in services.accounts_for(viewer)}


def _profile(member: Any, viewer: Any) -> dict[str, Any] | None:
    """On a member's profile: pay them, ask them for a payment."""
    if not _others_account(viewer, member.account_code,
                           member.status in services.ACTIVE_MEMBER):
        return None
    return {"code": member.account_code, "name": member.display_name}


def _organisation(org: Any, viewer: Any) -> dict[str, Any] | None:
    """On an organisation's page: pay it, ask it for a payment."""
    if not _others_account(viewer, org.account_code, org.status == "active"):
        return None
    return {"code": org.account_code, "name": org.name}


def _listing(listing: Any, viewer: Any) -> dict[str, Any] | None:
    """On a listing's page: pay for an offer or ask to be paid for a want (the other one
    too, smaller), with the listing's title and link filled in."""
    if not _others_account(viewer, listing.owner_account_code, True):
        return None
    return {"code": listing.owner_account_code, "listing": listing.id,
            "title": listing.title, "want": listing.kind == "want"}


def _demo(ctx: f.DemoContext) -> None:
    demo.seed(ctx.rng, ctx.made["members"], ctx.made["organisations"])


# The audit log's words for what this feature records.
AUDIT_ACTIONS = {
    "ledger.admin_booking": _l("Booked a transfer between members"),
    "ledger.correction": _l("Booked a correction"),
    "ledger.limits": _l("Changed an account's limits"),
    "ledger.settings": _l("Changed the ledger's settings"),
    "ledger.mass_contribution": _l("Booked the contributions of all members"),
    "ledger.mass_start_credit": _l("Booked start credits"),
}

FEATURE = f.Feature(
    name="ledger",
    blueprint=bp,
    menu=[f.MenuLink("ledger.index", _l("My account"), f.MEMBERS, order=50)],
    admin=[f.AdminLink("ledger.admin_index", _l("Ledger: balances, bookings, mass transfers"),
                       order=30)],
    panels=[
        f.Panel(f.HEADER, "ledger/_balance.html", _header, order=50),
        f.Panel(f.HOME, "ledger/_home.html", _home, order=25),
        f.Panel(f.PROFILE, "ledger/_pay_links.html", _profile, order=20),
        f.Panel(f.ORGANISATION, "ledger/_pay_links.html", _organisation, order=20),
        f.Panel(f.LISTING, "ledger/_pay_links.html", _listing, order=20),
    ],
    demo=f.DemoStep(50, _demo),
    export=f.ExportSection("ledger", services.export_section),
    account_codes=services.account_code_taken,
    commands=commands.COMMANDS,
    audit_actions=AUDIT_ACTIONS,
    check=services.check,
    portable=f.Portable(tables=(models.LedgerSettings, models.Account, models.LimitChange,
                               models.MassBatch, models.Transfer, models.PaymentRequest)),
)
