"""Security headers on every response the app makes: every route of the gathered route
table for every role (pages, redirects to the login page, refusals), every error page
(400 from the request guard and from CSRF, 403, 404, 405, 413, 429, 500; as a page, as an
htmx partial and as JSON), static files and 304 answers, the page cache's own included.

What the servers in front of the app answer on their own (gunicorn's 400 for a malformed
request line, nginx's 502 while the app is down) cannot carry them; the README's nginx
example adds them to the static files nginx serves itself, and lets uploads just over the
app's limit through so that the app's own 413 page answers.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, abort, url_for

from tests.conftest import ROLES
from tests.test_routes import TABLE, fill


def assert_secure_headers(response: Any, what: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, (what, response.status_code, csp)
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, (what, csp)
    assert "default-src 'self'" in csp, (what, csp)
    assert headers.get("X-Content-Type-Options") == "nosniff", (what, response.status_code)
    assert headers.get("Referrer-Policy") == "same-origin", (what, response.status_code)
    assert headers.get("X-Frame-Options") == "DENY", (what, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_headers_on_every_route_for_every_role(client: Any, people: dict[str, Any],
                                               login_as: Any, role: str) -> None:
    login_as(role)
    statuses = set()
    for template in sorted(TABLE.routes):
        response = client.get(fill(TABLE, template, people))
        statuses.add(response.status_code)
        assert_secure_headers(response, f"{template} as {role}")
    assert statuses & {200, 302, 403, 404}


def test_headers_on_every_error_page(app: Flask, client: Any, people: dict[str, Any],
                                     auth: Any) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a real server's 500, not a test failure

    @app.route("/test-only/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    @app.route("/test-only/slow-down")
    def slow_down() -> str:
        abort(429)

    post_only = sorted(TABLE.post_only)[0].replace("<int:listing_id>", "1").replace(
        "<uid>", "x").replace("<int:member_id>", "1").replace("<slug>", "hedera")
    login = {"identifier": people["member"].account_code, "password": "wrong"}
    cases: list[tuple[str, int, Any]] = [
        ("untrusted host", 400, lambda h: client.get("/", headers={"Host": "evil.example", **h})),
        ("control character", 400, lambda h: client.get("/members/%00", headers=h)),
        ("bad escape", 400, lambda h: client.get("/?q=%ff", headers=h)),
        ("no CSRF token", 400, lambda h: client.post("/login", data=login, headers=h)),
        ("not found", 404, lambda h: client.get("/no/such/page", headers=h)),
        ("wrong method", 405, lambda h: client.get(post_only, headers=h)),
        ("too many", 429, lambda h: client.get("/test-only/slow-down", headers=h)),
        ("server error", 500, lambda h: client.get("/test-only/boom", headers=h)),
    ]
    kinds = {"page": {}, "htmx partial": {"HX-Request": "true"},
             "json": {"Accept": "application/json"}}
    for kind, headers in kinds.items():
        for name, status, send in cases:
            response = send(headers)
            assert response.status_code == status, (name, kind, response.status_code)
            assert_secure_headers(response, f"{name} ({kind})")

    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/join", data={"bio": "x" * 5000})
    assert response.status_code == 413
    assert_secure_headers(response, "too large")

    auth.login(people["member"].account_code)
    response = client.get("/admin/")
    assert response.status_code == 403
    assert_secure_headers(response, "refused")


def test_headers_on_static_files_and_304_answers(app: Flask, client: Any) -> None:
    with app.test_request_context():
        css = url_for("static", filename="css/site.css")
    response = client.get(css)
    assert response.status_code == 200
    assert_secure_headers(response, "static file")

    # The first answer is made by the app; the next ones come from the page cache, which
    # answers a matching ETag itself: both 304s carry the headers.
    first = client.get("/join/thanks")
    assert_secure_headers(first, "page")
    etag = first.headers["ETag"]
    for attempt in range(3):
        again = client.get("/join/thanks", headers={"If-None-Match": etag})
        assert again.status_code == 304, attempt
        assert_secure_headers(again, f"304 number {attempt + 1}")
