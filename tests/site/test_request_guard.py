"""The WSGI guard (lets_site/web/guard.py): cookies that are not UTF-8 are ignored, and
control characters or bad percent-escapes in paths and queries get a 400, never a 500
(issue 7, findings 4 and 6)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

BAD_COOKIES = ["a=\xff", "\xff\xfe=1", "lang=\xffnl", "x=\xc3(", "y=\x00"]


def body(response: Any) -> str:
    return response.get_data(as_text=True)


# --- Finding 4: bytes that are not UTF-8 in the Cookie header --------------------------------


def raw_cookie_client(app: Flask) -> Any:
    """A client that sends the Cookie header it is given, byte for byte (latin-1 string),
    instead of its cookie jar."""
    return app.test_client(use_cookies=False)


@pytest.mark.parametrize("cookie", BAD_COOKIES)
@pytest.mark.parametrize("path", ["/", "/offers/", "/static/css/site.css"])
def test_bad_cookie_bytes_are_ignored(app: Flask, path: str, cookie: str) -> None:
    response = raw_cookie_client(app).get(path, headers={"Cookie": cookie})
    assert response.status_code == 200


@pytest.mark.parametrize("cookie", BAD_COOKIES)
def test_bad_cookie_next_to_a_session_keeps_the_session(app: Flask, client: Any, login_as: Any,
                                                        cookie: str) -> None:
    login_as("member")
    session = client.get_cookie("session")
    assert session is not None
    raw = f"{cookie}; session={session.value}; lang=en"
    response = raw_cookie_client(app).get("/members/", headers={"Cookie": raw})
    assert response.status_code == 200 and "Mia Member" in body(response)


# --- Finding 6: control characters in paths and queries ---------------------------------------


@pytest.mark.parametrize("url", [
    "/members/%00", "/organisations/%00", "/ledger/accounts/%00", "/offers/%00",
    "/offers/?q=%00", "/offers/?q=tuin%01", "/members/?q=%00", "/offers/?postcode=%1b",
    "/login?next=%00", "/offers/?q=%C2%85", "/members/a%7fb",
    "/offers/?q=%ff", "/offers/?q=%C3%28", "/members/?q=%e9t%e9",
])
def test_control_characters_and_bad_escapes_in_urls_get_400(client: Any, login_as: Any,
                                                            url: str) -> None:
    login_as("member")
    response = client.get(url)
    assert response.status_code == 400, url
    assert "characters that are not allowed" in body(response)


@pytest.mark.parametrize("path", ["/members/\xff", "/offers/\xc3(", "/\x00"])
def test_raw_path_bytes_that_are_not_utf8_get_400(client: Any, path: str) -> None:
    response = client.get("/", environ_overrides={"PATH_INFO": path})
    assert response.status_code == 400


def test_ordinary_urls_still_pass(client: Any, login_as: Any) -> None:
    login_as("member")
    for url in ("/offers/?q=caf%C3%A9+%C3%A0+la+cr%C3%A8me", "/members/?q=8900",
                "/ledger/pay?for=line%0Aanother", "/offers/?q=tuin&page=2"):
        assert client.get(url).status_code == 200, url
