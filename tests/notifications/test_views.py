"""The member's notification page (a plain form, no JavaScript), the admins' defaults,
the admin pages' buttons per role, and requests that never wait for the mail server."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from lets_site.extensions import db
from lets_site.mail import MailStatus, OutboxMail, background_sender
from lets_site.notifications import receivers, services
from lets_site.notifications.forms import field_name
from lets_site.notifications.models import AddressFlag
from tests.html import main_text
from tests.notifications.test_kinds import login

EN = {"Accept-Language": "en"}


def test_the_profile_links_to_the_members_own_choices_only(
    app: Any, client: Any, make_member: Any
) -> None:
    member, other = make_member(locale="en"), make_member()
    login(client, member)
    own = client.get(f"/members/{member.account_code}", headers=EN)
    assert "/members/me/notifications" in own.get_data(as_text=True)
    theirs = client.get(f"/members/{other.account_code}", headers=EN)
    assert "/members/me/notifications" not in theirs.get_data(as_text=True)


def test_the_page_has_one_checkbox_per_kind_the_member_receives_and_saves_them(
    app: Any, client: Any, make_member: Any
) -> None:
    member = make_member(locale="en")
    login(client, member)
    page = client.get("/members/me/notifications", headers=EN)
    html = page.get_data(as_text=True)
    for kind in services.kinds_for(member):
        assert f'name="{field_name(kind.key)}"' in html
    assert field_name("members.new_candidate") not in html  # admins only
    # A plain HTML form: checkboxes and a submit button, nothing that needs a script.
    assert html.count('type="checkbox"') == len(services.kinds_for(member))
    assert '<form method="post" action="/members/me/notifications">' in html
    # A plain POST: everything on but payments received.
    data = {field_name(k.key): "y" for k in services.kinds_for(member)
            if k.key != receivers.PAYMENT_RECEIVED}
    response = client.post_form("/members/me/notifications", data)
    assert response.status_code == 303
    choices = services.preferences(member)
    assert choices[receivers.PAYMENT_RECEIVED] is False
    assert all(v for k, v in choices.items() if k != receivers.PAYMENT_RECEIVED)
    page = client.get("/members/me/notifications", headers=EN)
    assert f'name="{field_name(receivers.PAYMENT_RECEIVED)}"' in page.get_data(as_text=True)
    assert "checked" not in page.get_data(as_text=True).split(
        f'name="{field_name(receivers.PAYMENT_RECEIVED)}"')[0].rsplit("<input", 1)[1]


def test_admins_see_the_admin_kinds_on_their_own_page(
    app: Any, client: Any, make_admin: Any
) -> None:
    admin = make_admin(locale="en")
    login(client, admin)
    html = client.get("/members/me/notifications", headers=EN).get_data(as_text=True)
    assert f'name="{field_name("members.new_candidate")}"' in html


def test_admins_set_the_groups_defaults(app: Any, client: Any, make_admin: Any,
                                        make_member: Any) -> None:
    admin, member = make_admin(locale="en"), make_member()
    login(client, admin)
    page = client.get("/admin/notifications", headers=EN)
    assert "the group's defaults" in main_text(page)
    data = {field_name(k.key): "y" for k in services.kinds()
            if k.key != receivers.NEAR_LIMIT}
    assert client.post_form("/admin/notifications", data).status_code == 303
    assert services.group_defaults()[receivers.NEAR_LIMIT] is False
    assert services.is_on(member, receivers.NEAR_LIMIT) is False
    assert services.is_on(member, receivers.PAYMENT_RECEIVED) is True


@pytest.mark.parametrize("role", ["anonymous", "member", "intermediary", "other_org_member"])
def test_only_admins_post_to_the_admin_pages(
    app: Any, client: Any, login_as: Any, people: dict[str, Any], role: str
) -> None:
    member = people["member"]
    db.session.add(AddressFlag(member_id=member.id, address=member.email, reason="550"))
    row = OutboxMail(recipient="x@example.org", subject="S", body="B", message_id="<m@x>",
                     status=MailStatus.FAILED, last_error="550")
    db.session.add(row)
    db.session.commit()
    login_as(role)
    expected = 302 if role == "anonymous" else 403
    for path in (f"/admin/notifications/undeliverable/{row.id}/retry",
                 f"/admin/notifications/flags/{member.id}/clear", "/admin/notifications"):
        assert client.post_form(path).status_code == expected, path
    db.session.expire_all()
    assert db.session.get(AddressFlag, member.id) is not None
    assert db.session.get(OutboxMail, row.id).status == MailStatus.FAILED


def test_retrying_an_unknown_mail_is_404(app: Any, client: Any, make_admin: Any) -> None:
    login(client, make_admin())
    assert client.post_form("/admin/notifications/undeliverable/999999/retry").status_code == 404


# --- Requests never wait for the mail server ------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts the TCP connection (the kernel's backlog) and never speaks."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def _timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.real_commits  # the sender works in a thread of its own
def test_paying_and_answering_a_listing_do_not_wait_for_a_silent_mail_server(
    app: Any, client: Any, make_member: Any, silent_server: int
) -> None:
    from tests.offers.conftest import make_listing

    payer, payee = make_member(), make_member()
    listing = make_listing(payee, "Soup")
    login(client, payer)
    app.config.update(MAIL_SEND_MODE="background", MAIL_SERVER="127.0.0.1",
                      MAIL_PORT=silent_server, MAIL_TIMEOUT=5)
    try:
        token = client.csrf_token("/ledger/pay")
        response, elapsed = _timed(lambda: client.post("/ledger/pay", data={
            "from_account": payer.account_code, "payee": payee.account_code,
            "amount": "3", "description": "Soup", "csrf_token": token}))
        response.close()
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
        assert elapsed < 1.5, f"paying took {elapsed:.2f} s"
        token = client.csrf_token(f"/offers/{listing.id}")
        response, elapsed = _timed(lambda: client.post(f"/offers/{listing.id}", data={
            "message": "I would like some", "csrf_token": token}))
        response.close()
        assert response.status_code == 303
        assert elapsed < 1.5, f"answering took {elapsed:.2f} s"
    finally:
        background_sender(app).stop()
    db.session.rollback()
    rows = list(db.session.scalars(select(OutboxMail).where(
        OutboxMail.recipient == payee.email)))
    # Both mails wait in the outbox for the server.
    assert len(rows) == 2 and {r.status for r in rows} == {MailStatus.QUEUED}


def test_the_admins_actions_are_in_the_audit_log(
    app: Any, smtp: Any, make_admin: Any, make_member: Any
) -> None:
    from lets_site.audit.models import AuditEntry
    from lets_site.mail import Mail, send_after_commit

    admin, member = make_admin(), make_member()
    smtp.reply = "550 5.1.1 No such user"
    send_after_commit(Mail(to=member.email, subject="S", body="B"))
    db.session.commit()
    smtp.reply = None
    row = db.session.scalar(select(OutboxMail))
    services.save_defaults(admin, [])
    services.clear_flag(admin, member)
    services.retry(admin, row.id)
    db.session.commit()
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"notifications.defaults", "notifications.clear_flag",
            "notifications.retry"} <= actions
