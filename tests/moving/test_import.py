"""Importing from eLAS, eLAND and a spreadsheet (lets_site/moving): the preview reports
every wrong row, the import is all or nothing, balances match the source to the cent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lets_site.extensions import db
from lets_site.ledger import services as ledger
from lets_site.ledger.models import Account, AccountKind, LedgerSettings, Transfer
from lets_site.members.models import Member
from lets_site.moving import services, sources

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

ELAS_USERS = ("letscode;name;fullname;postcode;status;minlimit;maxlimit;saldo\r\n"
              "101;Jan;Jan Peeters;8900;1;-300;500;12,50\r\n"
              "102;Anaïs;Anaïs Dupré;8900;1;-300;500;-10,25\r\n"
              "103;Kim;Kim Claes;8902;2;;;-2,25\r\n")
ELAS_TRANSACTIONS = ("Datum,Van,interSysteem,Aan,interSysteem,Bedrag,Dienst,transactie id\r\n"
                     "2024-03-04 10:15:00,102 Anaïs,,101 Jan,,10.25,Tuinwerk,1\r\n"
                     "2024-05-01 09:00:00,103 Kim,,101 Jan,,2.25,Soep,2\r\n")


def _decimals(n: int = 2) -> None:
    db.session.merge(LedgerSettings(id=1, decimals=n, default_min=-30000, default_max=30000,
                                    balances_visible=False))
    db.session.flush()


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _reasons(result: services.Preview) -> list[str]:
    return [f"{p.file}:{p.line}:{p.column}: {p.reason}" for p in result.problems]


def test_elas_members_and_history_import_to_the_cent(app: Flask) -> None:
    _decimals()
    files = [("users.csv", ELAS_USERS.encode("cp1252")),
             ("transactions.csv", ELAS_TRANSACTIONS.encode("utf-8"))]
    result = services.run_import(None, files, now=NOW)
    db.session.commit()
    assert [f.encoding for f in result.files] == [sources.CP1252_OR_LATIN1, sources.UTF8]
    assert result.counts["members"] == 3 and result.counts["transactions"] == 2
    balances = {a.code: a.balance for a in db.session.scalars(select(Account))}
    assert balances["LE-101"] == 1250 and balances["LE-102"] == -1025
    assert balances["LE-103"] == -225
    assert ledger.check() == []
    anais = db.session.scalar(select(Member).where(Member.account_code == "LE-102"))
    assert anais.display_name == "Anaïs" and anais.full_name == "Anaïs Dupré"
    assert anais.password_hash is None
    transfers = list(db.session.scalars(select(Transfer).order_by(Transfer.id)))
    assert all(t.imported for t in transfers)
    assert transfers[0].description == "Tuinwerk"
    # 10:15 in Brussels (no zone in eLAS) is 09:15 UTC.
    assert transfers[0].created_at == datetime(2024, 3, 4, 9, 15, tzinfo=UTC)


def test_a_balance_one_cent_off_is_reported_and_nothing_is_written(app: Flask) -> None:
    _decimals()
    users = ELAS_USERS.replace("12,50", "12,51")
    files = [("users.csv", users.encode()), ("transactions.csv", ELAS_TRANSACTIONS.encode())]
    result = services.preview(files, now=NOW)
    assert _reasons(result) == ["users.csv:2:saldo: The stated balance is 12.51 but the "
                                "transactions add up to 12.50."]
    with pytest.raises(services.ImportRefused):
        services.run_import(None, files, now=NOW)
    db.session.rollback()
    assert _count(Member) == 0 and _count(Transfer) == 0


def test_duplicate_codes_unknown_accounts_and_future_dates_are_reported(app: Flask) -> None:
    _decimals()
    users = ELAS_USERS + "101;Jean;Jean Duplo;8900;1;;;0\r\n"
    history = ELAS_TRANSACTIONS + ("2024-06-01,104 Nobody,,101 Jan,,1,Iets,3\r\n"
                                   "2027-01-01,102 Anaïs,,101 Jan,,1,Later,4\r\n")
    result = services.preview([("users.csv", users.encode()),
                               ("transactions.csv", history.encode())], now=NOW)
    reasons = _reasons(result)
    assert "users.csv:5:letscode: Duplicate code 101 (also on line 2 of users.csv)." in reasons
    assert "transactions.csv:4:Van: Unknown account 104 Nobody." in reasons
    assert "transactions.csv:5:Datum: The date 2027-01-01 is in the future." in reasons
    assert result.document is None


def test_a_file_missing_a_column_writes_nothing(app: Flask) -> None:
    history = ELAS_TRANSACTIONS.replace("Bedrag", "Hoeveel")
    files = [("users.csv", ELAS_USERS.encode()), ("transactions.csv", history.encode())]
    with pytest.raises(services.ImportRefused) as refused:
        services.run_import(None, files, now=NOW)
    db.session.rollback()
    assert [(p.file, p.column) for p in refused.value.problems] == [
        ("transactions.csv", "amount")]
    assert _count(Member) == 0


def test_bad_numbers_are_reported(app: Flask) -> None:
    _decimals(0)
    result = services.preview([("users.csv", ELAS_USERS.encode())], now=NOW)
    reasons = _reasons(result)
    assert "users.csv:2:saldo: This group counts in whole units: no decimals." in reasons
    users = "letscode;name;saldo\r\nA-1;Ann;twelve\r\n"
    assert _reasons(services.preview([("users.csv", users.encode())], now=NOW)) == [
        "users.csv:2:saldo: Write the amount as a number, for example 12 or 12,50."]


def test_without_history_opening_balances_are_booked_against_the_group_account(
        app: Flask) -> None:
    _decimals()
    result = services.run_import(None, [("users.csv", ELAS_USERS.encode())], now=NOW)
    db.session.commit()
    assert result.counts["opening_balances"] == 3
    accounts = {a.code: a for a in db.session.scalars(select(Account))}
    assert accounts["LE-101"].balance == 1250 and accounts["LE-103"].balance == -225
    group = next(a for a in accounts.values() if a.kind == AccountKind.GROUP)
    assert group.balance == -(1250 - 1025 - 225)
    assert sum(a.balance for a in accounts.values()) == 0
    assert ledger.check() == []


def test_utf8_with_a_bom_semicolons_and_a_decimal_comma(app: Flask) -> None:
    _decimals()
    plain = "code;name;email;balance\r\nLE-7;Zoë;zoe@example.org;-1,50\r\nLE-8;Bo;;1,50\r\n"
    result = services.preview([("leden.csv", b"\xef\xbb\xbf" + plain.encode())], now=NOW)
    assert result.ok, _reasons(result)
    assert result.files[0].encoding == sources.UTF8_BOM
    assert result.files[0].delimiter == ";"
    members = result.document["features"]["members"]["member"]
    assert members[0]["display_name"] == "Zoë" and members[0]["email"] == "zoe@example.org"
    assert members[1]["managed_by_admin"] is True  # no e-mail address


def test_windows_1252_and_latin1_are_told_apart(app: Flask) -> None:
    euro = "code;name;bio\r\nLE-1;Renée;“5 €”\r\n".encode("cp1252")
    assert sources.read("x.csv", euro).encoding == sources.CP1252
    assert sources.read("x.csv", euro).rows[0].get("name") == "Renée"
    latin = "code;name\r\nLE-1;Renée\r\n".encode("latin-1") + b"\x81"
    assert sources.read("x.csv", latin).encoding == sources.LATIN1
    assert sources.read("x.csv", "code;name\r\nLE-1;Renée\r\n".encode()).encoding == sources.UTF8


def test_eland_members_categories_ads_and_transactions(app: Flask) -> None:
    _decimals(0)
    users = ("id,code,name,full_name,role,status,email\n"
             "11,GE-001,Greet,Greet Vos,admin,1,greet@example.org\n"
             "12,GE-002,Luc,Luc Maes,user,1,\n")
    categories = "id,name,id_parent\n5,Tuin,0\n6,Moestuin,5\n"
    ads = ("user_id,subject,content,offer_want,category_id,expires_at\n"
           "11,Spitten,Ik spit uw tuin,offer,6,2027-06-30\n"
           "12,Ladder gezocht,,want,,2025-01-01\n")
    history = "created_at,id_from,id_to,amount,description\n2025-02-01,12,11,3,Spitten\n"
    files = [("users.csv", users.encode()), ("categories.csv", categories.encode()),
             ("messages.csv", ads.encode()), ("transactions.csv", history.encode())]
    assert _reasons(services.preview(files, now=NOW)) == []
    result = services.run_import(None, files, now=NOW)
    db.session.commit()
    from lets_site.offers.models import Category, Listing

    listings = {x.title: x for x in db.session.scalars(select(Listing))}
    assert listings["Spitten"].kind == "offer" and listings["Spitten"].state == "published"
    assert listings["Spitten"].category.parent.name_nl == "Tuin"
    assert listings["Ladder gezocht"].kind == "want"
    assert listings["Ladder gezocht"].state == "expired"
    assert _count(Category) == 2
    greet = db.session.scalar(select(Member).where(Member.account_code == "GE-001"))
    assert greet.is_active is False  # no password yet: cannot log in until invited
    assert greet.roles == {"member", "admin"}
    assert result.counts == {"members": 2, "categories": 2, "offers": 1, "wants": 1,
                             "transactions": 1}
    assert ledger.check() == []


def test_an_import_into_a_site_with_members_is_refused(app: Flask, make_member: Any) -> None:
    make_member()
    result = services.preview([("users.csv", ELAS_USERS.encode())], now=NOW)
    assert "import into a new site" in _reasons(result)[0]


def test_codes_and_emails_of_the_admin_who_set_up_the_site_are_not_taken_again(
        app: Flask, make_admin: Any) -> None:
    make_admin(account_code="LE-101", email="jan@example.org")
    users = "letscode;name;email\r\n101;Jan;JAN@example.org\r\n"
    assert _reasons(services.preview([("users.csv", users.encode())], now=NOW)) == [
        "users.csv:2:letscode: The code LE-101 is already used on this site."]


def test_invitations_only_when_an_admin_asks(app: Flask, make_admin: Any,
                                             outbox: Any) -> None:
    admin = make_admin(locale="en")
    users = "code;name;email\r\nLE-31;Ann;ann@example.org\r\nLE-32;Bert;\r\n"
    services.run_import(admin, [("users.csv", users.encode())], now=NOW)
    db.session.commit()
    assert outbox() == []
    assert [m.account_code for m in services.invitable(admin)] == ["LE-31"]
    assert services.invite_imported(admin) == 1
    db.session.commit()
    assert len(outbox()) == 1 and "ann@example.org" in outbox()[0]


def test_the_plain_spreadsheet_of_the_docs(app: Flask, make_admin: Any) -> None:
    _decimals()
    admin = make_admin()
    members = ("code;name;email;phone;postcode;status;min_limit;max_limit;balance\r\n"
               "LE-001;An Peeters;an@example.org;0470 11 22 33;8900;active;-300;500;12,50\r\n"
               "LE-002;Bart Claes;;;8900;active;;;-12,50\r\n")
    history = "date;from;to;amount;description\r\n04/03/2024;LE-002;LE-001;12,50;Tuinwerk\r\n"
    organisations = "code;name;status;balance\r\nLE-050;Kringwinkel;active;0\r\n"
    ads = ("code;type;category;title;description;valid_until\r\n"
           "LE-050;aanbod;Tuin;Snoeischaar;Goed als nieuw;31/12/2027\r\n")
    categories = "id;name;parent\r\n1;Tuin;\r\n"
    files = [("leden.csv", members.encode()), ("transacties.csv", history.encode()),
             ("organisaties.csv", organisations.encode()), ("zoekertjes.csv", ads.encode()),
             ("categorieen.csv", categories.encode())]
    result = services.run_import(admin, files, now=NOW)
    db.session.commit()
    assert [f.kind for f in result.files] == [sources.MEMBERS, sources.TRANSACTIONS,
                                              sources.ORGANISATIONS, sources.ADS,
                                              sources.CATEGORIES]
    from lets_site.offers.models import Listing

    listing = db.session.scalar(select(Listing))
    assert listing.owner_org.account_code == "LE-050" and listing.contact_member_id == admin.id
    assert listing.description == "Goed als nieuw" and listing.category.name_nl == "Tuin"
    assert ledger.check() == []


def test_a_category_made_before_the_import_keeps_its_slug(app: Flask) -> None:
    from lets_site.offers.models import Category

    db.session.add(Category(slug="tuin", name_nl="Tuin", name_fr="Jardin", name_en="Garden"))
    db.session.flush()
    files = [("users.csv", b"code;name\r\nLE-1;An\r\n"),
             ("categories.csv", b"id;name;parent\r\n1;Tuin;\r\n")]
    services.run_import(None, files, now=NOW)
    db.session.commit()
    assert sorted(db.session.scalars(select(Category.slug))) == ["tuin", "tuin-2"]
