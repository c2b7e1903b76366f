"""Ledger test helpers.

The shared ``app`` fixture keeps one app context open for the whole test, so Flask's ``g``
outlives each test-client request. Flask-WTF caches the CSRF token in ``g``: after a login
(which clears the session) the cached token no longer matches the session and every later
POST fails with "CSRF session token is missing". A real server starts each request with
a fresh ``g``; this fixture does the same for the test client.
"""

from __future__ import annotations

import pytest
from flask import Flask, g


@pytest.fixture(autouse=True)
def _fresh_g_per_request(app: Flask) -> None:
    @app.url_value_preprocessor
    def forget_cached_csrf(_endpoint: str | None, _values: dict | None) -> None:
        g.pop("csrf_token", None)
