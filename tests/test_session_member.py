"""The logged-in member is kept per process (lets_site/members/services.py
``load_for_session``): a warm worker reads no member on a logged-in request, yet a change
committed by another worker (a status, the roles, a logout) applies on the next request,
and what a request changes on its member is saved."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from lets_site.extensions import db
from lets_site.members import services as members
from lets_site.members.models import Member, Role, Status
from tests import factories
from tests.conftest import Client, logged_in
from tests.queries import counted


@pytest.mark.real_commits
def test_a_member_made_inactive_in_another_worker_is_out_at_once(
        app: Flask, second_worker: Flask) -> None:
    admin = factories.make_admin()
    member = factories.make_member(locale="en")
    db.session.commit()
    client = logged_in(second_worker, member)
    assert client.get("/ledger/").status_code == 200  # the member is kept there now

    members.set_status(db.session.merge(admin), db.session.merge(member), Status.INACTIVE)
    db.session.commit()  # in the first worker
    response = client.get("/ledger/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.real_commits
def test_roles_given_in_another_worker_show_at_once(app: Flask, second_worker: Flask) -> None:
    admin = factories.make_admin()
    member = factories.make_member(locale="en")
    db.session.commit()
    client = logged_in(second_worker, member)
    assert client.get("/admin/").status_code == 403
    members.set_roles(db.session.merge(admin), db.session.merge(member),
                      {Role.MEMBER, Role.ADMIN})
    db.session.commit()
    assert client.get("/admin/").status_code == 200


def test_a_warm_logged_in_request_reads_no_member(app: Flask, client: Client,
                                                 login_as: Any) -> None:
    login_as("member")
    client.get("/language")
    with counted() as statements:
        assert client.get("/language").status_code == 200
    assert not [s for s in statements if "FROM member" in s]


def test_what_a_request_changes_on_its_member_is_saved(app: Flask, client: Client,
                                                      login_as: Any) -> None:
    member = login_as("member")
    client.get("/language")  # the member is now kept by this worker
    client.get("/language")
    response = client.post("/language", data={"lang": "fr", "next": "/"})
    assert response.status_code == 303
    assert db.session.get(Member, member.id).locale == "fr"
    client.set_cookie("lang", "", expires=0)
    # The next request's member (read again after that write) has the saved language.
    assert 'lang="fr"' in client.get("/language").get_data(as_text=True)
