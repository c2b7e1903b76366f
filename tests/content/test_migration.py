"""Migration 0012_content: the settings' about texts become the "about us" page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from lets_site.content.models import Page, PageRevision
from lets_site.extensions import db
from lets_site.settings import SiteSettings, _load_site_settings

pytestmark = pytest.mark.real_commits


def _empty() -> None:
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.mark.parametrize("about", [
    {"about_nl": "Wij ruilen **diensten**.", "about_fr": "Nous échangeons.", "about_en": ""},
    {"about_nl": "", "about_fr": "Seulement en français.", "about_en": ""},
    {"about_nl": "", "about_fr": "", "about_en": ""},
])
def test_about_texts_become_the_about_us_page_and_stay_in_the_settings(
        app: Any, about: dict[str, str]) -> None:
    _empty()
    directory = app.extensions["migrate"].directory
    upgrade(directory=directory, revision="0008_category_words")
    settings = _load_site_settings()
    for key, value in about.items():
        setattr(settings, key, value)
    db.session.add(settings)
    db.session.commit()
    settings_id = settings.id
    upgrade(directory=directory)
    db.session.remove()
    page = db.session.scalar(select(Page).where(Page.slug == "about-us"))
    if not any(about.values()):
        assert page is None
    else:
        assert page is not None and page.state == "published"
        assert page.visibility == "public" and page.placement == "footer"
        for lang in ("nl", "fr", "en"):
            body = about[f"about_{lang}"]
            if body:
                assert page.text_in(lang).body == body
        assert page.text_in("nl").title == "Over ons"  # the default language's title
        revision = db.session.scalar(select(PageRevision).where(PageRevision.page_id == page.id))
        assert revision.number == 1
        assert json.loads(revision.texts_json)["nl"]["title"] == "Over ons"
    kept = db.session.get(SiteSettings, settings_id)
    assert (kept.about_nl, kept.about_fr) == (about["about_nl"], about["about_fr"])
    _empty()
