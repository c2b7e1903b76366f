from __future__ import annotations

from typing import Any

import pytest

from lets_site.domain import DomainError, PermissionDenied
from lets_site.organisations import services
from lets_site.organisations.services import OrganisationData
from tests.html import main_text, select_text


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def test_admin_adds_an_organisation_with_a_unique_code(make_admin: Any, make_member: Any) -> None:
    admin = make_admin()
    make_member(account_code="IE-001")
    org = services.create_organisation(admin, OrganisationData(name="Westhoek Vrijetijd Anders"),
                                       "ie-wva")
    assert org.slug == "westhoek-vrijetijd-anders" and org.account_code == "IE-WVA"
    with pytest.raises(DomainError, match="already in use"):
        services.create_organisation(admin, OrganisationData(name="X"), "IE-001")
    second = services.create_organisation(admin, OrganisationData(name="Westhoek Vrijetijd "
                                                                  "Anders"), "IE-WV2")
    assert second.slug == "westhoek-vrijetijd-anders-2"


def test_members_cannot_add_organisations(make_member: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.create_organisation(make_member(), OrganisationData(name="X"), "IE-X")


def test_intermediary_edits_own_organisation_only(people: dict[str, Any]) -> None:
    data = OrganisationData(name="Hedera vzw", website="https://hedera.example.org")
    services.update_organisation(people["intermediary"], people["org"], data)
    assert people["org"].name == "Hedera vzw"
    with pytest.raises(PermissionDenied):
        services.update_organisation(people["intermediary"], people["other_org"], data)
    with pytest.raises(PermissionDenied):
        services.update_organisation(people["member"], people["org"], data)


def test_website_must_be_http(people: dict[str, Any]) -> None:
    with pytest.raises(DomainError, match="http"):
        services.update_organisation(people["admin"], people["org"],
                                     OrganisationData(name="X", website="javascript:alert(1)"))


def test_admin_assigns_and_removes_intermediaries(client: Any, login_as: Any,
                                                  people: dict[str, Any]) -> None:
    login_as("admin")
    org, member = people["org"], people["member"]
    response = client.post_form(f"/admin/organisations/{org.slug}",
                                {"account_code": member.account_code.lower()})
    assert response.status_code == 303
    assert org.has_intermediary(member)
    response = client.post_form(f"/admin/organisations/{org.slug}",
                                {"account_code": member.account_code})
    assert "already an intermediary" in text(response)
    response = client.post_form(f"/admin/organisations/{org.slug}", {"account_code": "ZZ-999"})
    assert "No member with that account code" in text(response)
    response = client.post_form(f"/admin/organisations/{org.slug}/remove",
                                {"member_id": str(member.id)})
    assert response.status_code == 303
    assert not org.has_intermediary(member)
    audit = text(client.get("/admin/audit?action=organisation."))
    assert "Added an intermediary" in audit and "Removed an intermediary" in audit


def test_intermediary_cannot_assign_intermediaries(client: Any, login_as: Any,
                                                   people: dict[str, Any]) -> None:
    login_as("intermediary")
    response = client.post_form(f"/admin/organisations/{people['org'].slug}",
                                {"account_code": people["member"].account_code})
    assert response.status_code == 403
    assert not people["org"].has_intermediary(people["member"])


def test_organisation_page_shows_intermediaries_to_members_only(
    client: Any, login_as: Any, people: dict[str, Any]
) -> None:
    page = text(client.get("/organisations/hedera"))
    assert "Hedera" in select_text(page, "h1") and "Ivo Intermediary" not in page
    login_as("member")
    assert "Ivo Intermediary" in main_text(client.get("/organisations/hedera"))


def test_intermediary_edits_through_the_form(client: Any, login_as: Any,
                                             people: dict[str, Any]) -> None:
    login_as("intermediary")
    response = client.post_form("/organisations/hedera/edit", {
        "name": "Hedera", "description": "Wandelingen en **kookhulp**", "website": ""})
    assert response.status_code == 303
    assert "<strong>kookhulp</strong>" in text(client.get("/organisations/hedera"))
    response = client.post_form("/organisations/vondels/edit", {"name": "Hacked"})
    assert response.status_code == 403


def test_removing_an_intermediary_with_a_bad_id_is_refused_gently(
    client: Any, login_as: Any, people: dict[str, Any]
) -> None:
    login_as("admin")
    response = client.post_form("/admin/organisations/hedera/remove", {"member_id": "²"},
                                follow_redirects=True)
    assert response.status_code == 200 and "Nothing was removed" in text(response)
    assert people["org"].has_intermediary(people["intermediary"])
