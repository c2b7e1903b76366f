"""A real SMTP server on 127.0.0.1 for the digest's tests, and small factories."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from flask import Flask


class Collector(MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.raw: list[bytes] = []

    def handle_message(self, message: Any) -> None:
        self.raw.append(message.as_bytes())

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]
                for raw in self.raw]

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(app: Flask) -> Iterator[Collector]:
    """The app sends to a real SMTP server on 127.0.0.1; the test reads what arrived."""
    handler = Collector()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                      MAIL_DEFAULT_SENDER="lets@example.org", BASE_URL="https://lets.example")
    try:
        yield handler
    finally:
        controller.stop()


def text_of(message: email.message.EmailMessage) -> str:
    part = message.get_body(("plain",))
    return part.get_content() if part is not None else ""  # type: ignore[union-attr]


def html_of(message: email.message.EmailMessage) -> str:
    part = message.get_body(("html",))
    return part.get_content() if part is not None else ""  # type: ignore[union-attr]
