from __future__ import annotations

import re
from typing import Any

from lets_site.extensions import db
from lets_site.members import services
from lets_site.members.models import Member, Status
from tests.factories import PASSWORD
from tests.html import select_text

JOIN = {
    "display_name": "Nina N.",
    "full_name": "Nina Nieuw",
    "email": "nina@example.org",
    "postcode": "8900",
    "password": "a good long password",
    "password_confirm": "a good long password",
    "agree": "y",
}


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def test_login_with_the_right_password_starts_a_fresh_session(
    client: Any, auth: Any, make_member: Any
) -> None:
    member = make_member()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    response = auth.login(member.account_code)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == member.session_token
    # The list itself, not the menu's "Members" or the header's name.
    assert member.display_name in select_text(client.get("/members/"), "#member-list")


def test_login_with_a_wrong_password_says_so_without_500(
    client: Any, auth: Any, make_member: Any
) -> None:
    member = make_member()
    response = auth.login(member.account_code, "wrong password")
    assert response.status_code == 200
    assert "do not match" in text(response)


def test_login_is_throttled_with_a_clear_message(
    app: Any, client: Any, auth: Any, make_member: Any
) -> None:
    member = make_member()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        auth.login(member.account_code, "wrong password")
    response = auth.login(member.account_code, PASSWORD)
    assert response.status_code == 200
    assert re.search(r"Wait \d+ minutes", text(response))


def test_login_redirects_only_to_paths_on_this_site(
    client: Any, make_member: Any
) -> None:
    member = make_member()
    for target, expected in (("/members/", "/members/"), ("https://evil.example/", "/"),
                             ("//evil.example/", "/")):
        client.post_form("/logout")
        response = client.post_form(
            "/login", {"identifier": member.account_code, "password": PASSWORD, "next": target}
        )
        assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
        assert response.headers["Location"] == expected


def test_logout_needs_a_post_with_a_token(client: Any, auth: Any, make_member: Any) -> None:
    member = make_member()
    auth.login(member.account_code)
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")  # no CSRF token
    assert response.status_code == 400
    assert "nothing was saved" in text(response)
    assert client.get("/members/").status_code == 200
    auth.logout()
    assert client.get("/members/").status_code == 302


def test_post_without_csrf_token_gets_a_clear_message(client: Any) -> None:
    response = client.post("/join", data=JOIN)
    assert response.status_code == 400
    assert "did not come from this site" in text(response)
    assert db.session.query(Member).count() == 0


def test_join_creates_a_candidate_and_tells_the_admins(
    client: Any, make_admin: Any, outbox: Any
) -> None:
    make_admin(email="admin@example.org")
    response = client.post_form("/join", JOIN)
    assert response.status_code == 303
    assert response.headers["Location"] == "/join/thanks"
    candidate = db.session.query(Member).filter_by(email="nina@example.org").one()
    assert candidate.status == Status.CANDIDATE
    assert any("To: admin@example.org" in m and "Nina Nieuw" in m for m in outbox())


def test_join_with_a_known_email_answers_like_a_success_and_mails_the_member(
    client: Any, make_member: Any, make_admin: Any, outbox: Any
) -> None:
    make_admin(email="admin@example.org")
    make_member(email="nina@example.org", locale="en")
    known = client.post_form("/join", JOIN)
    new = client.post_form("/join", dict(JOIN, email="someone.new@example.org"))
    assert known.status_code == new.status_code == 303
    assert known.headers["Location"] == new.headers["Location"] == "/join/thanks"
    assert db.session.query(Member).filter_by(email="nina@example.org").count() == 1
    mails = outbox()
    assert [m for m in mails if "To: nina@example.org" in m and "tried to join" in m]
    # The admins hear of the new candidate only, not of the known address.
    to_admin = [m for m in mails if "To: admin@example.org" in m]
    assert len(to_admin) == 1 and "someone.new@example.org" in to_admin[0]


def test_join_with_oversize_fields_and_mismatched_passwords(client: Any) -> None:
    data = dict(JOIN, display_name="x" * 500, password_confirm="something else entirely")
    response = client.post_form("/join", data)
    body = text(response)
    assert response.status_code == 200
    assert "longer than 80 characters" in body
    assert "not the same" in body
    assert db.session.query(Member).count() == 0


def test_join_without_required_fields(client: Any) -> None:
    response = client.post_form("/join", {})
    body = text(response)
    assert "Fill in a name." in body and "Choose a password." in body


def test_admin_approves_a_candidate_who_can_then_log_in(
    client: Any, auth: Any, make_admin: Any, make_candidate: Any, outbox: Any
) -> None:
    admin = make_admin()
    candidate = make_candidate(email="cand@example.org")
    auth.login(admin.account_code)
    page = text(client.get(f"/admin/members/{candidate.id}"))
    assert "Approve" in page
    response = client.post_form(f"/admin/members/{candidate.id}/approve",
                                {"account_code": "TE-900"})
    assert response.status_code == 303
    assert "approved" in text(client.get(response.headers["Location"]))
    assert any("TE-900" in m for m in outbox())
    auth.logout()
    assert auth.login("TE-900").status_code == 303


def test_approving_with_a_taken_code_shows_the_reason(
    client: Any, auth: Any, make_admin: Any, make_candidate: Any
) -> None:
    admin = make_admin()
    candidate = make_candidate()
    auth.login(admin.account_code)
    response = client.post_form(f"/admin/members/{candidate.id}/approve",
                                {"account_code": admin.account_code}, follow_redirects=True)
    assert "already in use" in text(response)
    db.session.refresh(candidate)
    assert candidate.status == Status.CANDIDATE


def test_member_cannot_use_admin_actions(
    client: Any, auth: Any, make_member: Any, make_candidate: Any
) -> None:
    member = make_member()
    candidate = make_candidate()
    auth.login(member.account_code)
    response = client.post_form(f"/admin/members/{candidate.id}/approve",
                                {"account_code": "TE-901"})
    assert response.status_code == 403
    db.session.refresh(candidate)
    assert candidate.status == Status.CANDIDATE


def test_reset_password_flow_and_reused_link(
    client: Any, make_member: Any, outbox: Any
) -> None:
    member = make_member(email="reset@example.org")
    response = client.post_form("/password/forgot", {"email": "reset@example.org"})
    assert response.status_code == 303
    (mail,) = outbox()
    link = re.search(r"http://[^\s]+/password/reset/[^\s]+", mail).group(0)
    path = link.split("localhost", 1)[1]
    assert client.get(path).status_code == 200
    response = client.post_form(path, {"password": "new password here",
                                       "password_confirm": "new password here"})
    assert response.status_code == 303
    assert services.authenticate(member.account_code, "new password here", "x") is member
    response = client.get(path)
    assert response.status_code == 400
    assert "already been used" in text(response)


def test_forgot_password_does_not_reveal_who_is_a_member(client: Any, outbox: Any) -> None:
    response = client.post_form("/password/forgot", {"email": "nobody@example.org"},
                                follow_redirects=True)
    assert "If this address belongs to an account" in text(response)
    assert outbox() == []


def test_invitation_link_sets_the_password_and_logs_in(
    client: Any, make_member: Any
) -> None:
    member = make_member(password_hash=None)
    token = services.make_token(member, "invite")
    response = client.post_form(f"/invitation/{token}", {
        "password": "my own password", "password_confirm": "my own password"})
    assert response.status_code == 303
    assert client.get("/members/").status_code == 200


def test_directory_full_page_and_htmx_partial(client: Any, auth: Any, make_member: Any) -> None:
    viewer = make_member()
    make_member(display_name="Zoë Z.")
    auth.login(viewer.account_code)
    full = client.get("/members/?q=zo")
    assert "<html" in text(full) and "Zoë Z." in text(full)
    partial = client.get("/members/?q=zo", headers={"HX-Request": "true"})
    body = text(partial)
    assert "<html" not in body and body.lstrip().startswith('<section id="member-list"')
    assert "Zoë Z." in body
    boosted = client.get("/members/?q=zo", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in text(boosted)
    restore = client.get("/members/?q=zo", headers={"HX-Request": "true",
                                                  "HX-History-Restore-Request": "true"})
    assert "<html" in text(restore)
    for response in (full, partial):
        assert "HX-Request" in response.headers["Vary"]


def test_directory_paginates(client: Any, auth: Any, make_member: Any) -> None:
    viewer = make_member(display_name="A viewer")
    for n in range(25):
        make_member(display_name=f"Person {n:02d}")
    auth.login(viewer.account_code)
    first = text(client.get("/members/"))
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = text(client.get("/members/?page=2"))
    assert "Person 24" in second and "Person 00" not in second
    assert client.get("/members/?page=abc").status_code == 200


def test_anonymous_sees_only_public_contact_details(
    client: Any, auth: Any, make_member: Any
) -> None:
    public = make_member(profile_public=True, email_visibility="public",
                         phone_visibility="members", address_visibility="hidden")
    body = text(client.get(f"/members/{public.account_code}"))
    assert public.email in body
    assert public.phone not in body and public.address not in body
    private = make_member()
    response = client.get(f"/members/{private.account_code}")
    assert response.status_code == 302
    viewer = make_member()
    auth.login(viewer.account_code)
    body = text(client.get(f"/members/{public.account_code}"))
    assert public.phone in body and public.address not in body


def test_member_edits_own_profile(client: Any, auth: Any, make_member: Any) -> None:
    member = make_member()
    auth.login(member.account_code)
    response = client.post_form(f"/members/{member.account_code}/edit", {
        "display_name": "New Name", "full_name": member.full_name, "email": member.email,
        "email_visibility": "hidden", "phone_visibility": "members",
        "address_visibility": "members", "bio": "<script>alert(1)</script>Hallo *daar*",
    })
    assert response.status_code == 303
    body = text(client.get(f"/members/{member.account_code}"))
    assert "New Name" in select_text(body, "h1")  # the page, not the header's greeting
    assert "<script>alert" not in body and "<em>daar</em>" in body


def test_edit_with_an_email_of_another_member(client: Any, auth: Any, make_member: Any) -> None:
    member, other = make_member(), make_member()
    auth.login(member.account_code)
    response = client.post_form(f"/members/{member.account_code}/edit", {
        "display_name": "X", "full_name": "Y", "email": other.email,
        "current_password": PASSWORD,
        "email_visibility": "members", "phone_visibility": "members",
        "address_visibility": "members"})
    assert response.status_code == 200
    assert "Another account already uses" in text(response)


def test_export_downloads_json(client: Any, auth: Any, make_member: Any) -> None:
    member = make_member()
    auth.login(member.account_code)
    response = client.get(f"/members/{member.account_code}/export")
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_json()["member"]["account_code"] == member.account_code


def test_close_account_needs_confirmation(client: Any, auth: Any, make_member: Any) -> None:
    member = make_member()
    auth.login(member.account_code)
    response = client.post_form("/members/me/close", {})
    assert response.status_code == 200 and "Tick the box" in text(response)
    response = client.post_form("/members/me/close", {"confirm": "y"})
    assert response.status_code == 303
    db.session.refresh(member)
    assert member.status == Status.LEAVING


def test_change_password_logs_out_other_devices(
    app: Any, client: Any, auth: Any, make_member: Any
) -> None:
    member = make_member()
    other_device = app.test_client()
    other_device.post_form("/login", {"identifier": member.account_code, "password": PASSWORD})
    assert other_device.get("/members/").status_code == 200
    auth.login(member.account_code)
    response = client.post_form("/members/me/password", {
        "current_password": PASSWORD, "password": "another good one",
        "password_confirm": "another good one"})
    assert response.status_code == 303
    assert client.get("/members/").status_code == 200
    assert other_device.get("/members/").status_code == 302


def test_admin_creates_a_member_and_the_action_is_audited(
    client: Any, auth: Any, make_admin: Any
) -> None:
    admin = make_admin()
    auth.login(admin.account_code)
    response = client.post_form("/admin/members/new", {
        "account_code": "TE-500", "display_name": "Odile", "full_name": "Odile Offline",
        "email": "", "email_visibility": "members", "phone_visibility": "members",
        "address_visibility": "members"})
    assert response.status_code == 303
    audit = text(client.get("/admin/audit"))
    assert "Added a member" in audit and "Odile" in audit


def test_admin_member_page_with_an_absurd_id_is_not_found(
    client: Any, auth: Any, make_admin: Any
) -> None:
    auth.login(make_admin().account_code)
    assert client.get("/admin/members/99999999999999").status_code == 404


def test_directory_and_audit_survive_odd_query_values(
    client: Any, auth: Any, make_admin: Any
) -> None:
    auth.login(make_admin().account_code)
    for path in ("/members/?endpoint=x", "/members/?page=²", "/admin/members/?_anchor=x",
                 "/admin/audit?page=99999999999999999999", "/admin/audit?page=-1"):
        assert client.get(path).status_code == 200, path
