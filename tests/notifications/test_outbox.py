"""The outbox's guarantees against a real SMTP server on 127.0.0.1: retries after the
server comes back, a flagged address after a permanent refusal, the admin's list of
undeliverable mail with its retry button, no duplicate after a crash between sending
and marking."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from lets_site import mail
from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.mail import Mail, OutboxMail, send_after_commit, send_due
from lets_site.members import services as members
from lets_site.notifications.models import AddressFlag
from tests.html import main_text
from tests.notifications.conftest import Server


def _rows() -> list[OutboxMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def _due_now() -> None:
    """Time passes: every queued row is due (a retry's back-off, a dead sender's lease)."""
    db.session.execute(update(OutboxMail).where(OutboxMail.status == "queued")
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_a_mail_refused_with_4xx_is_retried_and_arrives_when_the_server_takes_it(
    app: Any, smtp: Server
) -> None:
    smtp.reply = "451 4.3.0 Try again later"
    send_after_commit(Mail(to="a@example.org", subject="Hello", body="Body"))
    db.session.commit()
    (row,) = _rows()
    assert row.status == "queued" and row.attempts == 1 and "451" in row.last_error
    smtp.reply = None  # the server is back
    _due_now()
    assert send_due(app).sent == 1
    (message,) = smtp.messages
    assert message["Message-ID"] == row.message_id
    assert _rows()[0].status == "sent"


def test_a_5xx_flags_the_members_address_for_the_admin_until_the_address_changes(
    app: Any, smtp: Server, make_member: Any, make_admin: Any, client: Any, auth: Any
) -> None:
    member = make_member(email="Gone@Example.org")
    admin = make_admin(locale="en")
    smtp.reply = "550 5.1.1 No such user"
    send_after_commit(Mail(to="gone@example.org", subject="Hello", body="Body"))
    db.session.commit()
    (row,) = _rows()
    assert row.status == "failed" and "550" in row.last_error
    flag = db.session.get(AddressFlag, member.id)
    assert flag is not None and "550" in flag.reason
    assert db.session.get(AddressFlag, admin.id) is None

    auth.login(admin.account_code)
    page = client.get(f"/admin/members/{member.id}", headers={"Accept-Language": "en"})
    assert "Undeliverable e-mail address" in main_text(page)
    assert "No such user" in main_text(page)
    # The admin changes the address: the flag goes with the old one.
    members.update_profile(admin, member, members.ProfileData(
        display_name=member.display_name, full_name=member.full_name,
        email="new@example.org"))
    db.session.commit()
    assert db.session.get(AddressFlag, member.id) is None
    page = client.get(f"/admin/members/{member.id}", headers={"Accept-Language": "en"})
    assert "Undeliverable e-mail address" not in main_text(page)


def test_an_admin_clears_a_flag(
    app: Any, smtp: Server, make_member: Any, make_admin: Any, client: Any, auth: Any
) -> None:
    member = make_member()
    admin = make_admin(locale="en")
    smtp.reply = "554 5.7.1 Refused"
    send_after_commit(Mail(to=member.email, subject="Hello", body="Body"))
    db.session.commit()
    assert db.session.get(AddressFlag, member.id) is not None
    auth.login(admin.account_code)
    response = client.post_form(f"/admin/notifications/flags/{member.id}/clear")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(AddressFlag, member.id) is None


def test_a_4xx_after_the_last_attempt_is_undeliverable_but_flags_nobody(
    app: Any, smtp: Server, make_member: Any
) -> None:
    member = make_member()
    app.config["MAIL_MAX_ATTEMPTS"] = 1
    smtp.reply = "421 4.3.2 Busy"
    send_after_commit(Mail(to=member.email, subject="Hello", body="Body"))
    db.session.commit()
    assert _rows()[0].status == "failed"
    assert db.session.get(AddressFlag, member.id) is None


def test_the_admin_lists_undeliverable_mail_and_retries_it(
    app: Any, smtp: Server, make_admin: Any, client: Any, auth: Any
) -> None:
    admin = make_admin(locale="en")
    smtp.reply = "552 5.2.2 Mailbox full"
    send_after_commit(Mail(to="full@example.org", subject="The news", body="Body"))
    db.session.commit()
    smtp.reply = None
    send_after_commit(Mail(to="ok@example.org", subject="Other", body="Body"))
    db.session.commit()
    auth.login(admin.account_code)
    page = client.get("/admin/notifications/undeliverable",
                      headers={"Accept-Language": "en"})
    text = main_text(page)
    assert "full@example.org" in text and "The news" in text and "Mailbox full" in text
    failed = next(r for r in _rows() if r.recipient == "full@example.org")
    # A GET never retries; the button posts.
    assert client.get(f"/admin/notifications/undeliverable/{failed.id}/retry").status_code == 405
    response = client.post_form(f"/admin/notifications/undeliverable/{failed.id}/retry")
    assert response.status_code == 303
    (message,) = smtp.to("full@example.org")  # sent after the commit (inline mode)
    assert message["Message-ID"] == failed.message_id
    assert [r.status for r in _rows()] == ["sent", "sent"]
    page = client.get("/admin/notifications/undeliverable", headers={"Accept-Language": "en"})
    assert "full@example.org" not in main_text(page)
    # A sent mail cannot be "retried".
    client.post_form(f"/admin/notifications/undeliverable/{failed.id}/retry")
    assert len(smtp.to("full@example.org")) == 1


def test_a_crash_between_sending_and_marking_sends_no_duplicate_and_a_rerun_finishes(
    app: Any, smtp: Server
) -> None:
    """The sender dies after the server took the first mail and before it marked the row:
    its lease runs out, the rerun sends that row again with the same Message-ID (a server
    that honours it keeps one) and sends the rest."""
    app.config["MAIL_SEND_MODE"] = "cron"
    smtp.dedupe = True
    for i in range(3):
        send_after_commit(Mail(to=f"r{i}@example.org", subject=f"S{i}", body="Body"))
    db.session.commit()
    first = _rows()[0]
    claimed = mail._claim(app, first.id, 0)
    assert claimed is not None
    mail._deliver(app, claimed)  # ... and the process dies here, before _finish
    assert send_due(app).sent == 2  # the first is leased: the others go
    _due_now()  # the lease has run out
    report = send_due(app)
    assert report.sent == 1
    assert smtp.received_ids.count(first.message_id) == 2  # sent again, same Message-ID
    assert sorted(m["To"] for m in smtp.messages) == [
        "r0@example.org", "r1@example.org", "r2@example.org"]
    assert {r.status for r in _rows()} == {"sent"}
    assert send_due(app).sent == 0


def test_a_flagged_address_gets_no_optional_mail_but_still_what_the_member_needs(
    app: Any, smtp: Server, make_member: Any, make_admin: Any
) -> None:
    from lets_site.members.mailing import mail_to

    member = make_member(email="gone@example.org", locale="en")
    admin = make_admin()
    smtp.reply = "550 5.1.1 No such user"
    send_after_commit(Mail(to="gone@example.org", subject="Hello", body="Body"))
    db.session.commit()
    smtp.reply = None
    before = len(_rows())
    # A notification the member could switch off waits for a working address...
    assert mail_to(member, "Registered", "members/mail/reset.txt", kind="events.cancelled",
                   member=member, url="https://lets.example/x", minutes=30) is False
    # ...mail the member needs (here, a password reset) still goes.
    assert mail_to(member, "Reset", "members/mail/reset.txt", member=member,
                   url="https://lets.example/x", minutes=30) is True
    db.session.commit()
    assert len(_rows()) == before + 1
    # A new address lifts the flag: the notification goes again.
    members.update_profile(admin, member, members.ProfileData(
        display_name=member.display_name, full_name=member.full_name,
        email="new@example.org"))
    db.session.commit()
    assert mail_to(member, "Registered", "members/mail/reset.txt", kind="events.cancelled",
                   member=member, url="https://lets.example/x", minutes=30) is True


def test_a_busy_database_when_handing_mail_over_keeps_it_queued_with_a_warning(
    app: Any, smtp: Server, monkeypatch: Any, caplog: Any
) -> None:
    from sqlalchemy.exc import OperationalError

    def busy(_app: Any) -> None:
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    with monkeypatch.context() as patch:
        patch.setattr(mail, "send_due", busy)
        send_after_commit(Mail(to="a@example.org", subject="Hello", body="Body"))
        db.session.commit()  # the commit succeeds; the sender's next round sends it
    (row,) = _rows()
    assert row.status == "queued"
    records = [r for r in caplog.records if r.name == "lets_site.mail"]
    assert [r.levelname for r in records] == ["WARNING"]
    assert "database is locked" in records[0].getMessage()
    assert send_due(app).sent == 1 and smtp.to("a@example.org")
