"""A real SMTP server on 127.0.0.1 that keeps what it receives (and may refuse)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from flask import Flask


class Server:
    """Keeps each message; ``reply`` (a 4xx or 5xx line) refuses DATA instead; with
    ``dedupe`` it keeps a Message-ID it has seen once only, as a server that honours it."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.received_ids: list[str] = []
        self.reply: str | None = None
        self.dedupe = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply:
            return self.reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received_ids.append(str(message["Message-ID"]))
        if self.dedupe and any(m["Message-ID"] == message["Message-ID"] for m in self.messages):
            return "250 OK (duplicate dropped)"
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(app: Flask) -> Iterator[Server]:
    """Inline sending to a real server: a commit's mail has arrived when commit returns."""
    handler = Server()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                      MAIL_DEFAULT_SENDER="lets@example.org", MAIL_RETRY_SECONDS=0)
    try:
        yield handler
    finally:
        controller.stop()


def body(message: email.message.EmailMessage) -> str:
    part = message.get_body(("plain",))
    return part.get_content() if part is not None else ""


def link(message: email.message.EmailMessage, marker: str) -> str:
    """The path of the first link in the body that contains ``marker``."""
    for word in body(message).split():
        if word.startswith("http") and marker in word:
            url = urlsplit(word)
            return url.path + (f"?{url.query}" if url.query else "")
    raise AssertionError(f"no link with {marker!r} in:\n{body(message)}")


@pytest.fixture
def read_body() -> Callable[[Any], str]:
    return body
