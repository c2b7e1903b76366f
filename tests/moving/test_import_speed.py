"""A generated eLAND-shaped export of 300 members, 2,000 listings and 20,000 transactions
imports in under a minute, and every balance matches the source to the cent."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from lets_site.extensions import db
from lets_site.ledger import services as ledger
from lets_site.ledger.models import Account, LedgerSettings
from lets_site.moving import services

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MEMBERS, LISTINGS, TRANSACTIONS = 300, 2_000, 20_000
BUDGET_SECONDS = 60


def eland_files(seed: int = 15) -> tuple[list[tuple[str, bytes]], dict[str, int]]:
    """users.csv, categories.csv, messages.csv and transactions.csv as eLAND writes them
    (comma separated, UTF-8, ids for users), and each account's balance in cents."""
    rng = random.Random(seed)
    balances = dict.fromkeys(range(1, MEMBERS + 1), 0)
    start = datetime(2015, 1, 1)
    history = ["id,created_at,id_from,id_to,amount,description"]
    for n in range(1, TRANSACTIONS + 1):
        payer, payee = rng.sample(range(1, MEMBERS + 1), 2)
        cents = rng.randint(1, 5_000)
        balances[payer] -= cents
        balances[payee] += cents
        when = start + timedelta(minutes=n * 200)
        history.append(f"{n},{when:%Y-%m-%d %H:%M:%S},{payer},{payee},"
                       f"{cents // 100}.{cents % 100:02d},Werk {n}")
    users = ["id,code,name,full_name,role,status,email,postcode,minlimit,maxlimit,balance"]
    for i in range(1, MEMBERS + 1):
        b = balances[i]
        sign = "-" if b < 0 else ""
        users.append(f"{i},EL-{i:03d},Lid {i},Lid Nummer {i},user,1,lid{i}@example.org,8900,"
                     f"-100000,100000,{sign}{abs(b) // 100}.{abs(b) % 100:02d}")
    categories = ["id,name,id_parent"] + [f"{c},Rubriek {c},0" for c in range(1, 21)]
    ads = ["id,user_id,subject,content,offer_want,category_id,expires_at"]
    for n in range(1, LISTINGS + 1):
        ads.append(f"{n},{rng.randint(1, MEMBERS)},Zoekertje {n},Tekst {n},"
                   f"{rng.choice(['offer', 'want'])},{rng.randint(1, 20)},2027-06-30")
    files = [(name, ("\n".join(lines) + "\n").encode("utf-8")) for name, lines in (
        ("users.csv", users), ("categories.csv", categories), ("messages.csv", ads),
        ("transactions.csv", history))]
    return files, {f"EL-{i:03d}": b for i, b in balances.items()}


@pytest.mark.slow
def test_a_large_eland_export_imports_within_a_minute(app: Flask) -> None:
    db.session.merge(LedgerSettings(id=1, decimals=2, default_min=-30000, default_max=30000,
                                    balances_visible=False))
    db.session.commit()
    files, balances = eland_files()
    began = time.perf_counter()
    result = services.run_import(None, files, now=NOW)
    db.session.commit()
    took = time.perf_counter() - began
    print(f"MEASURED: {MEMBERS} members, {LISTINGS} listings, {TRANSACTIONS} transactions "
          f"imported in {took:.1f} s ({db.engine.dialect.name})")
    assert result.counts["transactions"] == TRANSACTIONS
    assert result.counts["offers"] + result.counts["wants"] == LISTINGS
    found = {a.code: a.balance for a in db.session.scalars(select(Account))}
    assert all(found[code] == cents for code, cents in balances.items())
    assert ledger.check() == []
    assert took < BUDGET_SECONDS
