"""The session cookie verified once per worker and the signed CSRF token reused within a
session (lets_site/web/sessions.py): less work per logged-in request, the same protection.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from flask import Flask
from itsdangerous.signer import Signer
from itsdangerous.timed import TimestampSigner

from lets_site.web import sessions
from tests.conftest import CSRF_RE, AuthActions, Client


@pytest.fixture
def ticking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every signature gets a new timestamp, one second after the last (without reuse,
    two pages of one session then carry different tokens even within a second)."""
    clock = itertools.count(int(time.time()))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: next(clock))


def _token(client: Client, path: str = "/language") -> str:
    match = CSRF_RE.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    start = time.time()
    monkeypatch.setattr(sessions, "_now", lambda: start + seconds)


def test_a_session_gets_one_signed_token_and_it_passes_a_post(
        ticking: None, client: Client, login_as: Any) -> None:
    login_as("member")
    first = _token(client)
    assert _token(client, "/offers/") == first
    assert _token(client) == first
    response = client.post("/logout", data={"csrf_token": first})
    assert response.status_code == 303
    assert client.get("/ledger/").status_code == 302  # logged out


def test_the_token_is_tied_to_its_session(ticking: None, app: Flask, client: Client,
                                          login_as: Any, people: dict[str, Any]) -> None:
    login_as("member")
    token = _token(client)
    other = app.test_client()
    assert AuthActions(other).login(people["admin"].account_code).status_code == 303  # type: ignore[arg-type]
    assert _token(other) != token
    refused = other.post("/logout", data={"csrf_token": token})
    assert refused.status_code == 400
    assert other.get("/ledger/").status_code == 200  # still logged in


def test_logging_in_and_out_gives_a_new_token(ticking: None, client: Client,
                                               auth: AuthActions, login_as: Any) -> None:
    visitor = _token(client, "/login")
    login_as("member")
    member = _token(client)
    assert member != visitor
    assert auth.logout().status_code == 303
    assert _token(client, "/login") not in (visitor, member)


def test_a_token_is_reused_for_its_window_and_signed_again_after(
        ticking: None, app: Flask, client: Client, login_as: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    window = sessions.reuse_seconds(app)
    assert window == min(1800, app.config["WTF_CSRF_TIME_LIMIT"] / 16)
    login_as("member")
    first = _token(client)
    parts = sessions._signed_token_parts(first)
    assert parts is not None
    signed_at = parts[1]  # the token's own timestamp (the ticking clock's)
    monkeypatch.setattr(sessions, "_now", lambda: signed_at + window - 1)
    assert _token(client) == first
    monkeypatch.setattr(sessions, "_now", lambda: signed_at + window)
    second = _token(client)
    assert second != first
    assert client.post("/logout", data={"csrf_token": second}).status_code == 303


def test_a_verified_cookie_is_not_verified_again(client: Client, login_as: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    login_as("member")
    client.get("/language")  # after login: the cookie as it stays
    client.get("/language")  # that cookie verified once
    checks: list[bytes] = []
    verify = Signer.verify_signature

    def counted(self: Signer, value: bytes, sig: bytes) -> bool:
        checks.append(value)
        return verify(self, value, sig)

    monkeypatch.setattr(Signer, "verify_signature", counted)
    for _ in range(2):
        response = client.get("/ledger/")
        assert response.status_code == 200, response.headers.get("Set-Cookie")
    assert checks == []


def test_a_changed_cookie_is_verified_and_a_forged_one_refused(
        app: Flask, client: Client, login_as: Any) -> None:
    login_as("member")
    assert client.get("/ledger/").status_code == 200
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    value = cookie.value
    forged = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], forged)
    assert client.get("/ledger/").status_code == 302
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    assert client.get("/ledger/").status_code == 200


def test_a_kept_cookie_still_expires(app: Flask, client: Client, login_as: Any,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    login_as("member")
    assert client.get("/ledger/").status_code == 200
    lifetime = app.permanent_session_lifetime.total_seconds()
    _later(monkeypatch, lifetime - 60)
    assert client.get("/ledger/").status_code == 200
    _later(monkeypatch, lifetime + 60)
    monkeypatch.setattr(TimestampSigner, "get_timestamp",
                        lambda self: int(time.time() + lifetime + 60))
    assert client.get("/ledger/").status_code == 302


def test_the_stores_are_bounded() -> None:
    kept = sessions._Kept(2)
    for key in ("a", "b", "c"):
        kept.put(key, key)
    assert kept.get("a") is None and kept.get("b") == "b" and kept.get("c") == "c"
    kept.get("b")
    kept.put("d", "d")
    assert kept.get("c") is None and kept.get("b") == "b"
