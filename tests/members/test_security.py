"""Sessions, accounts and mail (issue 7): logout ends every copy of the session, an own
e-mail change needs the password and tells the old address, /join tells nobody who is a
member and is limited per address, the login throttle counts per member, and private
pages are kept out of htmx's history cache."""

from __future__ import annotations

from typing import Any

import pytest

from lets_site.domain import DomainError
from lets_site.extensions import db
from lets_site.members import services
from lets_site.members.models import LoginAttempt, Member
from tests.factories import PASSWORD

JOIN = {
    "display_name": "Nina N.",
    "full_name": "Nina Nieuw",
    "email": "nina@example.org",
    "password": "a good long password",
    "password_confirm": "a good long password",
    "agree": "y",
}


def _edit(member: Member, **changes: Any) -> dict[str, Any]:
    data = {
        "display_name": member.display_name, "full_name": member.full_name,
        "email": member.email, "email_visibility": "members", "phone_visibility": "members",
        "address_visibility": "members",
    }
    data.update(changes)
    return data


# --- Logout ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cookie", ["session", "remember_token"])
def test_logout_kills_copies_of_the_session_and_remember_cookies(
    app: Any, client: Any, make_member: Any, cookie: str
) -> None:
    member = make_member()
    response = client.post_form("/login", {"identifier": member.account_code,
                                           "password": PASSWORD, "remember": "y"})
    assert response.status_code == 303
    copied = client.get_cookie(cookie)
    assert copied is not None
    assert client.post_form("/logout").status_code == 303

    thief = app.test_client()
    thief.set_cookie(cookie, copied.value)
    response = thief.get("/members/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_says_other_devices_are_logged_out_too(
    app: Any, client: Any, auth: Any, make_member: Any
) -> None:
    member = make_member()
    other_device = app.test_client()
    other_device.post_form("/login", {"identifier": member.account_code, "password": PASSWORD})
    assert other_device.get("/members/").status_code == 200
    auth.login(member.account_code)
    response = client.post_form("/logout", follow_redirects=True)
    assert "also on your other devices" in response.get_data(as_text=True)
    assert other_device.get("/members/").status_code == 302


# --- E-mail change -----------------------------------------------------------------------------


@pytest.mark.parametrize("password", [None, "", "not the password"])
def test_own_email_change_needs_the_current_password(
    client: Any, auth: Any, make_member: Any, outbox: Any, password: str | None
) -> None:
    member = make_member(email="old@example.org", locale="en")
    auth.login(member.account_code)
    data = _edit(member, email="new@example.org")
    if password is not None:
        data["current_password"] = password
    response = client.post_form(f"/members/{member.account_code}/edit", data)
    assert response.status_code == 200
    assert "Fill in your current password" in response.get_data(as_text=True)
    db.session.refresh(member)
    assert member.email == "old@example.org"
    assert outbox() == []


def test_own_email_change_with_the_password_tells_the_old_address(
    client: Any, auth: Any, make_member: Any, outbox: Any
) -> None:
    member = make_member(email="old@example.org", locale="en")
    auth.login(member.account_code)
    response = client.post_form(f"/members/{member.account_code}/edit",
                                _edit(member, email="new@example.org",
                                      current_password=PASSWORD))
    assert response.status_code == 303
    db.session.refresh(member)
    assert member.email == "new@example.org"
    (mail,) = outbox()
    assert "To: old@example.org" in mail and "was changed" in mail
    assert "new@example.org" not in mail


def test_other_profile_changes_need_no_password(
    client: Any, auth: Any, make_member: Any, outbox: Any
) -> None:
    member = make_member()
    auth.login(member.account_code)
    response = client.post_form(f"/members/{member.account_code}/edit",
                                _edit(member, display_name="Another Name"))
    assert response.status_code == 303
    assert outbox() == []


def test_admin_changes_an_email_without_the_members_password_audited_and_told(
    client: Any, auth: Any, make_admin: Any, make_member: Any, outbox: Any
) -> None:
    from lets_site.audit.models import AuditEntry

    admin, member = make_admin(), make_member(email="old@example.org", locale="en")
    auth.login(admin.account_code)
    response = client.post_form(f"/members/{member.account_code}/edit",
                                _edit(member, email="new@example.org"))
    assert response.status_code == 303
    db.session.refresh(member)
    assert member.email == "new@example.org"
    entry = db.session.query(AuditEntry).filter_by(action="member.edit").one()
    assert "email" in str(entry.details)
    (mail,) = outbox()
    assert "To: old@example.org" in mail and "An admin" in mail


def test_a_copied_session_cannot_change_the_email_after_logout(
    app: Any, client: Any, auth: Any, make_member: Any
) -> None:
    member = make_member(email="old@example.org", locale="en")
    auth.login(member.account_code)
    token = client.csrf_token(f"/members/{member.account_code}/edit")
    copied = client.get_cookie("session").value
    client.post_form("/logout")
    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.post(f"/members/{member.account_code}/edit",
                          data=_edit(member, email="thief@example.org", csrf_token=token))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    db.session.refresh(member)
    assert member.email == "old@example.org"


# --- Join: no enumeration, rate limit ----------------------------------------------------------


def test_join_is_limited_per_client_address(app: Any, client: Any) -> None:
    app.config["JOIN_MAX_PER_ADDRESS"] = 3
    for n in range(3):
        response = client.post_form("/join", dict(JOIN, email=f"n{n}@example.org"))
        assert response.status_code == 303
    response = client.post_form("/join", dict(JOIN, email="n9@example.org"))
    assert response.status_code == 200
    assert "Too many applications" in response.get_data(as_text=True)
    assert db.session.query(Member).count() == 3
    # Another address may still apply.
    response = client.post_form("/join", dict(JOIN, email="n10@example.org"),
                                environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 303


def test_join_with_a_known_address_counts_towards_the_limit(
    app: Any, client: Any, make_member: Any
) -> None:
    app.config["JOIN_MAX_PER_ADDRESS"] = 2
    make_member(email="nina@example.org")
    for _ in range(2):
        assert client.post_form("/join", JOIN).status_code == 303
    response = client.post_form("/join", JOIN)
    assert response.status_code == 200
    assert "Too many applications" in response.get_data(as_text=True)


# --- Login throttle per member -----------------------------------------------------------------


def test_login_throttle_counts_per_member_across_email_and_account_code(
    app: Any, make_member: Any
) -> None:
    member = make_member(email="mia@example.org")
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    identifiers = [member.email, member.account_code]
    for n in range(limit):
        with pytest.raises(DomainError, match="do not match"):
            services.authenticate(identifiers[n % 2], "wrong", f"10.0.1.{n}")
        db.session.commit()
    for identifier in identifiers:
        with pytest.raises(services.LoginThrottled):
            services.authenticate(identifier, PASSWORD, "10.0.1.99")


def test_unknown_identifiers_are_throttled_per_identifier(app: Any, make_member: Any) -> None:
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for n in range(limit):
        with pytest.raises(DomainError, match="do not match"):
            services.authenticate("ghost@example.org", "wrong", f"10.0.2.{n}")
    with pytest.raises(services.LoginThrottled):
        services.authenticate("GHOST@example.org", "wrong", "10.0.2.99")
    with pytest.raises(DomainError, match="do not match"):
        services.authenticate("other-ghost@example.org", "wrong", "10.0.2.99")


def test_a_successful_login_clears_the_members_failures(app: Any, make_member: Any) -> None:
    member = make_member(email="mia@example.org")
    for identifier in (member.email, member.account_code):
        with pytest.raises(DomainError):
            services.authenticate(identifier, "wrong", "10.0.3.1")
    assert services.authenticate(member.email, PASSWORD, "10.0.3.1") is member
    assert db.session.query(LoginAttempt).filter_by(kind="login").count() == 0
