"""Paying by name: the payee field finds members and organisations by name or code, with
htmx suggestions and, without JavaScript, a list of matches to pick from."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import PaymentRequest, Transfer
from tests import factories
from tests.html import select_text

KEY_RE = re.compile(r'name="key"[^>]*value="([^"]+)"')


def _key(client: Any, path: str = "/ledger/pay") -> str:
    match = KEY_RE.search(client.get(path).get_data(as_text=True))
    assert match
    return match.group(1)


def _codes(found: list[services.Payee]) -> list[str]:
    return [p.code for p in found]


# --- The service --------------------------------------------------------------------------


def test_find_payees_by_name_part_any_case_and_accents(people: dict[str, Any]) -> None:
    inge = factories.make_member(display_name="Inge P.", full_name="Inge Peeters")
    jp = factories.make_member(display_name="Jean-Pierre L.", full_name="Jean-Pierre Lemaître")
    viewer = people["member"]
    assert _codes(services.find_payees(viewer, "inge")) == [inge.account_code]
    assert _codes(services.find_payees(viewer, "PEET")) == [inge.account_code]
    # Accents either way: typed without, stored with; typed with, stored without.
    assert _codes(services.find_payees(viewer, "lemaitre")) == [jp.account_code]
    assert _codes(services.find_payees(viewer, "Ínge")) == [inge.account_code]
    # Every word must match somewhere; the order does not matter.
    assert _codes(services.find_payees(viewer, "lemaître jean")) == [jp.account_code]
    assert services.find_payees(viewer, "jean inge") == []
    assert services.find_payees(viewer, "   ") == []


def test_find_payees_by_code_puts_the_exact_code_first(people: dict[str, Any]) -> None:
    member = people["member"]
    target = people["other_org_member"]
    found = services.find_payees(member, target.account_code.lower())
    assert _codes(found)[0] == target.account_code


def test_find_payees_only_active_accounts_never_the_viewer(people: dict[str, Any]) -> None:
    viewer = factories.make_member(display_name="Sofie A.", full_name="Sofie Aerts")
    leaving = factories.make_member(display_name="Sofie B.", full_name="Sofie Baert",
                                    status="leaving")
    factories.make_member(display_name="Sofie C.", full_name="Sofie Claes", status="inactive")
    factories.make_candidate(display_name="Sofie D.", full_name="Sofie Dewulf")
    factories.make_organisation(name="Sofie's Soepbar", status="closed")
    found = services.find_payees(viewer, "sofie")
    assert _codes(found) == [leaving.account_code]


def test_find_payees_finds_organisations(people: dict[str, Any]) -> None:
    found = services.find_payees(people["member"], "heder")
    assert found[0].code == people["org"].account_code
    assert found[0].kind == "organisation" and found[0].name == "Hedera"


def test_exact_code_needs_an_existing_account_or_holder(people: dict[str, Any]) -> None:
    code = people["org"].account_code
    assert services.exact_code(f"  {code.lower()} ") == code
    assert services.exact_code("XX-999") is None
    assert services.exact_code("Inge") is None


# --- Without JavaScript: the form lists the matches -----------------------------------------


def _review(client: Any, payee: str, **extra: Any) -> Any:
    data = {"from_account": extra.pop("from_account", None), "payee": payee,
            "amount": extra.pop("amount", "2"), "description": "Soep",
            "key": extra.pop("key", None) or _key(client), "review": "1"}
    data.update(extra)
    return client.post_form("/ledger/pay", {k: v for k, v in data.items() if v is not None})


def test_a_name_lists_the_matches_each_a_link_that_keeps_the_form(
        client: Any, people: dict[str, Any], login_as: Any) -> None:
    inge = factories.make_member(display_name="Inge P.", full_name="Inge Peeters")
    factories.make_member(display_name="Ingrid V.", full_name="Ingrid Vermeulen")
    login_as("member")
    key = _key(client)
    response = _review(client, "inge", from_account=people["member"].account_code, key=key,
                       amount="3")
    assert response.status_code == 200
    matches = select_text(response, "#payee-matches")
    assert f"Inge Peeters {inge.account_code} (Inge P.)" in matches
    assert "Ingrid" not in matches
    assert "Choose who you mean" in response.get_data(as_text=True)
    link = re.search(r'<a href="(/ledger/pay\?[^"]+)">Inge Peeters', response.get_data(
        as_text=True))
    assert link
    url = link.group(1).replace("&amp;", "&")
    assert f"to={inge.account_code}" in url and "amount=3" in url and f"key={key}" in url
    form = client.get(url).get_data(as_text=True)
    assert f'value="{inge.account_code}"' in form and 'value="Soep"' in form
    assert f'value="{key}"' in form  # the same key travels on
    assert db.session.scalar(select(func.count(Transfer.id))) == 0


def test_a_name_without_match_says_so(client: Any, people: dict[str, Any],
                                       login_as: Any) -> None:
    login_as("member")
    response = _review(client, "Zorro", from_account=people["member"].account_code)
    assert response.status_code == 200
    assert select_text(response, "#payee-error") == \
        'No member or organisation matches "Zorro".'
    assert "payee-matches" not in response.get_data(as_text=True)


def test_an_exact_code_goes_straight_to_the_summary(client: Any, people: dict[str, Any],
                                                   login_as: Any) -> None:
    login_as("member")
    other = people["other_org_member"]
    response = _review(client, f" {other.account_code.lower()} ",
                       from_account=people["member"].account_code)
    assert response.status_code == 200
    assert "Check your payment" in response.get_data(as_text=True)
    assert other.full_name in select_text(response, "#payment-summary")


def test_request_form_finds_the_payer_by_name(client: Any, people: dict[str, Any],
                                              login_as: Any) -> None:
    inge = factories.make_member(display_name="Inge P.", full_name="Inge Peeters")
    login_as("member")
    data = {"to_account": people["member"].account_code, "payer": "peeters", "amount": "4",
            "description": "Les", "key": _key(client, "/ledger/requests/new")}
    response = client.post_form("/ledger/requests/new", data)
    assert response.status_code == 200
    assert f"/ledger/requests/new?to={people['member'].account_code}&amp;from=" \
        f"{inge.account_code}" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(PaymentRequest.id))) == 0
    # The code itself still asks at once.
    response = client.post_form("/ledger/requests/new", dict(data, payer=inge.account_code))
    assert response.status_code == 303
    assert db.session.scalar(select(PaymentRequest.payer_id)) is not None


# --- With JavaScript: htmx suggestions ------------------------------------------------------


def test_suggestions_partial_for_htmx_and_page_without(client: Any, people: dict[str, Any],
                                                       login_as: Any) -> None:
    inge = factories.make_member(display_name="Inge P.", full_name="Inge Peeters")
    login_as("member")
    partial = client.get("/ledger/payees?field=payee&payee=ing",
                         headers={"HX-Request": "true"})
    text = partial.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="payee-suggestions"')
    assert 'aria-live="polite"' in text
    assert f'hx-get="/ledger/payees/pick?field=payee&amp;code={inge.account_code}"' in text
    assert f'href="/ledger/pay?to={inge.account_code}"' in text  # a link without script
    assert "HX-Request" in partial.headers["Vary"]
    # Opened as a page: the same list, plain links, with a search form.
    page = client.get("/ledger/payees?q=ing")
    assert "<html" in page.get_data(as_text=True)
    assert f'href="/ledger/pay?to={inge.account_code}"' in page.get_data(as_text=True)
    assert "hx-get=\"/ledger/payees/pick" not in page.get_data(as_text=True)
    nothing = client.get("/ledger/payees?field=payer&payer=zzz", headers={"HX-Request": "1"})
    assert "No member or organisation matches" in nothing.get_data(as_text=True)
    assert 'id="payer-suggestions"' in nothing.get_data(as_text=True)


def test_pay_form_field_asks_for_suggestions(client: Any, people: dict[str, Any],
                                             login_as: Any) -> None:
    login_as("member")
    form = client.get("/ledger/pay").get_data(as_text=True)
    assert 'hx-get="/ledger/payees?field=payee"' in form
    assert 'hx-target="#payee-suggestions"' in form
    assert 'id="payee-suggestions"' in form


def test_picking_a_suggestion_fills_the_field(client: Any, people: dict[str, Any],
                                              login_as: Any) -> None:
    login_as("member")
    org = people["org"]
    picked = client.get(f"/ledger/payees/pick?field=payee&code={org.account_code}",
                        headers={"HX-Request": "true"})
    text = picked.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="payee-field"')
    assert f'value="{org.account_code}"' in text and "autofocus" in text
    assert "Chosen: Hedera" in select_text(text, "p.chosen")
    # Followed without htmx, it opens the form with the payee filled in.
    plain = client.get(f"/ledger/payees/pick?field=payer&code={org.account_code}")
    assert plain.status_code == 303
    assert plain.headers["Location"] == f"/ledger/requests/new?from={org.account_code}"
    assert client.get("/ledger/payees/pick?field=payee&code=nobody").status_code == 404
    assert client.get(f"/ledger/payees/pick?field=x&code={org.account_code}"
                      ).status_code == 404
