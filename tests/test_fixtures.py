"""The rolled-back app fixture: what a test commits is gone for the next test, requests and
Core connections see the test's commits, and ``real_commits`` tests get their own database.
The first two tests run in this order (pytest keeps a module's order)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from lets_site.extensions import db
from lets_site.members.models import Member
from tests import factories

LEAK = "TE-LEAK"


def test_a_commit_in_one_test_through_a_request_and_the_engine(client: Any) -> None:
    factories.make_member(account_code=LEAK, display_name="Lea Leak")
    with db.engine.begin() as conn:  # Core, as the mail sender writes
        conn.execute(Member.__table__.update().where(Member.account_code == LEAK)
                     .values(full_name="Lea Core"))
    # A request (its own app context and session) sees both commits.
    assert client.get("/login").status_code == 200
    assert db.session.scalar(select(Member.full_name).where(Member.account_code == LEAK)) \
        == "Lea Core"


def test_b_the_next_test_sees_nothing_of_it(app: Any) -> None:
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0


def test_a_savepoint_rolled_back_by_a_view_keeps_the_tests_data(client: Any) -> None:
    member = factories.make_member()
    # A refused form rolls back the request's session: only its own savepoint.
    response = client.post_form("/login", {"identifier": member.account_code,
                                           "password": "wrong"})
    assert response.status_code == 200
    assert db.session.get(Member, member.id) is not None


@pytest.mark.real_commits
def test_real_commits_get_a_database_of_their_own(app: Any, shared_database: Any) -> None:
    factories.make_member(account_code=LEAK)
    other = db.engine.connect()  # not the test's connection: the row is committed
    try:
        assert other.execute(select(func.count()).select_from(Member)).scalar() == 1
    finally:
        other.close()
    if shared_database.url.startswith("sqlite"):
        assert app.config["DATABASE_URL"] != shared_database.url
