"""Mail goes through a real SMTP server on 127.0.0.1 when one is configured."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from sqlalchemy import select

from lets_site.cli import main as cli_main
from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.mail import Mail, OutboxMail, send_after_commit, send_due
from lets_site.members import services


class Collector(MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Any] = []

    def handle_message(self, message: Any) -> None:
        self.messages.append(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Collector, int]]:
    handler = Collector()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def test_invitation_arrives_at_the_smtp_server(
    app: Any, smtp_server: tuple[Collector, int], make_admin: Any
) -> None:
    handler, port = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                      MAIL_DEFAULT_SENDER="lets@example.org")
    admin = make_admin()
    services.create_member(
        admin,
        services.ProfileData(display_name="Nina", full_name="Nina N", email="nina@example.org"),
        "IE-300",
    )
    db.session.commit()
    (message,) = handler.messages
    assert message["To"] == "nina@example.org"
    assert message["From"] == "lets@example.org"
    assert "/invitation/" in message.get_payload(decode=True).decode()


def test_an_unreachable_mail_server_does_not_lose_the_change(
    app: Any, make_admin: Any, caplog: Any
) -> None:
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port(), MAIL_TIMEOUT=2)
    admin = make_admin()
    member = services.create_member(
        admin,
        services.ProfileData(display_name="Nina", full_name="Nina N", email="nina@example.org"),
        "IE-301",
    )
    db.session.commit()
    assert member.id is not None
    assert "could not send mail" in caplog.text


# --- The outbox --------------------------------------------------------------------------------

LINE_BREAKS = "\r\n\x0b\x0c\x1c\x85\u2028\u2029"


class Refusing(Collector):
    """A server that answers DATA with a fixed reply (a 4xx or a 5xx)."""

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return self.reply


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def _rows() -> list[OutboxMail]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def _queue(n: int = 1, **fields: Any) -> None:
    for i in range(n):
        values = {"to": f"r{i}@example.org", "subject": f"Subject {i}", "body": "Hello"}
        values.update(fields)
        send_after_commit(Mail(**values))


def test_mail_is_kept_with_the_change_and_dropped_with_a_rollback(app: Any) -> None:
    app.config["MAIL_SEND_MODE"] = "cron"
    _queue(subject="rolled back")
    db.session.rollback()
    assert _rows() == []
    _queue(subject="committed")
    db.session.commit()
    (row,) = _rows()
    assert (row.subject, row.status, row.attempts) == ("committed", "queued", 0)
    assert row.message_id.startswith("<") and row.message_id.endswith(">")


def test_cron_mode_sends_only_from_the_command(
    app: Any, runner: Any, smtp_server: tuple[Collector, int]
) -> None:
    handler, port = smtp_server
    app.config.update(MAIL_SEND_MODE="cron", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    _queue(2)
    db.session.commit()
    assert handler.messages == []
    result = runner.invoke(cli_main, ["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "Sent 2" in result.output
    assert sorted(m["To"] for m in handler.messages) == ["r0@example.org", "r1@example.org"]
    assert {row.status for row in _rows()} == {"sent"}
    assert [m["Message-ID"] for m in handler.messages] == [r.message_id for r in _rows()]
    # Nothing is sent twice.
    runner.invoke(cli_main, ["mail", "send"])
    assert len(handler.messages) == 2


@pytest.mark.real_commits  # the sender works in threads of its own
def test_join_answers_fast_when_the_mail_server_never_answers_and_cron_delivers_later(
    app: Any, client: Any, runner: Any, make_admin: Any, silent_server: int,
    smtp_server: tuple[Collector, int],
) -> None:
    from lets_site.mail import background_sender

    make_admin(email="admin@example.org")
    app.config.update(MAIL_SEND_MODE="background", MAIL_SERVER="127.0.0.1",
                      MAIL_PORT=silent_server, MAIL_TIMEOUT=3, MAIL_RETRY_SECONDS=0)
    token = client.csrf_token()
    started = time.monotonic()
    response = client.post("/join", data={
        "display_name": "Nina N.", "full_name": "Nina Nieuw", "email": "nina@example.org",
        "password": "a good long password", "password_confirm": "a good long password",
        "agree": "y", "csrf_token": token})
    elapsed = time.monotonic() - started
    assert response.status_code == 303
    assert elapsed < 1.5, f"/join took {elapsed:.2f} s"
    response.close()  # the server has sent the response: the sender starts
    background_sender(app).stop()  # waits for the sender's attempt to time out
    (row,) = _rows()
    assert row.status == "queued" and row.attempts == 1
    assert "timed out" in row.last_error or "Timeout" in row.last_error

    handler, port = smtp_server  # the server is back
    app.config["MAIL_PORT"] = port
    result = runner.invoke(cli_main, ["mail", "send"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(cli_main, ["mail", "send"]).exit_code == 0
    (message,) = handler.messages
    assert message["To"] == "admin@example.org"
    assert message["Message-ID"] == row.message_id
    (row,) = _rows()
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 2


@pytest.mark.real_commits  # the sender works in threads of its own
def test_forgot_password_for_a_known_address_does_not_wait_for_the_mail_server(
    app: Any, client: Any, make_member: Any, silent_server: int
) -> None:
    from lets_site.mail import background_sender

    make_member(email="known@example.org")
    app.config.update(MAIL_SEND_MODE="background", MAIL_SERVER="127.0.0.1",
                      MAIL_PORT=silent_server, MAIL_TIMEOUT=3)
    token = client.csrf_token("/password/forgot")
    started = time.monotonic()
    response = client.post("/password/forgot",
                           data={"email": "known@example.org", "csrf_token": token})
    elapsed = time.monotonic() - started
    response.close()
    background_sender(app).stop()
    assert response.status_code == 303
    assert elapsed < 1.5, f"/password/forgot took {elapsed:.2f} s"
    (row,) = _rows()
    assert row.recipient == "known@example.org" and row.status == "queued"


def test_a_line_separator_in_a_name_reaches_the_mail_server_as_a_clean_subject(
    app: Any, smtp_server: tuple[Collector, int], make_admin: Any
) -> None:
    handler, port = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    make_admin(email="admin@example.org")
    services.register_candidate(
        services.ProfileData(display_name="Nina\u2028Bcc: x@example.org", full_name="Nina N",
                             email="nina@example.org"),
        "a good long password",
    )
    db.session.commit()
    (message,) = handler.messages
    # The admin's language (Dutch by default) words the subject; the name is one line.
    assert message["Subject"].endswith(": Nina Bcc: x@example.org")
    assert not any(c in message["Subject"] for c in LINE_BREAKS)
    assert message["Bcc"] is None
    assert _rows()[0].status == "sent"


@pytest.mark.parametrize("char", list(LINE_BREAKS), ids=[f"U+{ord(c):04X}" for c in LINE_BREAKS])
def test_every_line_break_in_a_header_value_becomes_a_space(
    app: Any, smtp_server: tuple[Collector, int], char: str
) -> None:
    handler, port = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    _queue(to=f"a@example.org{char}", subject=f"Hello{char}X-Injected: yes",
           reply_to=f"b@example.org{char}")
    db.session.commit()
    (message,) = handler.messages
    assert message["Subject"] == "Hello X-Injected: yes"
    assert message["X-Injected"] is None
    assert message["To"] == "a@example.org" and message["Reply-To"] == "b@example.org"


def test_a_permanent_refusal_marks_the_row_failed_with_the_reason(
    app: Any, runner: Any
) -> None:
    handler = Refusing("554 5.7.1 Message refused")
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        _queue()
        db.session.commit()
        (row,) = _rows()
        assert row.status == "failed" and "554" in row.last_error
        result = runner.invoke(cli_main, ["mail", "send"])
        assert "Sent 0" in result.output
        assert _rows()[0].attempts == 1  # not retried
    finally:
        controller.stop()


def test_a_temporary_refusal_is_retried_later_with_back_off(app: Any) -> None:
    handler = Refusing("451 4.3.0 Try again later")
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_RETRY_SECONDS=60)
        _queue()
        db.session.commit()
        (row,) = _rows()
        assert row.status == "queued" and row.attempts == 1 and "451" in row.last_error
        wait = (row.next_attempt_at - utcnow()).total_seconds()
        assert 50 < wait <= 60
        assert send_due(app).sent == 0  # not due yet
    finally:
        controller.stop()


@pytest.mark.real_commits  # three senders race for the rows in threads of their own
def test_two_senders_never_send_one_row_twice(
    app: Any, smtp_server: tuple[Collector, int]
) -> None:
    handler, port = smtp_server
    app.config.update(MAIL_SEND_MODE="cron", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    _queue(12)
    db.session.commit()
    db.session.remove()
    reports: list[Any] = []
    barrier = threading.Barrier(3)

    def sender() -> None:
        barrier.wait()
        reports.append(send_due(app))

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.sent for r in reports) == 12
    assert sorted(m["To"] for m in handler.messages) == sorted(
        f"r{i}@example.org" for i in range(12))
    assert {row.status for row in _rows()} == {"sent"}


@pytest.mark.real_commits  # the sender works in threads of its own
def test_the_background_sender_delivers_after_a_real_servers_response(
    app: Any, make_member: Any, smtp_server: tuple[Collector, int]
) -> None:
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    from werkzeug.serving import make_server

    from lets_site.mail import background_sender

    handler, port = smtp_server
    make_member(email="known@example.org")
    db.session.commit()
    app.config.update(MAIL_SEND_MODE="background", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = opener.open(f"{base}/password/forgot", timeout=10).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"email": "known@example.org", "csrf_token": token})
        with opener.open(f"{base}/password/forgot", data=data.encode(), timeout=10) as answer:
            assert answer.status == 200  # after the redirect to /login
        deadline = time.monotonic() + 10
        while not handler.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        (message,) = handler.messages
        assert message["To"] == "known@example.org"
        assert _rows()[0].status == "sent"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        background_sender(app).stop()


def test_a_savepoint_rollback_keeps_the_mail_of_the_outer_transaction(app: Any) -> None:
    _queue(subject="outer")
    try:
        with db.session.begin_nested():
            _queue(subject="inner")
            raise RuntimeError("undo the savepoint")
    except RuntimeError:
        pass
    db.session.commit()
    (row,) = _rows()
    assert row.subject == "outer" and row.status == "sent"  # inline mode sent it at once
