"""The partners pages per role, with and without htmx, and the messages for bad input."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from lets_site.audit.models import AuditEntry
from lets_site.extensions import db
from lets_site.partners import services
from lets_site.partners.models import ContactScript, Prospect
from tests.html import main_text, select_text
from tests.partners.helpers import (
    make_collaboration,
    make_partner,
    make_prospect,
    make_script,
)

HX = {"HX-Request": "true"}


def _login(auth: Any, member: Any) -> None:
    assert auth.login(member.account_code).status_code == 303


# --- Directory and partner pages --------------------------------------------------------------


def test_visitor_sees_the_directory_without_contact_persons(client: Any, people: dict[str, Any],
                                                            coordinator: Any) -> None:
    partner = make_partner(coordinator, "Stad Ieper", gives="Gratis zaaltjes")
    services.add_contact(coordinator, partner, services.ContactData(
        name="Pieter Lambrecht", email="pieter@example.org"))
    db.session.commit()
    listing = select_text(client.get("/partners/"), "#partners")
    assert "Stad Ieper" in listing and "Gratis zaaltjes" in listing
    assert "Hedera" in listing and "Vondels" in listing  # member organisations
    page = client.get("/partners/stad-ieper")
    assert page.status_code == 200
    assert "Gratis zaaltjes" in main_text(page)
    assert "Pieter" not in page.get_data(as_text=True)


def test_members_see_members_contacts_coordinators_all(client: Any, auth: Any,
                                                       people: dict[str, Any],
                                                       coordinator: Any) -> None:
    partner = make_partner(coordinator, "Stad Ieper")
    services.add_contact(coordinator, partner, services.ContactData(name="Pieter Lambrecht"))
    services.add_contact(coordinator, partner, services.ContactData(
        name="Hanne Devriendt", visibility="coordinators"))
    db.session.commit()
    _login(auth, people["member"])
    text = main_text(client.get("/partners/stad-ieper"))
    assert "Pieter Lambrecht" in text and "Hanne Devriendt" not in text
    assert "For partner coordinators" not in text
    auth.logout()
    _login(auth, coordinator)
    text = main_text(client.get("/partners/stad-ieper"))
    assert "Pieter Lambrecht" in text and "Hanne Devriendt" in text
    assert "Record a collaboration" in text


def test_member_organisation_page_shows_its_listings_through_the_contract(
        client: Any, people: dict[str, Any]) -> None:
    from tests.offers.conftest import make_listing

    make_listing(people["org"], "Wandelingen met de hond", visibility="public",
                 state="published")
    page = client.get("/partners/hedera")
    assert page.status_code == 200
    assert "Wandelingen met de hond" in main_text(page)
    assert "Member organisation" in main_text(page)


def test_directory_filter_answers_htmx_with_the_list_alone(client: Any,
                                                           coordinator: Any) -> None:
    make_partner(coordinator, "Bibliotheek", sector="library")
    make_partner(coordinator, "Vormingplus", sector="adult_education")
    full = client.get("/partners/?sector=library")
    assert "Vormingplus" not in select_text(full, "#partners")
    part = client.get("/partners/?sector=library", headers=HX)
    body = part.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="partners"') and "<html" not in body
    assert "Bibliotheek" in body and "Vormingplus" not in body
    assert "HX-Request" in part.headers["Vary"]


def test_home_page_shows_our_partners(client: Any, coordinator: Any) -> None:
    make_partner(coordinator, "Bibliotheek")
    make_partner(coordinator, "Voedselteam", visibility="members")
    text = select_text(client.get("/"), "#home-partners")
    assert "Bibliotheek" in text and "Voedselteam" not in text


def test_coordinator_adopts_a_member_organisation(client: Any, auth: Any,
                                                  people: dict[str, Any],
                                                  coordinator: Any) -> None:
    _login(auth, coordinator)
    response = client.post_form("/partners/hedera/adopt")
    assert response.status_code == 303 and response.headers["Location"] == "/partners/hedera"
    response = client.post_form("/partners/hedera/collaborations/new", {
        "happened_on": "18/05/2019", "title": "Wandeling met bewoners", "support": ["people"],
        "visibility": "public"})
    assert response.status_code == 303
    assert "Wandeling met bewoners" in main_text(client.get("/partners/hedera"))


def test_member_cannot_adopt_or_add(client: Any, auth: Any, people: dict[str, Any]) -> None:
    _login(auth, people["intermediary"])
    assert client.post_form("/partners/hedera/adopt").status_code == 403
    assert client.post_form("/partners/new", {"name": "X"}).status_code == 403


def test_partner_form_messages(client: Any, auth: Any, coordinator: Any) -> None:
    make_partner(coordinator, "Bibliotheek")
    _login(auth, coordinator)
    page = client.post_form("/partners/new", {"name": "bibliotheek", "sector": "library",
                                              "visibility": "public"})
    assert page.status_code == 200
    assert "There is already a partner called bibliotheek." in main_text(page)
    page = client.post_form("/partners/new", {"name": "Oxfam", "sector": "food",
                                              "visibility": "public",
                                              "gives": "x" * (services.TEXT_MAX + 1)})
    assert "Field cannot be longer than 8000 characters." in main_text(page)
    page = client.post_form("/partners/new", {"name": "Oxfam", "sector": "food",
                                              "visibility": "public",
                                              "website": "oxfam.example.org"})
    assert "A website address starts with http:// or https://." in main_text(page)


def test_collaboration_form_reads_a_decimal_comma_and_a_belgian_date(
        client: Any, auth: Any, coordinator: Any) -> None:
    partner = make_partner(coordinator, "Stad Ieper")
    _login(auth, coordinator)
    response = client.post_form(f"/partners/{partner.slug}/collaborations/new", {
        "happened_on": "21.03.2019", "title": "Sprekersavond", "support": ["money", "room"],
        "amount": "150,50", "visitors": "41", "open_to_non_members": "y",
        "visibility": "public"})
    assert response.status_code == 303
    item = services.year_report(None, 2019).items[0]
    assert (item.happened_on.isoformat(), item.amount_cents, item.visitors) == (
        "2019-03-21", 15050, 41)
    edit = client.get(f"/partners/{partner.slug}/collaborations/{item.id}/edit")
    assert 'value="150.50"' in edit.get_data(as_text=True)
    page = client.post_form(f"/partners/{partner.slug}/collaborations/new", {
        "happened_on": "2019-13-45", "title": "X", "amount": "1.234,5",
        "visibility": "public"})
    text = main_text(page)
    assert "Write the date as day/month/year" in text and "Write a number such as 1,5" in text


# --- Our collaborations in a year -------------------------------------------------------------


def _year_data(coordinator: Any) -> None:
    partner = make_partner(coordinator, "Vormingplus")
    make_collaboration(coordinator, partner, "Filmvoorstelling A Plastic Ocean",
                       support=["material", "money"], amount=Decimal("1234.5"))
    make_collaboration(coordinator, partner, "=HYPERLINK(\"http://evil\")",
                       happened_on=services.today().replace(year=2019, month=6, day=1))
    make_collaboration(coordinator, partner, "Een ander jaar",
                       happened_on=services.today().replace(year=2020))


def test_collaborations_page_for_a_year(client: Any, coordinator: Any) -> None:
    _year_data(coordinator)
    page = client.get("/partners/collaborations?year=2019")
    table = select_text(page, "#collaborations")
    assert "Filmvoorstelling A Plastic Ocean" in table and "Een ander jaar" not in table
    assert "€1,234.50" in select_text(page, "#summary")
    assert "Our collaborations in 2019" in select_text(page, "h1")
    # Unreadable years fall back to the newest year with collaborations.
    assert "2020" in select_text(client.get("/partners/collaborations?year=abc"), "h1")


def test_collaborations_csv_for_a_belgian_spreadsheet(client: Any, coordinator: Any) -> None:
    _year_data(coordinator)
    response = client.get("/partners/collaborations.csv?year=2019",
                          headers={"Accept-Language": "nl"})
    assert response.mimetype == "text/csv"
    assert 'filename="collaborations-2019.csv"' in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Datum"  # the reader's language
    film = next(r for r in rows if r[2] == "Filmvoorstelling A Plastic Ocean")
    assert film[4] == "1234,50"
    assert any(r[2].startswith("'=HYPERLINK") for r in rows)  # never run as a formula
    # In English: commas and a decimal point.
    plain = client.get("/partners/collaborations.csv?year=2019",
                       headers={"Accept-Language": "en"}).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(plain.removeprefix("\ufeff"))))
    assert rows[0][0] == "Date"
    assert next(r for r in rows if r[2].startswith("Film"))[4] == "1234.50"


# --- The pipeline -----------------------------------------------------------------------------


def test_plain_member_cannot_see_the_pipeline(client: Any, auth: Any, people: dict[str, Any],
                                              coordinator: Any) -> None:
    prospect = make_prospect(coordinator, "Natuurpunt")
    _login(auth, people["member"])
    assert client.get("/partners/prospects").status_code == 403
    assert client.get(f"/partners/prospects/{prospect.id}").status_code == 403
    assert client.post_form(f"/partners/prospects/{prospect.id}/move",
                            {"status": "to_contact"}).status_code == 403
    assert "Natuurpunt" not in client.get("/partners/").get_data(as_text=True)
    auth.logout()
    _login(auth, coordinator)
    assert "Natuurpunt" in select_text(client.get("/partners/prospects"), "#board")


def test_coordinator_takes_a_prospect_from_idea_to_partner(client: Any, auth: Any,
                                                           coordinator: Any,
                                                           outbox: Any) -> None:
    script = make_script(coordinator)
    _login(auth, coordinator)
    response = client.post_form("/partners/prospects/new", {
        "name": "Repair Café Ieper", "sector": "environment", "owner_id": str(coordinator.id),
        "next_step": "Mail sturen", "next_step_on": "", "contact_name": "Jan",
        "contact_email": "jan@repair.example.org"})
    assert response.status_code == 303
    prospect = db.session.scalar(select(Prospect))
    base = f"/partners/prospects/{prospect.id}"
    for day, summary in ((services.today() - timedelta(days=2), "Gebeld met Jan"),
                         (services.today(), "Jan stelt een samenwerking voor")):
        response = client.post_form(base, {"happened_on": day.strftime("%d/%m/%Y"),
                                           "medium": "phone", "summary": summary})
        assert response.status_code == 303
    page = client.get(f"{base}/scripts/{script.id}")
    assert "Beste Jan," in select_text(page, "textarea")
    assert client.post_form(f"{base}/send", {"script_id": str(script.id)}).status_code == 303
    assert "To: jan@repair.example.org" in outbox()[-1]
    for status in ("to_contact", "contacted", "meeting"):
        assert client.post_form(f"{base}/move", {"status": status}).status_code == 303
    # The last move with htmx: the board comes back in place.
    response = client.post_form(f"{base}/move", {"status": "partner"}, headers=HX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="board"') and "moved to" in body
    assert "HX-Request" in response.headers["Vary"]
    db.session.expire_all()
    partner = db.session.get(Prospect, prospect.id).partner
    history = main_text(client.get(f"/partners/{partner.slug}"))
    assert "Gebeld met Jan" in history and "contact script sent by e-mail" in history
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"partners.prospect_create", "partners.prospect_contact", "partners.script_send",
            "partners.prospect_move", "partners.create"} <= actions


def test_move_that_makes_no_sense_is_told(client: Any, auth: Any, coordinator: Any) -> None:
    prospect = make_prospect(coordinator, "Femma")
    _login(auth, coordinator)
    response = client.post_form(f"/partners/prospects/{prospect.id}/move",
                                {"status": "partner"}, follow_redirects=True)
    assert "A prospect cannot go from “Idea” to “Partner”." in select_text(response,
                                                                           "#messages")
    response = client.post_form(f"/partners/prospects/{prospect.id}/move",
                                {"status": "nonsense"}, headers=HX)
    assert "That is not a stage of the pipeline." in select_text(response, "#board")


def test_overdue_next_steps_are_flagged_on_the_board(client: Any, auth: Any,
                                                     coordinator: Any) -> None:
    late = make_prospect(coordinator, "Gezinsbond", next_step="Bellen")
    late.next_step_on = services.today() - timedelta(days=1)
    make_prospect(coordinator, "Velt", next_step="Mailen", next_step_on=services.today())
    db.session.commit()
    _login(auth, coordinator)
    page = client.get("/partners/prospects")
    assert "Overdue:" in select_text(page, f"#prospect-{late.id}")
    velt = db.session.scalar(select(Prospect).where(Prospect.name == "Velt"))
    assert "Overdue" not in select_text(page, f"#prospect-{velt.id}")


def test_prospect_form_messages(client: Any, auth: Any, coordinator: Any) -> None:
    make_prospect(coordinator, "Oxfam")
    _login(auth, coordinator)
    yesterday = (services.today() - timedelta(days=1)).strftime("%d/%m/%Y")
    page = client.post_form("/partners/prospects/new", {"name": "Velt", "sector": "food",
                                                        "next_step_on": yesterday})
    assert "The date of the next step has passed" in main_text(page)
    page = client.post_form("/partners/prospects/new", {"name": "OXFAM", "sector": "food"})
    assert "OXFAM is on the list already." in main_text(page)
    page = client.post_form("/partners/prospects/new", {
        "name": "Velt", "sector": "food", "notes": "x" * (services.TEXT_MAX + 1)})
    assert "Field cannot be longer than 8000 characters." in main_text(page)


# --- Scripts ----------------------------------------------------------------------------------


def test_script_form_names_the_unknown_placeholder(client: Any, auth: Any,
                                                  coordinator: Any) -> None:
    _login(auth, coordinator)
    page = client.post_form("/partners/scripts/new", {
        "title": "Eerste mail", "language": "nl", "subject": "Hallo",
        "body": "Beste {contactpersoon}"})
    assert page.status_code == 200
    assert "Unknown placeholder: {contactpersoon}." in main_text(page)
    assert db.session.scalar(select(ContactScript)) is None


def test_rendered_script_is_escaped(client: Any, auth: Any, coordinator: Any) -> None:
    script = make_script(coordinator, body="Dag {contact_name} van {organisation}")
    prospect = make_prospect(coordinator, "<script>alert(1)</script>",
                             contact_name="<b>Jan</b>")
    _login(auth, coordinator)
    body = client.get(f"/partners/prospects/{prospect.id}/scripts/{script.id}").get_data(
        as_text=True)
    assert "<script>alert(1)</script>" not in body and "<b>Jan</b>" not in body
    assert "Dag <b>Jan</b> van <script>" in select_text(body, "textarea")  # as typed
    assert "Dag &lt;b&gt;Jan&lt;/b&gt; van &lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_scripts_export_and_import_through_the_pages(client: Any, auth: Any,
                                                     coordinator: Any) -> None:
    make_script(coordinator, "Kennismaking")
    _login(auth, coordinator)
    exported = client.get("/partners/scripts/export.json")
    assert exported.mimetype == "application/json"
    document = json.loads(exported.get_data(as_text=True))
    document["scripts"].append({"title": "Prise de contact", "language": "fr",
                                "subject": "Bonjour", "body": "Bonjour {contact_name}"})
    upload = FileStorage(io.BytesIO(json.dumps(document).encode()), filename="scripts.json")
    response = client.post_form("/partners/scripts/import", {"file": upload},
                                content_type="multipart/form-data", follow_redirects=True)
    messages = select_text(response, "#messages")
    assert "1 scripts added." in messages and "Kennismaking" in messages
    bad = FileStorage(io.BytesIO(b"{}"), filename="scripts.json")
    page = client.post_form("/partners/scripts/import", {"file": bad},
                            content_type="multipart/form-data")
    assert "This is not a file of contact scripts (JSON)." in main_text(page)


# --- The coordinator role ---------------------------------------------------------------------


def test_admin_gives_and_takes_the_coordinator_role(client: Any, auth: Any,
                                                    people: dict[str, Any]) -> None:
    _login(auth, people["admin"])
    code = people["member"].account_code
    response = client.post_form("/admin/partners/coordinators", {"account_code": code})
    assert response.status_code == 303
    assert services.is_coordinator(people["member"])
    response = client.post_form("/admin/partners/coordinators/remove",
                                {"row_id": str(people["member"].id)})
    assert response.status_code == 303
    db.session.expire_all()
    assert not services.is_coordinator(people["member"])
    auth.logout()
    _login(auth, people["member"])
    assert client.post_form("/admin/partners/coordinators",
                            {"account_code": code}).status_code == 403


def test_coordinator_pages_open_for_a_coordinator(client: Any, auth: Any,
                                                  people: dict[str, Any],
                                                  coordinator: Any) -> None:
    """The route table walks admins; a member with the coordinator role sees the same."""
    from tests.partners.access import TABLE
    from tests.test_routes import fill

    _login(auth, coordinator)
    for template, expected in TABLE.routes.items():
        if expected["admin"] == 200 and not template.startswith("/admin/"):
            path = fill(TABLE, template, people)
            assert client.get(path).status_code == 200, path
    assert client.get("/admin/partners/coordinators").status_code == 403


# --- Every POST per role ----------------------------------------------------------------------


def _post_paths(people: dict[str, Any]) -> list[str]:
    from tests.partners.helpers import route_objects

    o = route_objects(people)
    partner, prospect, script = o["partner"], o["prospect"], o["script"]
    item = o["collaboration"]
    return [
        "/partners/new", f"/partners/{partner}/edit", "/partners/hedera/adopt",
        f"/partners/{partner}/delete", f"/partners/{partner}/contacts",
        f"/partners/{partner}/contacts/remove", f"/partners/{partner}/collaborations/new",
        f"/partners/{partner}/collaborations/{item}/edit",
        f"/partners/{partner}/collaborations/{item}/delete", "/partners/prospects/new",
        f"/partners/prospects/{prospect}", f"/partners/prospects/{prospect}/edit",
        f"/partners/prospects/{prospect}/move", f"/partners/prospects/{prospect}/send",
        "/partners/scripts/values", "/partners/scripts/new",
        f"/partners/scripts/{script}/edit", f"/partners/scripts/{script}/delete",
        "/partners/scripts/import", "/partners/scripts/shared/1/import",
        "/admin/partners/coordinators",
        "/admin/partners/coordinators/remove",
    ]


def test_every_post_is_refused_to_visitors_and_members(client: Any, login_as: Any,
                                                       people: dict[str, Any]) -> None:
    from tests.partners.access import TABLE
    from tests.test_routes import TABLE as ALL

    paths = _post_paths(people)
    rules = {r.rule for r in client.application.url_map.iter_rules()
             if "POST" in (r.methods or ()) and (r.rule.startswith("/partners")
                                                 or r.rule.startswith("/admin/partners"))}
    assert len(paths) == len(rules)  # one path per POST rule of the feature
    assert TABLE.post_only <= ALL.post_only
    for role, expected in (("anonymous", 302), ("member", 403), ("intermediary", 403),
                           ("other_org_member", 403)):
        login_as(role)
        for path in paths:
            response = client.post_form(path, {"name": "X", "status": "to_contact",
                                               "row_id": "1", "script_id": "1"})
            assert response.status_code == expected, (role, path, response.status_code)
            if expected == 302:
                assert "/login" in response.headers["Location"]
        client.post_form("/logout")
    # Nothing changed: the objects are as route_objects made them.
    assert db.session.scalar(select(Prospect)).status == "idea"
    assert services.get_partner(people["_partners"]["partner"]).title == "Routebibliotheek"


def test_home_page_lists_a_coordinators_own_next_steps(client: Any, auth: Any,
                                                       people: dict[str, Any],
                                                       coordinator: Any) -> None:
    late = make_prospect(coordinator, "Gezinsbond", owner_id=coordinator.id,
                         next_step="Bellen")
    late.next_step_on = services.today() - timedelta(days=1)
    make_prospect(coordinator, "Velt", owner_id=coordinator.id, next_step="Mailen",
                  next_step_on=services.today() + timedelta(days=3))
    make_prospect(coordinator, "Femma", owner_id=coordinator.id)  # no date: no step
    make_prospect(coordinator, "OCMW", owner_id=people["admin"].id,
                  next_step_on=services.today())  # somebody else's
    db.session.commit()
    _login(auth, coordinator)
    steps = select_text(client.get("/"), "#my-next-steps")
    assert "Overdue: Bellen" in steps and "Mailen" in steps
    assert "Femma" not in steps and "OCMW" not in steps
    assert steps.index("Gezinsbond") < steps.index("Velt")
    auth.logout()
    _login(auth, people["member"])
    assert "my-next-steps" not in client.get("/").get_data(as_text=True)
