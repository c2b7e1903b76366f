"""Finding whom to pay: members and organisations by name or account code.

People type "Inge", "jean pierre" or "ie-003"; the pay form and the payment-request form ask
:func:`find_payees` for the matching accounts. Matching ignores case and accents ("Sofie"
finds "Sofíe", "lemaitre" finds "Lemaître") and needs every word typed somewhere in the
name or code. Only accounts that can be paid are found (active and leaving members, active
organisations), never the viewer's own member account.

The names are folded in Python, not in SQL: a LETS group has hundreds, at most a few
thousand members, and no database column has to hold a folded copy of every name
(docs/ledger.md gives the measured time).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from lets_site import codes
from lets_site.domain import NotFound
from lets_site.extensions import db
from lets_site.ledger.models import AccountKind
from lets_site.ledger.services.accounts import ACTIVE_MEMBER, find_account
from lets_site.members.models import Member
from lets_site.organisations.models import Organisation

# The accents NFKD splits off Latin letters (é -> e + U+0301).
_COMBINING = re.compile("[\u0300-\u036f]")
MAX_QUERY = 80
MAX_WORDS = 6
DEFAULT_LIMIT = 8


def fold(text: str) -> str:
    """Lower case without accents and with single spaces: "Lemaître  J." -> "lemaitre j."."""
    text = text or ""
    if text.isascii():  # most names: nothing to decompose
        return " ".join(text.lower().split())
    plain = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return " ".join(plain.casefold().split())


@dataclass(frozen=True)
class Payee:
    """An account someone may pay, as the payee field shows it."""

    code: str
    name: str  # a member's full name, an organisation's name
    short: str  # the name the site shows elsewhere (a member's display name)
    kind: str  # AccountKind.MEMBER or AccountKind.ORGANISATION


def _candidates(viewer: Member | None) -> list[Payee]:
    found = [
        Payee(code, full or display, display, AccountKind.MEMBER)
        for member_id, code, display, full in db.session.execute(
            select(Member.id, Member.account_code, Member.display_name, Member.full_name)
            .where(Member.status.in_(ACTIVE_MEMBER), Member.account_code.is_not(None))
        )
        if viewer is None or member_id != viewer.id
    ]
    found.extend(
        Payee(code, name, name, AccountKind.ORGANISATION)
        for code, name in db.session.execute(
            select(Organisation.account_code, Organisation.name)
            .where(Organisation.status == "active", Organisation.account_code.is_not(None))
        )
    )
    return found


def find_payees(viewer: Member | None, text: str, limit: int = DEFAULT_LIMIT) -> list[Payee]:
    """The accounts whose name or code holds every word of ``text``: an exact code
    first, then names that start with the first word, then the rest, by name."""
    needle = fold((text or "")[:MAX_QUERY])
    words = needle.split()[:MAX_WORDS]
    if not words:
        return []
    exact = codes.normalise(text or "")
    ranked = []
    for payee in _candidates(viewer):
        haystack = fold(f"{payee.name} {payee.short} {payee.code}")
        if not all(word in haystack for word in words):
            continue
        if payee.code == exact:
            rank = 0
        elif any(part.startswith(words[0]) for part in haystack.split()):
            rank = 1
        else:
            rank = 2
        ranked.append((rank, fold(payee.name), payee.code, payee))
    ranked.sort(key=lambda row: row[:3])
    return [row[3] for row in ranked[:max(0, limit)]]


def exact_code(text: str) -> str | None:
    """The account code ``text`` names exactly (any case, spaces around), if there is an
    account or a holder with that code; None when ``text`` has to be looked up by name."""
    code = codes.normalise(text or "")
    if not code or " " in code:
        return None
    try:
        return find_account(code).code
    except NotFound:
        return None
