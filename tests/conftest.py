"""Fixtures after the Flask tutorial: app, client, runner, auth, factories, roles.

The database is SQLite in a temporary folder, or the PostgreSQL database named by
LETS_TEST_DATABASE_URL (CI runs the suite both ways)."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import os
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_babel import force_locale

from lets_site import create_app
from lets_site.extensions import db
from tests import factories

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# --- Network guard: nothing leaves the machine -----------------------------------------------

_real_connect = socket.socket.connect


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
        if host in ("localhost",):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return isinstance(address, (str, bytes))  # unix sockets


@pytest.fixture(autouse=True)
def _block_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def guarded(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise RuntimeError(f"test tried to connect to {address!r}: only loopback is allowed")
        return _real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


# --- App and database -------------------------------------------------------------------------


def app_config(tmp_path: Path) -> dict[str, Any]:
    url = os.environ.get("LETS_TEST_DATABASE_URL")
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATABASE_URL": url or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "SECURE_COOKIES": False,
        "MAIL_SERVER": None,
        # Queued mail is sent right after the commit, so tests can read it at once.
        "MAIL_SEND_MODE": "inline",
        "SERVER_NAME": None,
        # The test client sends Host: localhost; live servers listen on 127.0.0.1.
        "BASE_URL": "http://localhost",
        "TRUSTED_HOSTS": ["localhost", "127.0.0.1"],
    }


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path / "instance"))
    app = create_app(app_config(tmp_path))
    # Messages raised outside a request read in English in the tests.
    with app.app_context(), force_locale("en"):
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


class Client(FlaskClient):
    """A test client whose ``post_form`` sends the CSRF token a browser would send.

    Each request runs in an app context of its own (its own ``g`` and database session),
    as it would in production; the test's own session ends its transaction first, so what
    the test reads afterwards is what the request committed."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # Tests read English messages unless they ask for another language.
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Accept-Language", "en")
        kwargs["headers"] = headers
        if has_app_context():
            db.session.rollback()
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self, path: str = "/join") -> str:
        response = self.get(path)
        match = CSRF_RE.search(response.get_data(as_text=True))
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post_form(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


@pytest.fixture
def client(app: Flask) -> Client:
    app.test_client_class = Client
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client: Client) -> None:
        self._client = client

    def login(self, identifier: str, password: str = factories.PASSWORD) -> Any:
        return self._client.post_form(
            "/login", {"identifier": identifier, "password": password}
        )

    def logout(self) -> Any:
        return self._client.post_form("/logout")


@pytest.fixture
def auth(client: Client) -> AuthActions:
    return AuthActions(client)


# --- Factories as fixtures --------------------------------------------------------------------


@pytest.fixture
def make_member(app: Flask) -> Callable[..., Any]:
    return factories.make_member


@pytest.fixture
def make_admin(app: Flask) -> Callable[..., Any]:
    return factories.make_admin


@pytest.fixture
def make_candidate(app: Flask) -> Callable[..., Any]:
    return factories.make_candidate


@pytest.fixture
def make_organisation(app: Flask) -> Callable[..., Any]:
    return factories.make_organisation


@pytest.fixture
def outbox(app: Flask) -> Callable[[], list[str]]:
    """The messages written to instance/outbox (no MAIL_SERVER configured), oldest first,
    as text: the To and Subject headers, a blank line and the decoded body."""

    def read() -> list[str]:
        folder = Path(app.instance_path) / "outbox"
        if not folder.exists():
            return []
        return [as_text(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]

    return read


def as_text(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(("plain",))
    content = body.get_content() if body is not None else ""
    return f"To: {message['To']}\nSubject: {message['Subject']}\n\n{content}"


# --- Roles ------------------------------------------------------------------------------------

ROLES = ("anonymous", "member", "intermediary", "admin", "other_org_member")


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    """One person per role, and two organisations: ``org`` (with the intermediary) and
    ``other_org`` (with other_org_member as its intermediary)."""
    member = factories.make_member(display_name="Mia Member")
    intermediary = factories.make_member(display_name="Ivo Intermediary")
    admin = factories.make_admin(display_name="Ada Admin")
    other = factories.make_member(display_name="Otto Other")
    org = factories.make_organisation(intermediaries=[intermediary], name="Hedera", slug="hedera")
    other_org = factories.make_organisation(intermediaries=[other], name="Vondels",
                                            slug="vondels")
    return {
        "member": member,
        "intermediary": intermediary,
        "admin": admin,
        "other_org_member": other,
        "org": org,
        "other_org": other_org,
    }


@pytest.fixture
def login_as(client: Client, auth: AuthActions, people: dict[str, Any]) -> Callable[[str], Any]:
    def login(role: str) -> Any:
        if role == "anonymous":
            return None
        person = people[role]
        response = auth.login(person.account_code)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return person

    return login
