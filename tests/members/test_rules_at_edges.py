"""The members' permission and privacy questions (members/models.py) at their edges: each
status, each visibility, each kind of viewer. Services and templates ask these same
questions, so a slip here shows on every page. Each test kills mutants that the rest of
the suite let live (scripts/mutation models; docs/testing.md)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from lets_site.extensions import db
from lets_site.members.models import Member, Role, Status, Visibility
from tests import factories

STATUSES = [Status.CANDIDATE, Status.ACTIVE, Status.LEAVING, Status.INACTIVE]
IN_GOOD_STANDING = {Status.ACTIVE, Status.LEAVING}


@pytest.mark.parametrize("status", STATUSES)
def test_only_active_or_leaving_members_with_a_password_may_log_in(app: Any,
                                                                   status: str) -> None:
    member = factories.make_member(status=status, account_code=None)
    assert member.is_active is (status in IN_GOOD_STANDING)
    member.password_hash = None
    assert member.is_active is False
    assert member.get_id() == member.session_token


@pytest.mark.parametrize("status", STATUSES)
def test_the_admin_role_counts_only_while_in_good_standing(app: Any, status: str) -> None:
    admin = factories.make_admin(status=status, account_code=None)
    assert admin.has_role(Role.ADMIN)
    assert admin.is_admin is (status in IN_GOOD_STANDING)
    assert factories.make_member(status=status, account_code=None).is_admin is False


def test_set_roles_adds_and_removes(app: Any) -> None:
    member = factories.make_member()
    member.set_roles([Role.MEMBER, Role.ADMIN])
    assert member.roles == {"member", "admin"}
    member.set_roles([Role.MEMBER])
    db.session.commit()
    assert member.roles == {"member"} and not member.is_admin
    member.set_roles([])
    assert member.roles == set()


def test_profile_is_seen_by_members_and_by_visitors_only_when_public(app: Any) -> None:
    viewer = factories.make_member()
    hidden = factories.make_member(profile_public=False)
    public = factories.make_member(profile_public=True)
    assert hidden.can_view_profile(viewer) and public.can_view_profile(viewer)
    assert not hidden.can_view_profile(None)
    assert public.can_view_profile(None)
    # A viewer who may not log in (inactive) sees what a visitor sees.
    viewer.status = Status.INACTIVE
    assert not hidden.can_view_profile(viewer) and public.can_view_profile(viewer)


@pytest.mark.parametrize("status", STATUSES)
def test_a_public_profile_shows_to_visitors_only_in_good_standing(app: Any,
                                                                  status: str) -> None:
    member = factories.make_member(profile_public=True, status=status, account_code=None)
    assert member.can_view_profile(None) is (status in IN_GOOD_STANDING)


def test_a_profile_is_edited_by_its_member_and_admins_only(app: Any) -> None:
    member, other, admin = (factories.make_member(), factories.make_member(),
                            factories.make_admin())
    assert member.can_edit(member) and member.can_edit(admin)
    assert not member.can_edit(other) and not member.can_edit(None)
    former_admin = factories.make_admin(status=Status.INACTIVE)
    assert not member.can_edit(former_admin)


@pytest.mark.parametrize("field", ["email", "phone", "address"])
@pytest.mark.parametrize(("visibility", "visitor", "member"),
                         [(Visibility.HIDDEN, False, False), (Visibility.MEMBERS, False, True),
                          (Visibility.PUBLIC, True, True)])
def test_contact_field_follows_its_visibility(app: Any, field: str, visibility: str,
                                              visitor: bool, member: bool) -> None:
    owner = factories.make_member(**{f"{field}_visibility": visibility})
    other, admin = factories.make_member(), factories.make_admin()
    value = {"email": owner.email, "phone": owner.phone,
             "address": f"{owner.address}, {owner.postcode}"}[field]
    assert owner.may_see(field, None) is visitor
    assert owner.may_see(field, other) is member
    assert owner.may_see(field, owner) and owner.may_see(field, admin)
    assert owner.visible_contact(field, None) == (value if visitor else "")
    assert owner.visible_contact(field, other) == (value if member else "")
    assert owner.visible_contact(field, owner) == value
    assert owner.visible_postcode(None) == ("8900" if field == "address" and visitor else "")


def test_contact_fields_without_a_value_show_nothing(app: Any) -> None:
    owner = factories.make_member(email=None, phone="", address="", postcode="",
                                  email_visibility=Visibility.PUBLIC)
    assert owner.visible_contact("email", None) == ""
    assert owner.visible_contact("phone", owner) == ""
    assert owner.visible_contact("address", owner) == ""
    assert owner.visible_postcode(owner) == ""
    only_postcode = factories.make_member(address="")
    assert only_postcode.visible_contact("address", only_postcode) == "8900"


def test_an_unknown_contact_field_is_an_error(app: Any) -> None:
    owner = factories.make_member()
    with pytest.raises(ValueError, match="password_hash"):
        owner.may_see("password_hash", owner)
    with pytest.raises(ValueError, match="bio"):
        owner.visible_contact("bio", owner)


@pytest.mark.parametrize("viewer_kind", ["visitor", "member", "self", "admin"])
def test_address_clause_finds_what_may_see_allows(app: Any, viewer_kind: str) -> None:
    owners = {v: factories.make_member(address_visibility=v) for v in Visibility}
    viewer: Member | None = {"visitor": None, "member": factories.make_member(),
                             "self": owners[Visibility.HIDDEN],
                             "admin": factories.make_admin()}[viewer_kind]
    ids = [o.id for o in owners.values()]
    found = set(db.session.scalars(select(Member.id).where(
        Member.id.in_(ids), Member.address_visible_clause(Member, viewer))))
    assert found == {o.id for o in owners.values() if o.may_see("address", viewer)}
    expected = {"visitor": {Visibility.PUBLIC},
                "member": {Visibility.PUBLIC, Visibility.MEMBERS},
                "self": set(Visibility), "admin": set(Visibility)}[viewer_kind]
    assert found == {owners[v].id for v in expected}


def test_an_inactive_admin_is_a_plain_member_for_the_address_clause(app: Any) -> None:
    hidden = factories.make_member(address_visibility=Visibility.HIDDEN)
    former = factories.make_admin(status=Status.LEAVING)
    former.status = Status.INACTIVE
    found = db.session.scalars(select(Member.id).where(
        Member.id == hidden.id, Member.address_visible_clause(Member, former))).all()
    assert found == []


def test_a_member_reads_well_in_logs(app: Any) -> None:
    member = factories.make_member(display_name="Mia")
    assert repr(member) == f"<Member {member.account_code} 'Mia'>"
    candidate = factories.make_candidate(display_name="Kim")
    assert repr(candidate) == f"<Member {candidate.id} 'Kim'>"
    assert len(member.session_token) == 32 and member.session_token != candidate.session_token
