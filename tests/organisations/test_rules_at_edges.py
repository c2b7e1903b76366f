"""Who acts for an organisation (organisations/models.py), per kind of person. Each test
kills mutants that the rest of the suite let live (scripts/mutation models;
docs/testing.md)."""

from __future__ import annotations

from typing import Any

from lets_site.members.models import Status
from tests import factories


def test_intermediaries_and_admins_act_for_an_organisation(people: dict[str, Any]) -> None:
    org = people["org"]
    answers = {role: (org.has_intermediary(people.get(role)), org.can_act_for(people.get(role)))
               for role in ("anonymous", "member", "intermediary", "admin",
                            "other_org_member")}
    assert answers == {"anonymous": (False, False), "member": (False, False),
                       "intermediary": (True, True), "admin": (False, True),
                       "other_org_member": (False, False)}


def test_an_admin_who_left_no_longer_acts_for_an_organisation(people: dict[str, Any]) -> None:
    former = factories.make_admin(status=Status.INACTIVE)
    assert not people["org"].can_act_for(former)


def test_an_organisation_without_intermediaries_has_none(app: Any) -> None:
    org = factories.make_organisation()
    member = factories.make_member()
    assert not org.has_intermediary(member) and not org.can_act_for(member)
    assert repr(org) == f"<Organisation {org.slug}>"


def test_an_intermediary_who_left_no_longer_acts_for_the_organisation(
        people: dict[str, Any]) -> None:
    org, inter = people["org"], people["intermediary"]
    inter.status = Status.INACTIVE
    assert not org.has_intermediary(inter) and not org.can_act_for(inter)
    inter.status = Status.LEAVING
    assert org.has_intermediary(inter) and org.can_act_for(inter)
