"""Plain factory functions; conftest exposes them as fixtures."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from werkzeug.security import generate_password_hash

from lets_site.extensions import db
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
