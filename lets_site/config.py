"""Configuration chain: defaults, then ``instance/config.py``, then ``LETS_*`` environment
variables, then the mapping a test passes to ``create_app``.

Every setting can be given as an environment variable with the ``LETS_`` prefix, for example
``LETS_DATABASE_URL`` or ``LETS_MAIL_SERVER``. Values are parsed as JSON when they can be
(``LETS_MAIL_PORT=587`` is a number, ``LETS_SECURE_COOKIES=false`` a boolean).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    # Empty means: use ``instance/secret_key`` (generated on first run).
    SECRET_KEY: str | None = None
    # Empty means: SQLite file ``lets.sqlite3`` in the instance folder.
    DATABASE_URL: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}

    # Cookies: Secure by default; the demo and tests run over plain http on 127.0.0.1.
    SECURE_COOKIES = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)

    # Large enough to refuse an oversized photo with a clear message, not a broken connection.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 1024 * 1024

    WTF_CSRF_TIME_LIMIT = 8 * 3600

    BABEL_DEFAULT_LOCALE = "nl"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("nl", "fr", "en")

    # Mail: with no MAIL_SERVER, messages are written to instance/outbox/ and to the log.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "lets-site@localhost"
    MAIL_TIMEOUT = 10
    # How queued mail (the mail_outbox table) is sent after the commit: "background" (a
    # thread in the web process), "inline" (right after the commit, in the same thread:
    # tests) or "cron" (only `lets-site mail send`). See lets_site/mail.py.
    MAIL_SEND_MODE = "background"
    # First retry after a temporary failure; the wait doubles each time (at most 6 hours).
    MAIL_RETRY_SECONDS = 60
    MAIL_MAX_ATTEMPTS = 10
    # The background sender also looks for due retries this often.
    MAIL_POLL_SECONDS = 60

    # The site's public address. Every absolute URL written outside a page (mails, and any
    # feed, calendar or CSV link) is built from it, never from the request's Host header.
    BASE_URL = "http://127.0.0.1:5000"
    # Host names the site answers to (Flask's TRUSTED_HOSTS); a request for any other host,
    # directly or through X-Forwarded-Host, gets a 400. None means: the host of BASE_URL
    # (for a loopback BASE_URL: 127.0.0.1 and localhost). A leading dot accepts subdomains;
    # ["*"] accepts any host (not for a public site). Environment: LETS_TRUSTED_HOSTS,
    # a JSON list or comma-separated names.
    TRUSTED_HOSTS: list[str] | None = None

    # Throttling of failed logins and password-reset requests.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_THROTTLE_WINDOW_MINUTES = 15
    RESET_MAX_PER_ADDRESS = 5
    RESET_WINDOW_MINUTES = 60
    # Applications through /join per client address.
    JOIN_MAX_PER_ADDRESS = 5
    JOIN_WINDOW_MINUTES = 60

    INVITATION_MAX_AGE_DAYS = 7
    RESET_MAX_AGE_MINUTES = 60

    # Number of reverse proxies in front of the app that set X-Forwarded-For/-Proto.
    PROXY_COUNT = 0

    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/plain",
        "text/csv",
        "text/calendar",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/feed+json",
        "application/atom+xml",
        "image/svg+xml",
    ]
    COMPRESS_MIN_SIZE = 256

    # Anonymous full-page cache (lets_site/web/pagecache.py): seconds a page is kept at
    # most (0 turns the cache off), and per-process bounds.
    PAGE_CACHE_SECONDS = 60
    PAGE_CACHE_MAX_ENTRIES = 500
    PAGE_CACHE_MAX_BYTES = 16 * 1024 * 1024
    # HTML kept per process for everyone with the same roles (lets_site/fragments.py: the
    # offers list, the home page's and the layout's shared panels): on or off, and bounds.
    FRAGMENT_CACHE = True
    FRAGMENT_CACHE_ENTRIES = 256
    FRAGMENT_CACHE_BYTES = 4 * 1024 * 1024

    # Backups (lets_site/backups.py, docs/operations.md): the folder (empty: instance/
    # backups) and how many verified backups `lets-site backup` keeps (0: all).
    BACKUP_DIR: str | None = None
    BACKUP_KEEP = 14
    # /healthz: seconds the oldest queued mail and the newest verified backup may be old
    # before the check fails (0 switches the backup check off).
    HEALTH_OUTBOX_MAX_AGE = 3600
    HEALTH_BACKUP_MAX_AGE = 26 * 3600


def _instance_path() -> str:
    return str(Path(os.environ.get("LETS_INSTANCE", PROJECT_ROOT / "instance")).resolve())


def _ensure_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()


LOOPBACK_NAMES = ("127.0.0.1", "localhost")


def trusted_hosts(config: Mapping[str, Any]) -> list[str] | None:
    """The TRUSTED_HOSTS setting as a list of names, or None for any host."""
    value = config.get("TRUSTED_HOSTS")
    if value is None:
        host = (urlsplit(str(config.get("BASE_URL") or "")).hostname or "").lower()
        value = list(LOOPBACK_NAMES) if host in (*LOOPBACK_NAMES, "::1") else [host]
    if isinstance(value, str):
        value = value.split(",")
    hosts = [str(name).strip().lower() for name in value if str(name).strip()]
    if "*" in hosts:
        return None
    if not hosts:
        # Werkzeug reads an empty list as "any host"; say so instead of failing open quietly.
        raise ValueError("TRUSTED_HOSTS is empty and BASE_URL has no host name")
    return hosts


def load_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env(prefix="LETS")
    if test_config is not None:
        app.config.from_mapping(test_config)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _ensure_secret_key(app)

    url = app.config.get("DATABASE_URL") or (
        "sqlite:///" + str(Path(app.instance_path) / "lets.sqlite3")
    )
    if url.startswith("postgres://"):  # the form some hosts hand out
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = url

    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)

    secure = bool(app.config["SECURE_COOKIES"])
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_SECURE"] = secure
