from __future__ import annotations

import gzip
from typing import Any

from lets_site.audit.models import AuditEntry
from lets_site.extensions import db
from lets_site.site.services import get_settings

SETTINGS = {
    "group_name": "LETS Ieper", "slug": "lets-ieper", "code_prefix": "ie",
    "locality": "Ieper", "region": "West-Vlaanderen", "country": "be",
    "timezone": "Europe/Brussels", "default_language": "nl",
    "unit_singular_nl": "uur", "unit_plural_nl": "uren",
    "about_nl": "Welkom bij **LETS Ieper**.<script>alert(1)</script>",
    "contact_email": "info@example.org",
}


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def test_admin_saves_settings_and_home_shows_them_safely(
    client: Any, auth: Any, make_admin: Any
) -> None:
    admin = make_admin()
    auth.login(admin.account_code)
    response = client.post_form("/admin/settings", SETTINGS)
    assert response.status_code == 303
    settings = get_settings()
    assert settings.code_prefix == "IE" and settings.country == "BE"
    home = text(client.get("/"))
    assert "<strong>LETS Ieper</strong>" in home
    assert "<script>alert" not in home
    assert db.session.query(AuditEntry).filter_by(action="settings.update").count() == 1


def test_settings_refuse_bad_values_with_messages(client: Any, auth: Any, make_admin: Any) -> None:
    auth.login(make_admin().account_code)
    response = client.post_form("/admin/settings", dict(
        SETTINGS, slug="Not A Slug!", timezone="Mars/Olympus", country="Belgium",
        contact_email="nope"))
    body = text(response)
    assert response.status_code == 200
    assert "Lower-case letters" in body and "Two letters" in body
    assert "valid e-mail" in body and "Not a valid choice" in body
    assert get_settings().group_name == "LETS"


def test_language_follows_accept_language_then_the_choice(client: Any) -> None:
    response = client.get("/", headers={"Accept-Language": "fr-BE,fr;q=0.9"})
    assert '<html lang="fr">' in text(response)
    response = client.post_form("/language", {"lang": "en", "next": "/join"},
                                headers={"Accept-Language": "fr"})
    assert response.status_code == 303 and response.headers["Location"] == "/join"
    assert "lang=en" in response.headers["Set-Cookie"]
    response = client.get("/", headers={"Accept-Language": "fr"})
    assert '<html lang="en">' in text(response)


def test_unknown_language_is_dutch(client: Any) -> None:
    assert '<html lang="nl">' in text(client.get("/", headers={"Accept-Language": "de"}))


def test_language_choice_is_remembered_for_a_member(
    app: Any, client: Any, auth: Any, make_member: Any
) -> None:
    member = make_member()
    auth.login(member.account_code)
    client.post_form("/language", {"lang": "fr"})
    db.session.refresh(member)
    assert member.locale == "fr"
    other_browser = app.test_client()  # no language cookie: the profile's choice counts
    other_browser.post_form("/login", {"identifier": member.account_code,
                                       "password": "correct horse battery"})
    assert '<html lang="fr">' in text(other_browser.get("/"))


def test_security_headers_on_every_page(client: Any) -> None:
    for path in ("/", "/login", "/nope"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(client: Any) -> None:
    body = text(client.get("/"))
    assert "<style" not in body and " style=" not in body
    assert "<script>" not in body and "onclick" not in body


def test_session_cookie_flags(app: Any, client: Any, make_member: Any) -> None:
    response = client.post_form("/login", {"identifier": make_member().account_code,
                                           "password": "correct horse battery"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_config_makes_cookies_secure(tmp_path: Any, monkeypatch: Any) -> None:
    from lets_site import create_app

    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_pages_answer_304_to_a_matching_etag(client: Any) -> None:
    first = client.get("/join/thanks")
    etag = first.headers["ETag"]
    second = client.get("/join/thanks", headers={"If-None-Match": etag})
    assert second.status_code == 304 and second.data == b""


def test_responses_are_compressed_when_asked(client: Any) -> None:
    response = client.get("/join", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"<html" in gzip.decompress(response.data)
    response = client.get("/join", headers={"Accept-Encoding": "br"})
    assert response.headers["Content-Encoding"] == "br"


def test_not_found_page_in_html_and_json(client: Any) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "Page not found" in text(response)
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_error_partial_for_htmx(client: Any) -> None:
    response = client.get("/no/such/page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert text(response).lstrip().startswith('<section id="error"')


def test_too_large_request_gets_a_clear_page(app: Any, client: Any) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/join", data={"bio": "x" * 5000})
    assert response.status_code == 413
    assert "too large" in text(response)


def test_server_error_page(app: Any, client: Any) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in text(response)


def test_admin_index_lists_candidates(client: Any, auth: Any, make_admin: Any,
                                      make_candidate: Any) -> None:
    make_candidate()
    auth.login(make_admin().account_code)
    assert "Candidates to approve</a> (1)" in text(client.get("/admin/"))


def test_form_fields_carry_aria_only_when_needed(client: Any) -> None:
    clean = text(client.get("/join"))
    assert '="None"' not in clean and "aria-invalid" not in clean
    response = client.post_form("/join", {"email": "not an address"})
    body = text(response)
    assert 'aria-invalid="true"' in body
    assert 'aria-describedby="email-error"' in body and 'id="email-error"' in body
