"""The partners feature's rules, per role and at their edges."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from lets_site import features, signals
from lets_site.audit.models import AuditEntry
from lets_site.domain import DomainError, PermissionDenied
from lets_site.extensions import db
from lets_site.mail import OutboxMail
from lets_site.members.models import Status as MemberStatus
from lets_site.partners import services
from lets_site.partners.models import ContactScript, LogKind, Partner, Status
from tests import factories
from tests.partners.helpers import (
    make_collaboration,
    make_partner,
    make_prospect,
    make_script,
)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# --- The coordinator role ---------------------------------------------------------------------


def test_is_coordinator_admins_and_given_members_only(people: dict[str, Any],
                                                      coordinator: Any) -> None:
    assert services.is_coordinator(people["admin"])
    assert services.is_coordinator(coordinator)
    assert not services.is_coordinator(people["member"])
    assert not services.is_coordinator(None)
    coordinator.status = MemberStatus.INACTIVE
    assert not services.is_coordinator(coordinator)


def test_grant_coordinator_only_by_admins_and_audited(people: dict[str, Any],
                                                      coordinator: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.grant_coordinator(coordinator, people["member"].account_code)
    services.grant_coordinator(people["admin"], people["member"].account_code)
    assert services.is_coordinator(people["member"])
    with pytest.raises(DomainError) as error:
        services.grant_coordinator(people["admin"], people["member"].account_code)
    assert error.value.field == "account_code"
    with pytest.raises(DomainError, match="No member"):
        services.grant_coordinator(people["admin"], "XX-999")
    services.revoke_coordinator(people["admin"], people["member"].id)
    assert not services.is_coordinator(people["member"])
    assert _actions()[-3:] == ["partners.coordinator_add", "partners.coordinator_add",
                               "partners.coordinator_remove"]


# --- Partners and the directory ---------------------------------------------------------------


def test_create_partner_by_coordinator_not_by_member(people: dict[str, Any],
                                                     coordinator: Any) -> None:
    data = services.PartnerData(name="Vormingplus", sector="adult_education")
    with pytest.raises(PermissionDenied):
        services.create_partner(people["member"], data)
    partner = services.create_partner(coordinator, data)
    assert partner.slug == "vormingplus" and partner.kind == "collaboration"
    assert _actions()[-1] == "partners.create"


def test_partner_names_are_unique_whatever_the_case_and_spaces(coordinator: Any) -> None:
    make_partner(coordinator, "Stad Ieper")
    with pytest.raises(DomainError, match="already a partner") as error:
        services.create_partner(coordinator, services.PartnerData(name="  stad   IEPER "))
    assert error.value.field == "name"


def test_partner_text_at_its_limit_is_taken_one_more_is_refused(coordinator: Any) -> None:
    ok = services.PartnerData(name="Bib", gives="x" * services.TEXT_MAX)
    services.create_partner(coordinator, ok)
    too_long = services.PartnerData(name="Bib 2", gives="x" * (services.TEXT_MAX + 1))
    with pytest.raises(DomainError, match="too long") as error:
        services.create_partner(coordinator, too_long)
    assert error.value.field == "gives"


@pytest.mark.parametrize("field,value", [("website", "www.example.org"),
                                         ("sector", "astrology"), ("visibility", "secret")])
def test_partner_refuses_bad_values(coordinator: Any, field: str, value: str) -> None:
    data = services.PartnerData(name="Oxfam", **{field: value})
    with pytest.raises(DomainError) as error:
        services.create_partner(coordinator, data)
    assert error.value.field == field


def test_slugs_never_take_the_features_own_paths(coordinator: Any) -> None:
    assert make_partner(coordinator, "Prospects").slug == "prospects-2"


def test_directory_lists_member_organisations_without_retyping(people: dict[str, Any],
                                                              coordinator: Any) -> None:
    make_partner(coordinator, "Bibliotheek")
    make_partner(coordinator, "Voedselteam", visibility="members")
    stopped = factories.make_organisation(name="Gestopt", slug="gestopt", status="inactive")
    public = {e.title: e.kind for e in services.directory(None)}
    assert public == {"Bibliotheek": "collaboration", "Hedera": "member",
                      "Vondels": "member"}
    assert "Voedselteam" in {e.title for e in services.directory(people["member"])}
    assert stopped.name not in public
    # A member organisation with a partner record is listed once, under its own name.
    services.adopt_organisation(coordinator, "hedera")
    titles = [e.title for e in services.directory(None)]
    assert titles.count("Hedera") == 1
    assert [e.title for e in services.directory(None, kind="member")] == ["Hedera", "Vondels"]


def test_adopted_organisation_keeps_its_own_name(people: dict[str, Any],
                                                 coordinator: Any) -> None:
    partner = services.adopt_organisation(coordinator, "hedera")
    people["org"].name = "Hedera vzw"
    assert partner.title == "Hedera vzw" and partner.slug == "hedera"
    with pytest.raises(DomainError, match="already"):
        services.adopt_organisation(coordinator, "hedera")
    with pytest.raises(PermissionDenied):
        services.adopt_organisation(people["intermediary"], "vondels")


def test_find_page_hides_members_only_partners_from_visitors(people: dict[str, Any],
                                                             coordinator: Any) -> None:
    hidden = make_partner(coordinator, "Voedselteam", visibility="members")
    with pytest.raises(PermissionDenied):
        services.find_page(hidden.slug, None)
    assert services.find_page(hidden.slug, people["member"]) == (hidden, None)
    assert services.find_page("hedera", None) == (None, people["org"])


def test_contact_persons_per_viewer(people: dict[str, Any], coordinator: Any) -> None:
    partner = make_partner(coordinator, "Stad Ieper")
    services.add_contact(coordinator, partner, services.ContactData(
        name="Pieter", role="duurzaamheidsambtenaar", email="pieter@example.org"))
    services.add_contact(coordinator, partner, services.ContactData(
        name="Hanne", visibility="coordinators"))
    assert partner.visible_contacts(None, False) == []
    assert [c.name for c in partner.visible_contacts(people["member"], False)] == ["Pieter"]
    assert [c.name for c in partner.visible_contacts(coordinator, True)] == ["Pieter", "Hanne"]
    with pytest.raises(DomainError) as error:
        services.add_contact(coordinator, partner, services.ContactData(name="X",
                                                                       email="not-an-address"))
    assert error.value.field == "email"


# --- Collaborations ---------------------------------------------------------------------------


def _collab(**overrides: Any) -> services.CollaborationData:
    values: dict[str, Any] = {"happened_on": date(2019, 5, 18), "title": "Film"}
    values.update(overrides)
    return services.CollaborationData(**values)


def test_money_amount_only_with_money_support(coordinator: Any) -> None:
    partner = make_partner(coordinator)
    with pytest.raises(DomainError, match="money") as error:
        services.add_collaboration(coordinator, partner, _collab(amount=Decimal("10")))
    assert error.value.field == "amount"
    item = services.add_collaboration(coordinator, partner, _collab(
        support=["money", "room"], amount=Decimal("75.5")))
    assert item.amount_cents == 7550 and item.supports == ["room", "money"]
    with pytest.raises(DomainError):
        services.add_collaboration(coordinator, partner, _collab(
            support=["money"], amount=Decimal("-0.01")))
    with pytest.raises(DomainError) as error:
        services.add_collaboration(coordinator, partner, _collab(support=["cake"]))
    assert error.value.field == "support"


def test_collaborations_by_members_are_refused(people: dict[str, Any],
                                               coordinator: Any) -> None:
    partner = make_partner(coordinator)
    with pytest.raises(PermissionDenied):
        services.add_collaboration(people["member"], partner, _collab())


def test_year_report_counts_what_the_viewer_may_see(people: dict[str, Any],
                                                    coordinator: Any) -> None:
    partner = make_partner(coordinator)
    other = make_partner(coordinator, "Stad")
    make_collaboration(coordinator, partner, "Film", support=["money"], amount=Decimal(150),
                       visitors=34)
    make_collaboration(coordinator, other, "Spreker", happened_on=date(2019, 12, 31),
                       visitors=10, visibility="members")
    make_collaboration(coordinator, other, "Volgend jaar", happened_on=date(2020, 1, 1))
    public = services.year_report(None, 2019)
    assert [c.title for c in public.items] == ["Film"]
    assert (public.partners, public.money_cents, public.visitors) == (1, 15000, 34)
    members = services.year_report(people["member"], 2019)
    assert [c.title for c in members.items] == ["Film", "Spreker"]
    assert (members.partners, members.visitors) == (2, 44)
    assert services.collaboration_years(None) == [2020, 2019]


def test_euros_for_csv() -> None:
    assert services.euros(7550) == "75.50"
    assert services.euros(7550, decimal_comma=True) == "75,50"
    assert services.euros(5) == "0.05"
    assert services.euros(None) == ""


# --- The prospects pipeline -------------------------------------------------------------------


def test_next_step_date_today_is_taken_yesterday_refused(coordinator: Any) -> None:
    today = services.today()
    prospect = make_prospect(coordinator, "Oxfam", next_step_on=today)
    assert prospect.next_step_on == today
    with pytest.raises(DomainError, match="passed") as error:
        services.create_prospect(coordinator, services.ProspectData(
            name="Velt", next_step_on=today - timedelta(days=1)))
    assert error.value.field == "next_step_on"


def test_a_saved_date_that_passed_does_not_block_an_edit(coordinator: Any) -> None:
    prospect = make_prospect(coordinator, "Velt")
    prospect.next_step_on = services.today() - timedelta(days=3)  # saved earlier
    services.update_prospect(coordinator, prospect, services.ProspectData(
        name="Velt vzw", next_step_on=prospect.next_step_on, next_step="Bellen"))
    assert prospect.name == "Velt vzw"


def test_prospect_names_are_unique_and_not_a_partner_already(coordinator: Any) -> None:
    make_prospect(coordinator, "Repair Café")
    make_partner(coordinator, "Bibliotheek")
    with pytest.raises(DomainError, match="on the list already"):
        services.create_prospect(coordinator, services.ProspectData(name="repair café"))
    with pytest.raises(DomainError, match="partner already"):
        services.create_prospect(coordinator, services.ProspectData(name="Bibliotheek"))


def test_owner_must_be_able_to_run_the_pipeline(people: dict[str, Any],
                                                coordinator: Any) -> None:
    with pytest.raises(DomainError) as error:
        services.create_prospect(coordinator, services.ProspectData(
            name="Femma", owner_id=people["member"].id))
    assert error.value.field == "owner_id"
    prospect = services.create_prospect(coordinator, services.ProspectData(
        name="Femma", owner_id=coordinator.id))
    assert prospect.owner == coordinator
    assert coordinator in services.owner_choices()
    assert people["admin"] in services.owner_choices()
    assert people["member"] not in services.owner_choices()


def test_members_cannot_see_or_change_the_pipeline(people: dict[str, Any],
                                                   coordinator: Any) -> None:
    prospect = make_prospect(coordinator)
    for call in (lambda: services.board(people["member"]),
                 lambda: services.get_prospect(people["member"], prospect.id),
                 lambda: services.move_prospect(people["member"], prospect, "to_contact"),
                 lambda: services.create_prospect(people["intermediary"],
                                                  services.ProspectData(name="X"))):
        with pytest.raises(PermissionDenied):
            call()


@pytest.mark.parametrize("status,message", [
    ("won", "not a stage"), ("idea", "in that stage already"), ("meeting", "cannot go from"),
    ("partner", "cannot go from"),
])
def test_moves_that_make_no_sense_are_refused(coordinator: Any, status: str,
                                              message: str) -> None:
    prospect = make_prospect(coordinator)
    with pytest.raises(DomainError, match=message) as error:
        services.move_prospect(coordinator, prospect, status)
    assert error.value.field == "status"
    assert prospect.status == "idea"


def test_reaching_partner_makes_a_partner_record_and_keeps_history(coordinator: Any) -> None:
    prospect = make_prospect(coordinator, "Repair Café Ieper", sector="environment",
                             contact_name="Jan", contact_email="jan@example.org",
                             website="https://repair.example.org")
    for status in ("to_contact", "contacted", "meeting"):
        services.move_prospect(coordinator, prospect, status)
    services.log_contact(coordinator, prospect, services.LogData(
        happened_on=services.today(), medium="phone", summary="Afspraak gemaakt"))
    services.move_prospect(coordinator, prospect, "partner")
    partner = prospect.partner
    assert partner is not None
    assert (partner.name, partner.sector, partner.website) == (
        "Repair Café Ieper", "environment", "https://repair.example.org")
    assert partner.visibility == "members"  # public once a coordinator wrote its text
    assert [(c.name, c.email, c.visibility) for c in partner.contacts] == [
        ("Jan", "jan@example.org", "coordinators")]
    kinds = [e.kind for e in services.history_of(partner)]
    assert kinds.count(LogKind.STATUS) == 4 and kinds.count(LogKind.CONTACT) == 1
    assert prospect.moves() == []  # the end of the pipeline
    assert "partners.prospect_move" in _actions()


def test_reaching_partner_links_an_existing_partner_of_that_name(coordinator: Any) -> None:
    prospect = make_prospect(coordinator, "Natuurpunt")
    services.move_prospect(coordinator, prospect, "contacted")
    # Meanwhile somebody added the partner by hand: no second record.
    existing = make_partner(coordinator, "natuurpunt")
    services.move_prospect(coordinator, prospect, "partner")
    assert prospect.partner is existing
    assert db.session.scalar(select(db.func.count(Partner.id))) == 1


def test_log_contact_today_yes_tomorrow_no(coordinator: Any) -> None:
    prospect = make_prospect(coordinator)
    services.log_contact(coordinator, prospect, services.LogData(
        happened_on=services.today(), medium="email", summary="Mail gestuurd"))
    with pytest.raises(DomainError, match="future") as error:
        services.log_contact(coordinator, prospect, services.LogData(
            happened_on=services.today() + timedelta(days=1), medium="email", summary="x"))
    assert error.value.field == "happened_on"
    with pytest.raises(DomainError) as error:
        services.log_contact(coordinator, prospect, services.LogData(
            happened_on=services.today(), medium="pigeon", summary="x"))
    assert error.value.field == "medium"


def test_overdue_is_an_open_next_step_before_today(coordinator: Any) -> None:
    today = date(2026, 12, 3)
    prospect = make_prospect(coordinator)
    prospect.next_step_on = today
    assert not prospect.is_overdue(today)
    prospect.next_step_on = today - timedelta(days=1)
    assert prospect.is_overdue(today)
    prospect.status = Status.NOT_NOW
    assert not prospect.is_overdue(today)


def test_board_has_every_stage_in_order(coordinator: Any) -> None:
    make_prospect(coordinator, "B", next_step_on=services.today() + timedelta(days=2))
    make_prospect(coordinator, "A", next_step_on=services.today() + timedelta(days=5))
    make_prospect(coordinator, "C")
    columns = services.board(coordinator)
    assert list(columns) == ["idea", "to_contact", "contacted", "meeting", "partner",
                             "not_now"]
    assert [p.name for p in columns["idea"]] == ["B", "A", "C"]


# --- Contact scripts --------------------------------------------------------------------------


def test_unknown_placeholder_is_refused_by_name(coordinator: Any) -> None:
    with pytest.raises(DomainError, match=r"\{organization\}") as error:
        make_script(coordinator, body="Beste {contact_name} van {organization}")
    assert error.value.field == "body"
    with pytest.raises(DomainError, match=r"\{groep\}") as error:
        make_script(coordinator, subject="Hallo {groep}")
    assert error.value.field == "subject"


def test_render_fills_values_and_keeps_literal_braces(people: dict[str, Any],
                                                      coordinator: Any) -> None:
    services.set_script_values(coordinator, "een stand op jullie markt",
                               "donderdag 14 januari")
    script = make_script(coordinator, body="{organisation}: {our_offer}; {next_intro_evening}."
                                           " {{sic}} {contact_name} {sender_name}")
    prospect = make_prospect(coordinator, "Femma", contact_name="Els")
    rendered = services.render_script(coordinator, script, prospect)
    assert rendered.body == ("Femma: een stand op jullie markt; donderdag 14 januari. {sic} "
                             f"Els {coordinator.full_name}")
    assert rendered.unknown == []


def test_render_reports_a_stored_unknown_placeholder_and_sending_refuses(
        coordinator: Any) -> None:
    # A script stored before a placeholder was renamed: reported, never a crash.
    script = ContactScript(title="Oud", language="nl", subject="Hallo", body="Dag {naam}")
    db.session.add(script)
    prospect = make_prospect(coordinator, contact_email="info@repair.example.org")
    rendered = services.render_script(coordinator, script, prospect)
    assert rendered.unknown == ["naam"] and rendered.body == "Dag {naam}"
    with pytest.raises(DomainError, match=r"\{naam\}"):
        services.send_script(coordinator, prospect, script)


def test_send_script_queues_the_mail_and_logs_the_contact(coordinator: Any) -> None:
    script = make_script(coordinator)
    prospect = make_prospect(coordinator, contact_name="Jan",
                             contact_email="jan@repair.example.org")
    services.send_script(coordinator, prospect, script)
    mail = db.session.scalars(select(OutboxMail)).all()[-1]
    assert mail.recipient == "jan@repair.example.org"
    assert mail.subject == "Kennismaking met LETS" and "Beste Jan," in mail.body
    assert mail.reply_to == coordinator.email
    assert [(e.kind, e.medium) for e in prospect.log] == [("script", "email")]
    assert _actions()[-1] == "partners.script_send"


def test_send_script_needs_an_address(coordinator: Any) -> None:
    script = make_script(coordinator)
    prospect = make_prospect(coordinator)
    with pytest.raises(DomainError, match="no e-mail address"):
        services.send_script(coordinator, prospect, script)


def test_scripts_export_and_import_round_trip(coordinator: Any) -> None:
    make_script(coordinator, "Kennismaking", "nl")
    make_script(coordinator, "Prise de contact", "fr", subject="Bonjour {group_name}",
                body="Bonjour {contact_name}")
    exported = json.dumps(services.export_scripts(coordinator)).encode()
    db.session.execute(db.delete(ContactScript).where(ContactScript.language == "fr"))
    report = services.import_scripts(coordinator, exported)
    assert report.added == ["Prise de contact"] and report.skipped == ["Kennismaking"]
    assert {s.title for s in services.scripts(coordinator)} == {"Kennismaking",
                                                                "Prise de contact"}


@pytest.mark.parametrize("raw,message", [
    (b"not json", "not a file of contact scripts"),
    (b'{"format": "other", "scripts": []}', "not a file of contact scripts"),
    (b'{"format": "lets-site-contact-scripts", "version": 9, "scripts": []}', "version"),
    (b'{"format": "lets-site-contact-scripts", "version": 1, "scripts": [{"title": 1}]}',
     "Script 1 in the file is incomplete"),
    (b'{"format": "lets-site-contact-scripts", "version": 1, "scripts": [{"title": "T", '
     b'"language": "nl", "subject": "S", "body": "Dag {wie}"}]}',
     r"Script 1 \(T\).*\{wie\}"),
])
def test_import_refuses_bad_files_with_a_reason(coordinator: Any, raw: bytes,
                                                message: str) -> None:
    with pytest.raises(DomainError, match=message) as error:
        services.import_scripts(coordinator, raw)
    assert error.value.field == "file"


def test_import_refuses_a_file_over_the_limit(coordinator: Any) -> None:
    with pytest.raises(DomainError, match="too large"):
        services.import_scripts(coordinator, b" " * (services.IMPORT_MAX_BYTES + 1))


# --- Through the contract ---------------------------------------------------------------------


def test_items_public_for_the_feed_members_only_for_members(people: dict[str, Any],
                                                            coordinator: Any) -> None:
    partner = make_partner(coordinator, "Bibliotheek")
    hidden = make_partner(coordinator, "Voedselteam", visibility="members")
    make_collaboration(coordinator, partner, "Boekenruil")
    make_collaboration(coordinator, hidden, "Geheim")
    public = [i for i in features.items(None, 50) if i.kind in ("partner", "collaboration")]
    assert {i.title for i in public} == {"Bibliotheek", "Bibliotheek: Boekenruil"}
    assert all(i.visibility == features.PUBLIC for i in public)
    dated = next(i for i in public if i.kind == "collaboration")
    assert dated.start is not None and dated.url.endswith("/partners/bibliotheek")
    seen = {i.title for i in features.items(people["member"], 50)}
    assert {"Voedselteam", "Voedselteam: Geheim"} <= seen


def test_export_section_holds_the_members_pipeline_work(coordinator: Any) -> None:
    prospect = make_prospect(coordinator, "Velt", owner_id=coordinator.id)
    services.log_contact(coordinator, prospect, services.LogData(
        happened_on=services.today(), medium="visit", summary="Bezoek"))
    section = next(s for s in features.export_sections() if s.name == "partners")
    data = section.build(coordinator)
    assert data["partner_coordinator"] is True
    assert [p["name"] for p in data["prospects_owned"]] == ["Velt"]
    assert data["contacts_logged"][0]["summary"] == "Bezoek"


def test_signals_announce_new_partners_and_collaborations(coordinator: Any) -> None:
    seen: list[tuple[str, Any]] = []

    def partner(sender: Any, **_: Any) -> None:
        seen.append(("partner", sender))

    def collaboration(sender: Any, **_: Any) -> None:
        seen.append(("collaboration", sender))

    with signals.partner_added.connected_to(partner), \
            signals.collaboration_recorded.connected_to(collaboration):
        made = make_partner(coordinator)
        item = make_collaboration(coordinator, made)
    assert seen == [("partner", made), ("collaboration", item)]


def test_demo_has_partners_collaborations_prospects_and_scripts(app: Any) -> None:
    ctx = features.DemoContext(rng=__import__("random").Random(8900))
    for step in features.demo_steps():
        step.run(ctx)
        db.session.flush()
    titles = {p.title for p in ctx.made["partners"]}
    assert {"Vormingplus Westhoek", "Stadsbibliotheek Ieper", "BMLIK",
            "8400 TALENTEN (FMDO)", "Borderland festival"} <= titles
    admin = ctx.made["members"][0]
    columns = services.board(admin)
    assert all(columns[s] for s in ("idea", "to_contact", "contacted", "meeting", "not_now"))
    assert any(p.is_overdue(services.today()) for cards in columns.values() for p in cards)
    assert {s.language for s in services.scripts(admin)} == {"nl", "fr"}
    assert len(services.year_report(None, 2019).items) >= 12
