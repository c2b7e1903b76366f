"""A live server with the real app, Debian's Chromium through Playwright, and w3m.

The server is the real WSGI app in a werkzeug server thread on 127.0.0.1 on a free port,
with its own database: a temporary SQLite file, or the PostgreSQL database named by
LETS_TEST_DATABASE_URL (CI runs the browser tests once, on SQLite: what a browser receives
does not depend on the database). Chromium is Debian's (/usr/bin/chromium), never a browser
downloaded by Playwright.

Without Chromium or w3m the tests that need them are skipped, except under CI=true, where a
missing tool is a failure: CI installs them, so their absence there is a broken build.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from lets_site import create_app
from lets_site.extensions import db
from tests import factories
from tests.conftest import app_config, forget_schema_of

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def require_tool(path: str | None, name: str) -> str:
    """The tool's path; else skip, or fail under CI (where .ci/run installs it)."""
    if path and Path(path).exists():
        return path
    message = f"{name} is not installed (apt-get install {name})"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message}: CI must install it", pytrace=False)
    pytest.skip(message)


@dataclass
class LiveServer:
    url: str
    app: Flask
    admin_code: str

    def run(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` in an app context of the served app (factories, queries)."""
        with self.app.app_context():
            return fn()


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path / "instance"))
    app = create_app(app_config(tmp_path))
    with app.app_context():
        forget_schema_of(app.config["DATABASE_URL"])  # PostgreSQL: the one test database
        db.drop_all()
        db.create_all()
        admin = factories.make_admin(display_name="Ada Admin")
        admin_code = admin.account_code
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app,
                         admin_code=admin_code)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_tool(CHROMIUM, "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def w3m() -> str:
    return require_tool(shutil.which("w3m"), "w3m")


@pytest.fixture
def w3m_env(tmp_path: Path) -> dict[str, str]:
    """A clean HOME (no personal w3m settings or cookies) and a plain terminal."""
    home = tmp_path / "home"
    home.mkdir()
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "TERM": "xterm", "LANG": "C.UTF-8"}
