"""The group's own words per language: the unit's singular and plural and the "about the
group" text in nl, fr and en, each falling back to the default language's; the migration
that moved today's single unit name and about text into the default language's columns."""

from __future__ import annotations

from typing import Any

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from lets_site.extensions import db
from lets_site.settings import SiteSettings, get_settings
from tests.html import main_text, select_text
from tests.site.test_views import SETTINGS


def _save(client: Any, auth: Any, make_admin: Any, **texts: str) -> Any:
    auth.login(make_admin(locale="en").account_code)
    data = {k: v for k, v in SETTINGS.items() if not k.startswith(("unit_", "about_"))}
    data.update(texts)
    response = client.post_form("/admin/settings", data)
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    return response


def _home(client: Any, lang: str) -> Any:
    return client.get("/", headers={"Accept-Language": lang})


def test_home_shows_the_unit_plural_and_about_text_in_the_readers_language(
    client: Any, auth: Any, make_admin: Any
) -> None:
    response = _save(
        client, auth, make_admin,
        unit_singular_nl="uur", unit_plural_nl="uren", about_nl="Over **onze** ruilkring.",
        unit_singular_fr="heure", unit_plural_fr="heures", about_fr="À propos du groupe.",
        unit_singular_en="hour", unit_plural_en="hours", about_en="About the group.")
    assert response.status_code == 303
    dutch, french, english = _home(client, "nl"), _home(client, "fr"), _home(client, "en")
    # The Dutch opening line needs the plural: "in uren, niet in euro".
    assert "in uren, niet in euro" in select_text(dutch, "p.lead")
    assert "Over onze ruilkring." in select_text(dutch, "div.about")
    assert "heures" in select_text(french, "p.lead")
    assert "uur" not in main_text(french) and "uren" not in main_text(french)
    assert select_text(french, "div.about") == "À propos du groupe."
    assert "in hours, not in euro" in select_text(english, "p.lead")
    assert select_text(english, "div.about") == "About the group."


def test_an_empty_language_falls_back_to_the_default_language(
    client: Any, auth: Any, make_admin: Any
) -> None:
    _save(client, auth, make_admin, unit_singular_nl="Ieperlinck",
          unit_plural_nl="Ieperlincken", about_nl="Over ons.",
          unit_singular_fr="", unit_plural_fr="", about_fr="",
          unit_singular_en="", unit_plural_en="points", about_en="")
    french, english = _home(client, "fr"), _home(client, "en")
    assert "Ieperlincken" in select_text(french, "p.lead")
    assert select_text(french, "div.about") == "Over ons."
    # A language gets what it has: the English plural, the Dutch about text.
    assert "in points, not in euro" in select_text(english, "p.lead")
    assert select_text(english, "div.about") == "Over ons."
    settings = get_settings()
    assert settings.text("unit_singular", "en") == "Ieperlinck"
    assert settings.unit(plural=False, lang="fr") == "Ieperlinck"


def test_the_default_languages_unit_is_required_the_others_are_not(
    client: Any, auth: Any, make_admin: Any
) -> None:
    response = _save(client, auth, make_admin, unit_singular_nl="uur", unit_plural_nl="",
                     unit_singular_fr="heure", unit_plural_fr="heures")
    assert response.status_code == 200
    assert "Fill in the unit's name in the default language." in select_text(
        response, "main")
    assert get_settings().group_name == "LETS"
    # With French as the default language, an empty Dutch unit is fine.
    response = _save(client, auth, make_admin, default_language="fr",
                     unit_singular_nl="", unit_plural_nl="",
                     unit_singular_fr="heure", unit_plural_fr="heures")
    assert response.status_code == 303
    settings = get_settings()
    assert settings.default_language == "fr" and settings.unit_plural_nl == ""
    assert settings.unit(plural=True, lang="nl") == "heures"


def test_settings_page_groups_the_texts_per_language_default_language_first(
    client: Any, auth: Any, make_admin: Any
) -> None:
    auth.login(make_admin(locale="en").account_code)
    page = client.get("/admin/settings").get_data(as_text=True)
    nl, fr, en = (page.index(f'id="unit_singular_{lang}"') for lang in ("nl", "fr", "en"))
    assert nl < fr < en
    assert 'id="about_fr"' in page and 'lang="fr"' in page


@pytest.mark.real_commits
@pytest.mark.parametrize(("unit", "about", "default", "expected"), [
    ("uur", "Over ons", "nl",
     {"unit_singular_nl": "uur", "unit_plural_nl": "uren", "unit_singular_fr": "heure",
      "unit_plural_fr": "heures", "unit_singular_en": "hour", "unit_plural_en": "hours",
      "about_nl": "Over ons", "about_fr": "", "about_en": ""}),
    ("Ieperlinck", "À propos", "fr",
     {"unit_singular_nl": "", "unit_plural_nl": "", "unit_singular_fr": "Ieperlinck",
      "unit_plural_fr": "Ieperlinck", "unit_singular_en": "", "unit_plural_en": "",
      "about_nl": "", "about_fr": "À propos", "about_en": ""}),
])
def test_0007_moves_todays_texts_into_the_default_languages_columns(
    app: Any, unit: str, about: str, default: str, expected: dict[str, str]
) -> None:
    from tests.test_migrations import _empty

    directory = app.extensions["migrate"].directory
    _empty(app)
    upgrade(directory=directory, revision="0006_mail_outbox")
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO site_settings (id, group_name, slug, code_prefix, locality, region,"
            " country, timezone, unit_name, default_language, about, contact_email,"
            " updated_at) VALUES (1, 'LETS', 'lets', 'LE', '', '', 'BE', 'Europe/Brussels',"
            " :unit, :lang, :about, '', '2026-01-01 00:00:00+00:00')"),
            {"unit": unit, "lang": default, "about": about})
    upgrade(directory=directory)
    with app.app_context():
        row = db.session.get(SiteSettings, 1)
        assert row is not None
        assert {name: getattr(row, name) for name in expected} == expected
        db.session.rollback()
    _empty(app)
