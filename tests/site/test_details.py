"""Small things members notice: one full stop after a short name, the welcome in the
member's own language, mails that greet by the full name, a link to the group's rules on
the join form, formatting hints in member words, "download all my data", the time zones
that matter first."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from lets_site.extensions import db
from lets_site.settings import get_settings
from lets_site.web.text import one_full_stop
from tests import factories
from tests.html import main_text, select_text


def test_one_full_stop_after_a_short_name() -> None:
    assert one_full_stop("Welkom, Sofie M..") == "Welkom, Sofie M."
    assert one_full_stop("Welkom, Sofie.") == "Welkom, Sofie."
    assert one_full_stop("Wacht even...") == "Wacht even..."


def test_welcome_after_login_has_one_full_stop(client: Any, auth: Any) -> None:
    member = factories.make_member(display_name="Sofie M.", locale="en")
    response = auth.login(member.account_code)
    page = client.get(response.headers["Location"])
    assert select_text(page, "#messages") == "Welcome, Sofie M."


def test_welcome_is_in_the_members_language_not_the_browsers(client: Any, auth: Any) -> None:
    member = factories.make_member(display_name="Jean-Pierre L.", locale="fr")
    response = client.post_form("/login", {"identifier": member.account_code,
                                           "password": factories.PASSWORD},
                                headers={"Accept-Language": "nl"})
    page = client.get(response.headers["Location"], headers={"Accept-Language": "nl"})
    assert '<html lang="fr">' in page.get_data(as_text=True)
    assert select_text(page, "#messages") == "Bienvenue, Jean-Pierre L."


def test_mails_greet_by_the_full_name(client: Any, outbox: Any) -> None:
    factories.make_member(display_name="Jean-Pierre L.", full_name="Jean-Pierre Lefebvre",
                          email="jp@example.org", locale="en")
    client.post_form("/password/forgot", {"email": "jp@example.org"})
    (mail,) = outbox()
    assert "Hello Jean-Pierre Lefebvre," in mail and "Jean-Pierre L.," not in mail


def test_join_form_links_to_how_the_group_works(client: Any, app: Flask) -> None:
    settings = get_settings()
    settings.about_nl = "Wij ruilen in uren."
    db.session.add(settings)
    db.session.commit()
    join = client.get("/join").get_data(as_text=True)
    agree = join.index('name="agree"')
    link = re.search(r'<a href="(/#about)">How the group works</a>', join)
    assert link and link.start() < agree
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'<div class="about" id="about">\s*<p>Wij ruilen in uren.</p>', home)


def test_formatting_hint_and_data_download_in_member_words(client: Any, login_as: Any,
                                                           people: dict[str, Any]) -> None:
    login_as("member")
    new = main_text(client.get("/offers/new"))
    assert "Markdown" not in new and "**bold**, *italic*" in new
    profile = client.get(f"/members/{people['member'].account_code}")
    assert "Download all my data" in main_text(profile)
    assert "JSON" not in main_text(profile)


def test_time_zones_start_with_the_groups_own(client: Any, login_as: Any) -> None:
    login_as("admin")
    html = client.get("/admin/settings").get_data(as_text=True)
    select = html[html.index('<select id="timezone"'):html.index("</select>",
                                                                 html.index('id="timezone"'))]
    values = re.findall(r'<option[^>]*value="([^"]+)"', select)
    assert values[:4] == ["Europe/Brussels", "Europe/Amsterdam", "Europe/Paris",
                          "Europe/Luxembourg"]
    assert values.count("Europe/Brussels") == 1 and len(values) > 300
    assert re.search(r'<optgroup label="Most used">', select)
    assert '<optgroup label="Africa">' in select and '<optgroup label="Europe">' in select
    assert '<option selected value="Europe/Brussels">' in select
