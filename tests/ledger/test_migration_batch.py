"""Migration 0005 gives every mass transfer already booked its batch row, and a batch that
concurrent copies of its form booked several times (before the key was unique) is then
reported by the check."""

from __future__ import annotations

from typing import Any

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import MassBatch
from tests.test_migrations import _empty

# Migrations run DDL and commit on connections of their own.
pytestmark = pytest.mark.real_commits


def test_0005_fills_ledger_batch_from_booked_batches(app: Any) -> None:
    directory = app.extensions["migrate"].directory
    _empty(app)
    upgrade(directory=directory, revision="0004_listing_photo_key")
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO ledger_account (id, code, kind, balance, created_at) VALUES "
            "(1, 'LE-GROUP', 'group', 6, '2026-01-01 00:00:00+00:00'), "
            "(2, 'LE-001', 'member', -4, '2026-01-01 00:00:00+00:00'), "
            "(3, 'LE-002', 'member', -2, '2026-01-01 00:00:00+00:00')"))
        # Batch "twice" booked LE-001 twice (two concurrent copies), LE-002 once.
        rows = [(1, 2, -2, 2, "twice"), (2, 3, -2, 4, "twice"), (3, 2, -4, 6, "twice")]
        for n, (tid, payer, payer_after, payee_after, batch) in enumerate(rows, start=1):
            conn.execute(text(
                "INSERT INTO ledger_transfer (id, uid, payer_id, payee_id, amount, description,"
                " kind, created_at, payer_balance_after, payee_balance_after, over_limit,"
                " reason, batch) VALUES (:id, :uid, :payer, 1, 2, 'Bijdrage', 'contribution',"
                " '2026-01-02 00:00:00+00:00', :pa, :qa, false, '', :batch)"),
                {"id": tid, "uid": f"{n:016x}", "payer": payer, "pa": payer_after,
                 "qa": payee_after, "batch": batch})
    upgrade(directory=directory)
    with app.test_request_context():
        batches = db.session.scalars(select(MassBatch)).all()
        assert [(b.key, b.kind, b.amount, b.lines) for b in batches] == [
            ("twice", "contribution", 2, 3)]
        problems = services.check()
        assert problems == ["batch twice books LE-001 -> LE-GROUP 2 times"]
        db.session.rollback()
    _empty(app)
