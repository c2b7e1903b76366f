"""Plain factory functions; conftest exposes them as fixtures."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from werkzeug.security import generate_password_hash

from lets_site.extensions import db
from lets_site.ledger.models import Account, Transfer
from lets_site.members.models import Member, Role, Status
from lets_site.organisations.models import Intermediary, Organisation

PASSWORD = "correct horse battery"
# Hashing is slow on purpose; one hash serves every test member.
_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
_counter = itertools.count(1)


def make_member(**overrides: Any) -> Member:
    n = next(_counter)
    roles = overrides.pop("roles", [Role.MEMBER])
    password = overrides.pop("password", None)
    values: dict[str, Any] = {
        "account_code": f"TE-{n:03d}",
        "display_name": f"Member {n}",
        "full_name": f"Member Number {n}",
        "email": f"member{n}@example.org",
        "phone": f"+32 57 00 00 {n:02d}",
        "address": f"Teststraat {n}",
        "postcode": "8900",
        "status": Status.ACTIVE,
        "joined_on": date(2024, 1, 1),
        "password_hash": generate_password_hash(password, method="pbkdf2:sha256:1000")
        if password
        else _HASH,
    }
    values.update(overrides)
    member = Member(**values)
    member.set_roles(roles)
    db.session.add(member)
    db.session.commit()
    return member


def make_admin(**overrides: Any) -> Member:
    overrides.setdefault("roles", [Role.MEMBER, Role.ADMIN])
    return make_member(**overrides)


def make_candidate(**overrides: Any) -> Member:
    overrides.setdefault("status", Status.CANDIDATE)
    overrides.setdefault("account_code", None)
    return make_member(**overrides)


def make_organisation(intermediaries: list[Member] | None = None, **overrides: Any) -> Organisation:
    n = next(_counter)
    values: dict[str, Any] = {
        "slug": f"org-{n}",
        "name": f"Organisation {n}",
        "account_code": f"TO-{n:03d}",
        "description": "A member organisation.",
    }
    values.update(overrides)
    org = Organisation(**values)
    for member in intermediaries or []:
        org.intermediaries.append(Intermediary(member_id=member.id))
    db.session.add(org)
    db.session.commit()
    return org


def _code(holder: Member | Organisation | Account | str) -> str:
    if isinstance(holder, str):
        return holder
    if isinstance(holder, Account):
        return holder.code
    assert holder.account_code, f"{holder!r} has no account"
    return holder.account_code


def make_transfer(payer: Member | Organisation | Account | str,
                  payee: Member | Organisation | Account | str,
                  amount: int | str = 10, description: str = "Klus", *,
                  by: Member | None = None, admin: Member | None = None,
                  over_limit: bool = False, listing_id: int | str | None = None) -> Transfer:
    """Book and commit a transfer through the ledger's own booking service, with its rules
    (limits, open accounts, balances after, signals). ``amount`` is an int in the group's
    smallest unit or a string as typed in the form ("12,50").

    By default the payer pays (``ledger.services.pay``), or, for an organisation, its first
    intermediary; ``by`` names another member acting for the payer. ``admin`` books it
    as that admin instead (``admin_book``, audited), past the limits if ``over_limit``."""
    from lets_site.ledger import services as ledger

    if admin is not None:
        booked = ledger.admin_book(admin, _code(payer), _code(payee), amount, description,
                                   None, allow_over_limit=over_limit)
    else:
        if by is None:
            if isinstance(payer, Member):
                by = payer
            elif isinstance(payer, Organisation):
                by = payer.intermediaries[0].member
            else:
                raise AssertionError("say who pays from a bare account: by=member")
        booked = ledger.pay(by, _code(payer), _code(payee), amount, description, None,
                            listing_id=listing_id)
    db.session.commit()
    return booked.transfer
