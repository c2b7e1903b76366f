"""Mail goes through a real SMTP server on 127.0.0.1 when one is configured."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

from lets_site.extensions import db
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
