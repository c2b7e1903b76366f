"""Links in mails come from BASE_URL only, and the site answers only to its trusted hosts,
also through X-Forwarded-Host behind a proxy (issue 7, finding 1)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lets_site import create_app
from lets_site.config import trusted_hosts
from tests import factories
from tests.conftest import Client, app_config, own_database

ATTACKER = "attacker.example"


def _forgot(client: Client, email: str, **kwargs: Any) -> Any:
    token = client.csrf_token("/password/forgot")
    return client.post("/password/forgot", data={"email": email, "csrf_token": token}, **kwargs)


def _join(client: Client, email: str, **kwargs: Any) -> Any:
    token = client.csrf_token("/join")
    data = {"display_name": "Nieuw Lid", "full_name": "Nieuw Lid", "email": email,
            "postcode": "8900", "agree": "y", "password": "a long enough password",
            "password_confirm": "a long enough password", "csrf_token": token}
    return client.post("/join", data=data, **kwargs)


def test_reset_mail_links_to_base_url_not_to_the_request_host(
    app: Flask, client: Client, outbox: Any
) -> None:
    app.config["BASE_URL"] = "https://lets.example.org/site"
    factories.make_member(email="reset@example.org")
    response = _forgot(client, "reset@example.org")
    assert response.status_code == 303
    (mail,) = outbox()
    links = re.findall(r"\w+://[^\s]+", mail)
    assert links and all(link.startswith("https://lets.example.org/site/") for link in links)
    assert "/site/password/reset/" in links[0]
    assert "localhost" not in mail


@pytest.mark.parametrize("form", [_forgot, _join])
def test_untrusted_host_header_is_refused_and_sends_nothing(
    client: Client, make_admin: Any, outbox: Any, form: Any
) -> None:
    make_admin(email="admin@example.org")
    factories.make_member(email="victim@example.org")
    email = "victim@example.org" if form is _forgot else "new@example.org"
    response = form(client, email, headers={"Host": ATTACKER})
    assert response.status_code == 400
    assert "does not answer to that address" in response.get_data(as_text=True)
    assert ATTACKER not in response.get_data(as_text=True)
    assert outbox() == []
    # The same form on the real host goes through (the refusal is about the host).
    assert form(client, email).status_code == 303
    assert outbox() and all(ATTACKER not in mail for mail in outbox())


def test_untrusted_host_gets_a_400_page_on_get_too(client: Client) -> None:
    response = client.get("/offers/", headers={"Host": f"{ATTACKER}:80"})
    assert response.status_code == 400
    assert 'href="/' in response.get_data(as_text=True)  # the page could build its links


@pytest.fixture
def proxied_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The app as it runs behind one reverse proxy (PROXY_COUNT=1)."""
    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path / "instance"))
    app = create_app({**app_config(tmp_path), "PROXY_COUNT": 1,
                      "BASE_URL": "https://lets.example.org",
                      "TRUSTED_HOSTS": ["lets.example.org"]})
    app.test_client_class = Client
    with app.app_context(), own_database(app.config["DATABASE_URL"]):
        yield app


@pytest.mark.parametrize("form", [_forgot, _join])
def test_forwarded_host_is_checked_behind_a_proxy(proxied_app: Flask, form: Any) -> None:
    factories.make_admin(email="admin@example.org")
    factories.make_member(email="victim@example.org")
    client = proxied_app.test_client()
    # What the proxy sends with every request: its own Host, the client's in X-Forwarded-*.
    client.environ_base.update({
        "HTTP_HOST": "127.0.0.1:8000", "HTTP_X_FORWARDED_HOST": "lets.example.org",
        "HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "192.0.2.7",
        "HTTP_REFERER": "https://lets.example.org/"})  # CSRF checks it over https
    outbox = Path(proxied_app.instance_path) / "outbox"
    email = "victim@example.org" if form is _forgot else "new@example.org"

    response = form(client, email, headers={"X-Forwarded-Host": ATTACKER})
    assert response.status_code == 400
    assert not outbox.exists() or not list(outbox.iterdir())

    response = form(client, email)
    assert response.status_code == 303
    mails = [p.read_text() for p in outbox.iterdir()]
    assert mails and all(ATTACKER not in m and "https://lets.example.org/" in m for m in mails)


def test_trusted_hosts_default_to_the_host_of_base_url() -> None:
    assert trusted_hosts({"BASE_URL": "https://lets.example.org/x"}) == ["lets.example.org"]
    assert trusted_hosts({"BASE_URL": "http://127.0.0.1:5000"}) == ["127.0.0.1", "localhost"]
    assert trusted_hosts({"BASE_URL": "x", "TRUSTED_HOSTS": "a.example, .b.example"}) == [
        "a.example", ".b.example"]
    assert trusted_hosts({"BASE_URL": "x", "TRUSTED_HOSTS": ["*"]}) is None
    with pytest.raises(ValueError, match="TRUSTED_HOSTS"):
        trusted_hosts({"BASE_URL": "no-host"})


def test_trusted_hosts_from_the_environment(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path))
    monkeypatch.setenv("LETS_BASE_URL", "https://lets.example.org")
    assert create_app().config["TRUSTED_HOSTS"] == ["lets.example.org"]
    monkeypatch.setenv("LETS_TRUSTED_HOSTS", '["lets.example.org", "www.lets.example.org"]')
    assert create_app().config["TRUSTED_HOSTS"] == ["lets.example.org", "www.lets.example.org"]


def test_command_line_links_use_base_url(app: Flask) -> None:
    from lets_site.mail import external_url

    app.config["BASE_URL"] = "https://lets.example.org"
    assert external_url("members.login") == "https://lets.example.org/login"
    with app.test_request_context("/", headers={"Host": "localhost"}):
        assert external_url("members.set_password", token="t") == (
            "https://lets.example.org/invitation/t")


def test_run_command_trusts_the_address_it_serves(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from lets_site.cli import _serve_here

    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path))
    app = create_app()
    _serve_here(app, "192.0.2.10", 8080)
    assert "192.0.2.10" in app.config["TRUSTED_HOSTS"]
    assert app.config["BASE_URL"] == "http://192.0.2.10:8080"
    # A configured public address stays; so does the list on every interface.
    monkeypatch.setenv("LETS_BASE_URL", "https://lets.example.org")
    app = create_app()
    _serve_here(app, "192.0.2.10", 8080)
    assert app.config["BASE_URL"] == "https://lets.example.org"
    _serve_here(app, "0.0.0.0", 8080)
    assert app.config["TRUSTED_HOSTS"] == ["lets.example.org", "192.0.2.10"]
