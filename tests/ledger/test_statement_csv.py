"""The statement's CSV in the reader's language: translated headers and labels, the
delimiter and decimal mark the reader's spreadsheet expects (nl, fr: ";" and a decimal
comma; en: "," and a point), UTF-8 with a byte order mark."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from lets_site.extensions import db
from lets_site.ledger import services
from tests import factories


@pytest.fixture
def two_decimals(people: dict[str, Any]) -> None:
    services.update_settings(people["admin"], services.SettingsData(
        decimals=2, default_min="-300", default_max="300", balances_visible=False))
    db.session.commit()


@pytest.mark.parametrize(("lang", "delimiter", "header", "opening", "amount", "balance"), [
    ("nl", ";", ["Datum", "Overschrijving", "Rekeningcode", "Met", "Waarvoor", "Bedrag",
                 "Saldo daarna", "Soort"], "Beginsaldo", "-1234,50", "-1234,50"),
    ("fr", ";", ["Date", "Transfert", "Code de compte", "Avec", "Objet", "Montant",
                 "Solde après", "Type"], "Solde initial", "-1234,50", "-1234,50"),
    ("en", ",", ["Date", "Transfer", "Account code", "With", "What for", "Amount",
                 "Balance after", "Kind"], "Opening balance", "-1234.50", "-1234.50"),
])
def test_statement_csv_in_the_readers_language(
    client: Any, auth: Any, people: dict[str, Any], two_decimals: None, lang: str,
    delimiter: str, header: list[str], opening: str, amount: str, balance: str
) -> None:
    member, other = people["member"], people["other_org_member"]
    admin = people["admin"]
    factories.make_transfer(member, other, "1234,50", "Tuin; gras, hagen", admin=admin,
                            over_limit=True)
    member.locale = lang
    db.session.commit()
    auth.login(member.account_code)
    response = client.get(f"/ledger/accounts/{member.account_code}/statement.csv")
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    assert response.content_type == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=delimiter))
    assert rows[0] == header
    assert rows[1] == ["", "", "", "", opening, "", "0" + ("," if lang != "en" else ".")
                       + "00", ""]
    line = rows[2]
    assert line[2:7] == [other.account_code, other.display_name, "Tuin; gras, hagen",
                         amount, balance]
    # The same file read with the other language's delimiter does not split right: the
    # delimiter really is the reader's.
    other_delimiter = "," if delimiter == ";" else ";"
    wrong = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=other_delimiter))
    assert len(wrong[0]) != len(header)


def test_statement_csv_labels_the_kind_of_transfer(
    client: Any, auth: Any, people: dict[str, Any]
) -> None:
    member, other = people["member"], people["other_org_member"]
    factories.make_transfer(member, other, "3", "Klus")
    factories.make_transfer(member, other, "2", "Rechtzetting", admin=people["admin"])
    member.locale = "en"
    db.session.commit()
    auth.login(member.account_code)
    body = client.get(f"/ledger/accounts/{member.account_code}/statement.csv").get_data(
        as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert [row[-1] for row in rows[2:]] == ["payment", "booking by an admin"]
