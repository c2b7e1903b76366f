"""eLAS's contacts.csv (and eLAND's contact export) beside the members file: the first
e-mail, phone and address of a member fill those fields, flag_public/access says who sees
them, and a wrong contact is a row of the preview's report with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lets_site.extensions import db
from lets_site.members.models import Member, Visibility
from lets_site.moving import services, sources

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

USERS = ("letscode;name;fullname;postcode;status\r\n"
         "101;Jan;Jan Peeters;8900;1\r\n"
         "102;Anaïs;Anaïs Dupré;8900;1\r\n")
HEADER = "letscode;username;abbrev;comments;value;flag_public\r\n"
CONTACTS = HEADER + ("101;Jan;mail;;Jan@Example.org;0\r\n"
                     "101;Jan;gsm;;0470 11 22 33;1\r\n"
                     "101;Jan;tel;;050 11 22 33;0\r\n"
                     "101;Jan;adr;;Markt 1, Brugge;1\r\n"
                     "101;Jan;web;;https://jan.example.org;1\r\n"
                     "102;Anaïs;mail;;anais@example.org;1\r\n")


def _files(contacts: str, users: str = USERS) -> list[tuple[str, bytes]]:
    return [("users.csv", users.encode("utf-8")), ("contacts.csv", contacts.encode("utf-8"))]


def _reasons(result: services.Preview) -> list[str]:
    return [f"{p.file}:{p.line}:{p.column}: {p.reason}" for p in result.problems]


def _member(code: str) -> Member:
    return db.session.scalar(select(Member).where(Member.account_code == code))


def test_contacts_fill_email_phone_and_address_with_their_visibility(app: Flask) -> None:
    result = services.run_import(None, _files(CONTACTS), now=NOW)
    db.session.commit()
    assert [f.kind for f in result.files] == [sources.MEMBERS, sources.CONTACTS]
    jan = _member("LE-101")
    assert jan.email == "jan@example.org"
    assert jan.email_visibility == Visibility.MEMBERS
    # The first phone (gsm) counts, and it is public; the second (tel) is left out.
    assert jan.phone == "0470 11 22 33" and jan.phone_visibility == Visibility.PUBLIC
    assert jan.address == "Markt 1, Brugge" and jan.address_visibility == Visibility.PUBLIC
    assert jan.managed_by_admin is False
    anais = _member("LE-102")
    assert anais.email == "anais@example.org" and anais.email_visibility == Visibility.PUBLIC
    assert anais.phone == "" and anais.address == ""
    assert result.counts["contacts"] == 4


def test_a_member_without_contacts_keeps_no_email_and_is_managed_by_an_admin(
        app: Flask) -> None:
    services.run_import(None, _files(HEADER + "101;Jan;gsm;;0470 11 22 33;0\r\n"), now=NOW)
    db.session.commit()
    jan = _member("LE-101")
    assert jan.email is None and jan.managed_by_admin is True
    assert jan.phone_visibility == Visibility.MEMBERS


def test_a_contact_of_an_unknown_letscode_is_reported_and_nothing_is_written(
        app: Flask) -> None:
    contacts = CONTACTS + "104;Nobody;mail;;nobody@example.org;0\r\n"
    files = _files(contacts)
    assert _reasons(services.preview(files, now=NOW)) == [
        "contacts.csv:8:letscode: Unknown account 104."]
    with pytest.raises(services.ImportRefused):
        services.run_import(None, files, now=NOW)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Member.id))) == 0


@pytest.mark.parametrize("value", ["jan.example.org", "jan@example", "jan @example.org",
                                   "jan@@example.org"])
def test_a_malformed_email_is_reported(app: Flask, value: str) -> None:
    contacts = HEADER + f"101;Jan;mail;;{value};0\r\n"
    assert _reasons(services.preview(_files(contacts), now=NOW)) == [
        f"contacts.csv:2:value: {value} is not an e-mail address."]


def test_the_smallest_well_formed_email_passes(app: Flask) -> None:
    contacts = HEADER + "101;Jan;mail;;j@e.be;0\r\n"
    assert _reasons(services.preview(_files(contacts), now=NOW)) == []


def test_two_different_emails_for_one_member_are_reported(app: Flask) -> None:
    contacts = HEADER + ("101;Jan;mail;;jan@example.org;0\r\n"
                         "101;Jan;mail;;JAN@example.org;0\r\n"  # the same one again: fine
                         "101;Jan;mail;;jan.peeters@example.org;0\r\n")
    assert _reasons(services.preview(_files(contacts), now=NOW)) == [
        "contacts.csv:4:value: A second e-mail address jan.peeters@example.org for 101 "
        "(the first is jan@example.org)."]


def test_a_contact_email_unlike_the_members_files_is_reported(app: Flask) -> None:
    users = "letscode;name;email\r\n101;Jan;jan@example.org\r\n"
    same = HEADER + "101;Jan;mail;;jan@example.org;1\r\n"
    other = HEADER + "101;Jan;mail;;jan.peeters@example.org;1\r\n"
    assert _reasons(services.preview(_files(same, users), now=NOW)) == []
    assert _reasons(services.preview(_files(other, users), now=NOW)) == [
        "contacts.csv:2:value: A second e-mail address jan.peeters@example.org for 101 "
        "(the first is jan@example.org)."]


def test_one_email_for_two_members_is_reported(app: Flask) -> None:
    contacts = HEADER + ("101;Jan;mail;;gezin@example.org;0\r\n"
                         "102;Anaïs;mail;;gezin@example.org;0\r\n")
    assert _reasons(services.preview(_files(contacts), now=NOW)) == [
        "contacts.csv:3:value: The e-mail address gezin@example.org is also the address "
        "of 101."]


def test_an_email_already_on_the_site_is_reported(app: Flask, make_admin: Any) -> None:
    make_admin(email="jan@example.org", account_code="LE-900")
    contacts = HEADER + "101;Jan;mail;;jan@example.org;0\r\n"
    assert _reasons(services.preview(_files(contacts), now=NOW)) == [
        "contacts.csv:2:value: The e-mail address jan@example.org is already used on this "
        "site."]


def test_an_unknown_visibility_is_reported(app: Flask) -> None:
    contacts = HEADER + "101;Jan;gsm;;0470 11 22 33;maybe\r\n"
    assert _reasons(services.preview(_files(contacts), now=NOW)) == [
        "contacts.csv:2:flag_public: Unknown visibility maybe (0 or 1; admin, user, guest "
        "or anonymous)."]


def test_eland_contacts_by_user_id_and_access(app: Flask) -> None:
    users = "id,code,name,status\n11,GE-001,Greet,1\n12,GE-002,Luc,1\n"
    contacts = ("user_id,abbrev,value,access\n"
                "11,mail,greet@example.org,anonymous\n"
                "11,adr,Kerkstraat 2,admin\n"
                "12,tel,09 123 45 67,guest\n")
    services.run_import(None, [("users.csv", users.encode()),
                               ("contact.csv", contacts.encode())], now=NOW)
    db.session.commit()
    greet, luc = _member("GE-001"), _member("GE-002")
    assert greet.email == "greet@example.org" and greet.email_visibility == Visibility.PUBLIC
    assert greet.address == "Kerkstraat 2" and greet.address_visibility == Visibility.HIDDEN
    assert luc.phone == "09 123 45 67" and luc.phone_visibility == Visibility.MEMBERS


def test_the_contacts_example_of_the_docs(app: Flask) -> None:
    docs = (app.root_path + "/../docs/import.md")
    with open(docs, encoding="utf-8") as f:
        text = f.read()
    example = text.split("```\nletscode;username;abbrev", 1)[1].split("```", 1)[0]
    contacts = "letscode;username;abbrev" + example
    services.run_import(None, _files(contacts.replace("\n", "\r\n")), now=NOW)
    db.session.commit()
    jan = _member("LE-101")
    assert (jan.email, jan.email_visibility) == ("jan@example.org", Visibility.MEMBERS)
    assert (jan.phone, jan.phone_visibility) == ("0470 11 22 33", Visibility.PUBLIC)
    assert (jan.address, jan.address_visibility) == ("Markt 1, 8000 Brugge",
                                                     Visibility.MEMBERS)
