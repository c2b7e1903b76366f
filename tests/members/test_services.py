from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from lets_site.audit.models import AuditEntry
from lets_site.domain import DomainError, PermissionDenied
from lets_site.extensions import db
from lets_site.members import services
from lets_site.members.models import LoginAttempt, Member, Role, Status
from tests.factories import PASSWORD


def profile(**overrides: Any) -> services.ProfileData:
    values: dict[str, Any] = {
        "display_name": "Nina N.",
        "full_name": "Nina Nieuw",
        "email": "Nina@Example.org",
        "postcode": "8900",
    }
    values.update(overrides)
    return services.ProfileData(**values)


def test_register_candidate_creates_a_candidate_who_cannot_log_in(app: Any) -> None:
    member = services.register_candidate(profile(), "a good long password")
    db.session.commit()
    assert member.status == Status.CANDIDATE
    assert member.email == "nina@example.org"
    assert member.account_code is None
    with pytest.raises(DomainError, match="waiting for approval"):
        services.authenticate("nina@example.org", "a good long password", "1.2.3.4")


def test_register_candidate_with_a_known_email_creates_nothing_and_mails_the_member(
    make_member: Any, outbox: Any
) -> None:
    member = make_member(email="nina@example.org", locale="en")
    assert services.register_candidate(profile(email="NINA@example.ORG"),
                                       "a good long password") is None
    db.session.commit()
    assert db.session.query(Member).count() == 1
    (mail,) = outbox()
    assert f"To: {member.email}" in mail and "tried to join" in mail
    assert "/login" in mail and "/password/forgot" in mail


def test_register_candidate_refuses_a_short_password(app: Any) -> None:
    with pytest.raises(DomainError) as error:
        services.register_candidate(profile(), "short")
    assert error.value.field == "password"


def test_approve_gives_the_code_and_logs_it(make_admin: Any, make_candidate: Any) -> None:
    admin = make_admin()
    candidate = make_candidate()
    services.approve_candidate(admin, candidate, "ie-042")
    db.session.commit()
    assert candidate.account_code == "IE-042"
    assert candidate.status == Status.ACTIVE
    entry = db.session.query(AuditEntry).filter_by(action="member.approve").one()
    assert entry.actor_id == admin.id and entry.target_id == "IE-042"


def test_approve_refuses_a_code_in_use_by_a_member_or_an_organisation(
    make_admin: Any, make_candidate: Any, make_member: Any, make_organisation: Any
) -> None:
    admin = make_admin()
    make_member(account_code="IE-001")
    make_organisation(account_code="IE-ORG")
    candidate = make_candidate()
    for code in ("IE-001", "ie-org"):
        with pytest.raises(DomainError, match="already in use") as error:
            services.approve_candidate(admin, candidate, code)
        assert error.value.field == "account_code"
    with pytest.raises(DomainError, match="looks like"):
        services.approve_candidate(admin, candidate, "not a code")


def test_only_admins_approve(make_member: Any, make_candidate: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.approve_candidate(make_member(), make_candidate(), "IE-050")


def test_suggest_account_code_takes_the_next_free_number(make_member: Any) -> None:
    make_member(account_code="IE-007")
    make_member(account_code="IE-012")
    assert services.suggest_account_code("IE") == "IE-013"
    assert services.suggest_account_code("XY") == "XY-001"


def test_authenticate_by_email_or_code_in_any_case(make_member: Any) -> None:
    member = make_member(account_code="IE-021", email="a@example.org")
    assert services.authenticate("A@EXAMPLE.ORG", PASSWORD, "1.1.1.1") is member
    assert services.authenticate("ie-021", PASSWORD, "1.1.1.1") is member


def test_wrong_password_is_refused_and_counted(make_member: Any) -> None:
    make_member(account_code="IE-021")
    with pytest.raises(DomainError, match="do not match"):
        services.authenticate("IE-021", "wrong password", "1.1.1.1")
    assert db.session.query(LoginAttempt).filter_by(account_key="ie-021").count() == 1


def test_failed_logins_throttle_the_account_even_with_the_right_password(
    app: Any, make_member: Any
) -> None:
    make_member(account_code="IE-021")
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for n in range(limit):
        with pytest.raises(DomainError):
            services.authenticate("IE-021", "wrong", f"10.0.0.{n}")
    with pytest.raises(services.LoginThrottled) as error:
        services.authenticate("IE-021", PASSWORD, "10.0.0.99")
    assert 1 <= error.value.minutes <= app.config["LOGIN_THROTTLE_WINDOW_MINUTES"]


def test_failed_logins_throttle_the_address_across_accounts(app: Any, make_member: Any) -> None:
    victim = make_member()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    for n in range(limit):
        with pytest.raises(DomainError):
            services.authenticate(f"nobody{n}@example.org", "wrong", "10.9.9.9")
    with pytest.raises(services.LoginThrottled):
        services.authenticate(victim.account_code, PASSWORD, "10.9.9.9")
    # Another address is not affected.
    assert services.authenticate(victim.account_code, PASSWORD, "10.9.9.10") is victim


def test_old_failures_no_longer_throttle(app: Any, make_member: Any) -> None:
    make_member(account_code="IE-021")
    long_ago = services.utcnow() - timedelta(hours=2)
    for _ in range(10):
        db.session.add(LoginAttempt(kind="login", account_key="ie-021", address="x", at=long_ago))
    db.session.commit()
    assert services.authenticate("IE-021", PASSWORD, "x").account_code == "IE-021"


def test_inactive_member_cannot_log_in(make_member: Any) -> None:
    make_member(account_code="IE-021", status=Status.INACTIVE)
    with pytest.raises(DomainError, match="closed"):
        services.authenticate("IE-021", PASSWORD, "x")


def test_reset_token_works_once(make_member: Any) -> None:
    member = make_member()
    token = services.make_token(member, "reset")
    old_session = member.session_token
    services.set_password_with_token(token, "reset", "a brand new password")
    db.session.commit()
    assert member.session_token != old_session
    assert services.authenticate(member.account_code, "a brand new password", "x") is member
    with pytest.raises(services.BadToken, match="already been used"):
        services.member_for_token(token, "reset")


def test_token_for_one_purpose_is_not_valid_for_another(make_member: Any) -> None:
    token = services.make_token(make_member(), "reset")
    with pytest.raises(services.BadToken, match="not valid"):
        services.member_for_token(token, "invite")


def test_expired_token_is_refused(app: Any, make_member: Any) -> None:
    token = services.make_token(make_member(), "reset")
    app.config["RESET_MAX_AGE_MINUTES"] = -1
    with pytest.raises(services.BadToken, match="expired"):
        services.member_for_token(token, "reset")


def test_tampered_token_is_refused(make_member: Any) -> None:
    token = services.make_token(make_member(), "reset")
    with pytest.raises(services.BadToken, match="not valid"):
        services.member_for_token(token[:-3] + "abc", "reset")


def test_create_member_without_email_is_managed_by_admins(make_admin: Any, outbox: Any) -> None:
    admin = make_admin()
    member = services.create_member(admin, profile(email=None), "IE-077")
    db.session.commit()
    assert member.managed_by_admin and member.status == Status.ACTIVE
    assert member.password_hash is None
    assert outbox() == []
    assert db.session.query(AuditEntry).filter_by(action="member.create").count() == 1


def test_create_member_with_email_sends_an_invitation(make_admin: Any, outbox: Any) -> None:
    services.create_member(make_admin(), profile(), "IE-078")
    db.session.commit()
    (mail,) = outbox()
    assert "To: nina@example.org" in mail
    assert "/invitation/" in mail


def test_mail_is_not_sent_when_the_transaction_rolls_back(make_admin: Any, outbox: Any) -> None:
    services.create_member(make_admin(), profile(), "IE-078")
    db.session.rollback()
    assert outbox() == []


def test_member_edits_own_profile_but_not_anothers(make_member: Any) -> None:
    mia, otto = make_member(), make_member()
    services.update_profile(mia, mia, profile(display_name="Mia M.", email=mia.email))
    assert mia.display_name == "Mia M."
    with pytest.raises(PermissionDenied):
        services.update_profile(mia, otto, profile(email=otto.email))


def test_admin_edit_of_a_profile_is_audited(make_admin: Any, make_member: Any) -> None:
    admin, member = make_admin(), make_member()
    services.update_profile(admin, member, profile(email=member.email, phone="+32 57 12 34 56"))
    entry = db.session.query(AuditEntry).filter_by(action="member.edit").one()
    assert "phone" in entry.details


def test_the_last_admin_cannot_lose_the_role(make_admin: Any) -> None:
    admin = make_admin()
    with pytest.raises(DomainError, match="at least one admin"):
        services.set_roles(admin, admin, {Role.MEMBER})


def test_setting_inactive_logs_the_member_out_everywhere(
    make_admin: Any, make_member: Any
) -> None:
    admin, member = make_admin(), make_member()
    token = member.session_token
    services.set_status(admin, member, Status.INACTIVE)
    assert member.session_token != token
    assert services.load_for_session(token) is None


def test_directory_is_for_members_and_searches_name_code_and_postcode(
    make_member: Any, make_candidate: Any
) -> None:
    viewer = make_member(display_name="Viewer", postcode="1000")
    make_member(display_name="Céline F.", account_code="IE-120", postcode="8904")
    make_candidate(display_name="Celine Candidate")
    with pytest.raises(PermissionDenied):
        services.search_directory(None, services.DirectoryQuery())
    names = lambda q: [m.display_name for m in services.search_directory(  # noqa: E731
        viewer, services.DirectoryQuery(q=q)).items]
    assert names("céline") == ["Céline F."]
    assert names("ie-120") == ["Céline F."]
    assert names("8904") == ["Céline F."]
    assert names("%") == []  # wildcards are searched literally
    assert "Celine Candidate" not in names("")


def test_export_contains_the_members_data(make_member: Any) -> None:
    member = make_member(bio="Ik fiets graag.")
    data = services.export_data(member, member)
    assert data["member"]["email"] == member.email
    assert data["member"]["bio"] == "Ik fiets graag."


def test_closure_request_marks_leaving_and_tells_admins(
    make_admin: Any, make_member: Any, outbox: Any
) -> None:
    make_admin(email="admin@example.org")
    member = make_member()
    services.request_closure(member)
    db.session.commit()
    assert member.status == Status.LEAVING and member.close_requested_at is not None
    assert any("To: admin@example.org" in m for m in outbox())


def test_visible_contact_respects_privacy_per_field(make_member: Any) -> None:
    owner = make_member(email_visibility="public", phone_visibility="members",
                        address_visibility="hidden")
    other = make_member()
    assert owner.visible_contact("email", None) == owner.email
    assert owner.visible_contact("phone", None) == ""
    assert owner.visible_contact("phone", other) == owner.phone
    assert owner.visible_contact("address", other) == ""
    assert owner.visible_contact("address", owner).startswith("Teststraat")
    assert isinstance(owner, Member)
