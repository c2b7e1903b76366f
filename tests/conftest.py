"""Fixtures after the Flask tutorial: app, client, runner, auth, factories, roles.

The database is SQLite in a temporary folder, or the PostgreSQL database named by
LETS_TEST_DATABASE_URL (CI runs the suite both ways). Its schema is built once per test
session; each test runs inside one transaction that is rolled back at its end (see
``app``). A test marked ``real_commits`` gets a database of its own that really commits
(servers in other threads or processes, migrations, concurrent connections)."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import os
import re
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import werkzeug.security
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_sqlalchemy.session import Session as FlaskSession
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import close_all_sessions

from lets_site import create_app
from lets_site.extensions import db
from tests import factories

# Passwords the app hashes in tests (joining, resets, the equal-timing dummy hash made at
# import) use a cheap method: scrypt, werkzeug's default, costs 0.1 s of CPU per hash by
# design. Set before lets_site is imported (below) so the dummy hash is cheap too; servers
# and commands run in subprocesses keep the real default.
_hash_defaults = werkzeug.security.generate_password_hash.__defaults__
werkzeug.security.generate_password_hash.__defaults__ = ("pbkdf2:sha256:1000",
                                                         *(_hash_defaults or ())[1:])

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


def app_config(tmp_path: Path, database_url: str | None = None) -> dict[str, Any]:
    url = database_url or os.environ.get("LETS_TEST_DATABASE_URL")
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


class SharedDatabase:
    """The database the rolled-back tests share: its schema is built at first use and
    again after a test that really committed dropped it (PostgreSQL has one database for
    both kinds of test)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.built = False
        # One engine for every rolled-back test: its pool keeps the connection open and
        # its statement cache (keyed by the engine's dialect) stays warm.
        self.engine: Engine | None = None

    def ensure_schema(self) -> None:
        """Build the schema (in the current app context) unless it stands already."""
        if not self.built:
            db.drop_all()
            db.create_all()
            self.built = True


_shared: SharedDatabase | None = None


@pytest.fixture(scope="session")
def shared_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedDatabase]:
    global _shared
    url = (os.environ.get("LETS_TEST_DATABASE_URL")
           or f"sqlite:///{tmp_path_factory.mktemp('shared-db') / 'test.sqlite3'}")
    _shared = shared = SharedDatabase(url)
    yield shared
    _shared = None
    if shared.engine is not None:
        shared.engine.dispose()
    if url.startswith("sqlite"):
        return  # the file goes with the temporary folder
    app = create_app(app_config(tmp_path_factory.mktemp("teardown"), url))
    with app.app_context():
        db.drop_all()  # leave the database as empty as each test used to
        db.engine.dispose()


def forget_schema_of(url: str) -> None:
    """Called by a fixture that drops the tables at ``url``: if that is the shared database
    (on PostgreSQL there is only one), the next rolled-back test builds the schema again."""
    if _shared is not None and url == _shared.url:
        _shared.built = False


@contextmanager
def own_database(url: str) -> Iterator[None]:
    """Build the schema in a database that really commits, drop it afterwards (in the
    current app context). On PostgreSQL that database is the shared one, so the next
    rolled-back test builds the schema again."""
    forget_schema_of(url)
    db.drop_all()
    db.create_all()
    try:
        yield
    finally:
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


# The connection each rolled-back test's engine hands out, by engine.
_joined: dict[Engine, Connection] = {}


class JoinedSession(FlaskSession):
    """A session that, for an engine of a rolled-back test, uses the test's connection:
    its transaction is then a savepoint (``join_transaction_mode="create_savepoint"``)
    that its commit releases and its rollback undoes, and ``after_commit`` hooks still
    run after each commit."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        bind = super().get_bind(*args, **kwargs)
        return _joined.get(bind, bind)


class SavepointConnection:
    """What ``engine.connect()`` gives inside a rolled-back test: the test's connection,
    whose work runs in a savepoint that ``commit()`` keeps and ``rollback()`` or ``close()``
    undoes, as they would a real connection's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._savepoint: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __enter__(self) -> SavepointConnection:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _begin(self) -> None:
        if self._savepoint is None or not self._savepoint.is_active:
            self._savepoint = self._connection.begin_nested()

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._begin()
        return self._connection.execute(*args, **kwargs)

    def exec_driver_sql(self, *args: Any, **kwargs: Any) -> Any:
        self._begin()
        return self._connection.exec_driver_sql(*args, **kwargs)

    @contextmanager
    def begin(self) -> Iterator[SavepointConnection]:
        self._begin()
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def commit(self) -> None:
        if self._savepoint is not None and self._savepoint.is_active:
            self._savepoint.commit()
        self._savepoint = None

    def rollback(self) -> None:
        if self._savepoint is not None and self._savepoint.is_active:
            self._savepoint.rollback()
        self._savepoint = None

    close = rollback


@contextmanager
def rolled_back(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run the test on one connection of the current app's engine, inside a transaction
    rolled back at its end. Sessions (the test's, and each request's in its own app
    context) join it through savepoints; Core code that asks the engine for a connection
    or a transaction (the mail sender) gets a savepoint on the same connection."""
    engine = db.engine
    connection = engine.connect()
    outer = connection.begin()
    _joined[engine] = connection
    monkeypatch.setattr(db.session.session_factory, "class_", JoinedSession)
    monkeypatch.setitem(db.session.session_factory.kw, "join_transaction_mode",
                        "create_savepoint")
    monkeypatch.setattr(engine, "connect", lambda: SavepointConnection(connection))

    @contextmanager
    def begin() -> Iterator[Connection]:
        with connection.begin_nested():
            yield connection

    monkeypatch.setattr(engine, "begin", begin)
    try:
        yield
    finally:
        # Every session of this test, also one left behind by a request whose streamed
        # response was never closed: the registry is keyed by id(app context), and a
        # later context at the same address must not find a session of a closed test.
        close_all_sessions()
        db.session.registry.clear()
        del _joined[engine]
        if outer.is_active:
            outer.rollback()
        connection.close()  # back to the pool, for the next test


class MemoryBytecodeCache(BytecodeCache):
    """Compiled templates kept for the whole session: each test has an app (and a Jinja
    environment) of its own, but the templates need compiling only once. Jinja checks the
    source's checksum, so an edited template is compiled again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_templates = MemoryBytecodeCache()


def make_test_app(request: pytest.FixtureRequest, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch, features: Sequence[Any] = ()
                  ) -> Iterator[Flask]:
    """The app of one test: on the shared database in a rolled-back transaction, or, for a
    test marked ``real_commits``, on a database of its own."""
    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path / "instance"))
    real = request.node.get_closest_marker("real_commits") is not None
    shared: SharedDatabase = request.getfixturevalue("shared_database")
    app = create_app(app_config(tmp_path, None if real else shared.url), features=features)
    app.jinja_env.bytecode_cache = _templates
    # Messages raised outside a request read in English in the tests.
    with app.app_context(), force_locale("en"):
        if real:
            with own_database(app.config["DATABASE_URL"]):
                yield app
        else:
            share_engine(app, shared)
            shared.ensure_schema()
            with rolled_back(monkeypatch):
                yield app


def share_engine(app: Flask, shared: SharedDatabase) -> None:
    """Give ``app`` the session's engine instead of its own (Flask-SQLAlchemy keeps each
    app's engines in ``_app_engines``; its own was never connected)."""
    own = db.engines[None]
    if shared.engine is None:
        shared.engine = own
        return
    db._app_engines[app] = {None: shared.engine}
    own.dispose()


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    yield from make_test_app(request, tmp_path, monkeypatch)


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
            response = super().open(*args, **kwargs)
            if response.is_streamed:
                # Read a streamed response (the CSV statement) to its end and close it
                # here, as a browser would: its request context and database session end
                # now, in order, not whenever the test drops the response.
                response.make_sequence()
                response.close()
            return response

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


def logged_in(app: Flask, member: Any) -> Client:
    """A client of its own (another browser) of ``app`` with ``member`` logged in."""
    app.test_client_class = Client
    browser: Client = app.test_client()  # type: ignore[assignment]
    assert AuthActions(browser).login(member.account_code).status_code == 303
    return browser


@pytest.fixture
def second_worker(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """Another app on the same database and instance folder (LETS_INSTANCE): another
    worker process. Its connections are closed afterwards, as a worker's are at exit."""
    other = create_app(app_config(tmp_path, app.config["DATABASE_URL"]))
    other.test_client_class = Client
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


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
