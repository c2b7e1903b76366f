"""Form input the site cannot store or use is refused on the field, in one place
(lets_site/web/forms.py BaseForm), and hostile ``next`` values and page numbers fall back
cleanly (issue 7, findings 6, 11 and 12)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lets_site.extensions import db
from lets_site.members.models import Member
from tests.members.test_views import JOIN


def body(response: Any) -> str:
    return response.get_data(as_text=True)


# --- Finding 6: control characters and line breaks in form fields ----------------------------


@pytest.mark.parametrize("value", ["Nina\x00", "Ni\x07na", "Nina\x9b", "Nina\x7f"])
def test_join_refuses_control_characters_on_the_field(client: Any, value: str) -> None:
    response = client.post_form("/join", dict(JOIN, display_name=value))
    assert response.status_code == 200
    page = body(response)
    assert "invisible control characters" in page
    assert re.search(r'id="display_name-error"[^>]*>[^<]*control characters', page)
    assert db.session.query(Member).filter_by(email=JOIN["email"]).count() == 0


@pytest.mark.parametrize("breaker", ["\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\u2029",
                                     "\t"])
def test_one_line_fields_refuse_line_breaks(client: Any, breaker: str) -> None:
    response = client.post_form("/join", dict(JOIN, display_name=f"Nina{breaker}N."))
    assert response.status_code == 200
    assert re.search(r'id="display_name-error"[^>]*>[^<]*(one line|control characters)',
                     body(response))
    assert db.session.query(Member).filter_by(email=JOIN["email"]).count() == 0


def test_multi_line_fields_keep_their_line_breaks(client: Any) -> None:
    bio = "First line\r\nSecond line\n\tindented"
    assert client.post_form("/join", dict(JOIN, bio=bio)).status_code == 303
    member = db.session.query(Member).filter_by(email=JOIN["email"]).one()
    assert member.bio is not None and "Second line" in member.bio


def test_multi_line_fields_refuse_nul(client: Any) -> None:
    response = client.post_form("/join", dict(JOIN, bio="Hallo\x00"))
    assert response.status_code == 200 and "invisible control characters" in body(response)


def test_login_identifier_with_nul_is_refused_cleanly(client: Any, login_as: Any,
                                                      people: Any) -> None:
    code = people["member"].account_code
    response = client.post_form("/login", {"identifier": code + "\x00",
                                           "password": "x" * 12})
    assert response.status_code == 200 and "invisible control characters" in body(response)


def test_hidden_field_with_control_characters_is_refused_at_the_top(client: Any,
                                                                    people: Any) -> None:
    code = people["member"].account_code
    response = client.post_form("/login", {"identifier": code,
                                           "password": "correct horse battery",
                                           "next": "/\x00"})
    assert response.status_code == 200
    assert "reload the page" in body(response)


# --- Finding 11: next -------------------------------------------------------------------------

HOSTILE_NEXT = ["/offers/\r\nSet-Cookie: x=1", "/\nx", "/a\x00", "/" + "a" * 100_000,
                "/\u2028x"]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_with_a_hostile_next_falls_back(client: Any, people: Any, target: str) -> None:
    response = client.post_form("/login", {"identifier": people["member"].account_code,
                                           "password": "correct horse battery",
                                           "next": target})
    assert response.status_code in (200, 303)
    if response.status_code == 303:
        assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_link_with_a_hostile_next_still_logs_in(client: Any, people: Any,
                                                      target: str) -> None:
    """The page from a crafted /login?next=... link drops the next, so logging in works."""
    response = client.get("/login", query_string={"next": target})
    if target.isprintable():  # the guard lets TAB, LF and CR through in a query
        assert response.status_code == 200
    if response.status_code != 200:
        assert response.status_code == 400
        return
    form = re.search(r'name="next"[^>]*value="([^"]*)"', body(response))
    assert form is not None and form.group(1) == ""
    response = client.post_form("/login", {"identifier": people["member"].account_code,
                                           "password": "correct horse battery",
                                           "next": form.group(1)})
    assert response.status_code == 303 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_language_and_acting_for_with_a_hostile_next(client: Any, login_as: Any,
                                                     target: str) -> None:
    response = client.post("/language", data={"lang": "en", "next": target})
    assert response.status_code in (200, 303)
    if response.status_code == 303:
        assert response.headers["Location"] == "/"
    login_as("intermediary")
    response = client.post_form("/offers/acting-for", {"organisation": "", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/offers/mine"


def test_safe_next_limits() -> None:
    from lets_site.web.forms import safe_next

    assert safe_next("/offers/?q=tuin", "/") == "/offers/?q=tuin"
    assert safe_next("/" + "a" * 1999, "/") == "/" + "a" * 1999
    assert safe_next("/" + "a" * 2000, "/") == "/"
    assert safe_next("/a\rb", "/") == "/"
    assert safe_next("/a\u2029b", "/") == "/"
    assert safe_next("/a\x7fb", "/") == "/"


# --- Finding 12: huge page numbers ------------------------------------------------------------


@pytest.mark.parametrize("digits", [310, 5000])
def test_huge_page_numbers_are_clamped_or_refused(client: Any, login_as: Any, people: Any,
                                                  digits: int) -> None:
    login_as("admin")
    huge = "9" * digits
    for url in ("/members/", "/admin/members/", f"/ledger/accounts/{people['member'].account_code}",
                f"/ledger/accounts/{people['member'].account_code}/statement.csv",
                "/offers/", "/admin/audit"):
        response = client.get(f"{url}?page={huge}")
        assert response.status_code == 200, (url, response.status_code)


def test_huge_integer_in_a_posted_form_is_refused(client: Any, login_as: Any) -> None:
    login_as("admin")
    response = client.post_form("/admin/offers/categories",
                                {"name_nl": "Tuin", "position": "9" * 400})
    assert response.status_code == 200
    assert "too long" in body(response)


def test_every_form_of_the_site_checks_its_input(app: Any) -> None:
    """A new form built on FlaskForm directly would skip the checks above."""
    from flask_wtf import FlaskForm

    from lets_site.web.forms import BaseForm

    def walk(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *walk(sub))]

    ours = [c for c in walk(FlaskForm) if c.__module__.startswith("lets_site.")]
    assert len(ours) > 20
    assert [c for c in ours if not issubclass(c, BaseForm)] == []
