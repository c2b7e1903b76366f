"""The per-process caches (``lets_site.settings.shared``): the group's settings, the ledger's
settings and the offers' categories are read once per process, and a change committed by
another process (here: a second app on the same database and instance folder, as a second
gunicorn worker) is seen on the next request."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from lets_site.extensions import db
from lets_site.ledger import services as ledger
from lets_site.offers import services as offers
from lets_site.settings import SETTINGS_ID, SiteSettings, get_settings
from lets_site.site import services as site
from tests import factories


def _statements(app: Flask, read: Any) -> tuple[Any, int]:
    """``read()`` in a new app context of ``app`` (a new request), and how many SELECTs."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):
            seen.append(args[2])

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            value = read()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
            db.session.remove()
    return value, len(seen)


def _settings_data(name: str) -> site.SettingsData:
    return site.SettingsData(
        group_name=name, slug="lets", code_prefix="LE", locality="", region="", country="BE",
        timezone="Europe/Brussels", default_language="nl", contact_email="",
        texts={"unit_singular_nl": "uur", "unit_plural_nl": "uren"})



@pytest.mark.real_commits
def test_shared_settings_change_in_one_worker_is_seen_by_the_other(
        app: Flask, second_worker: Flask) -> None:
    assert second_worker.instance_path == app.instance_path
    admin = factories.make_admin()
    site.update_settings(admin, _settings_data("LETS Ieper"))
    db.session.commit()

    name, queries = _statements(second_worker, lambda: get_settings().group_name)
    assert (name, queries) == ("LETS Ieper", 1)
    # Kept: the next request of that worker reads no settings from the database.
    name, queries = _statements(second_worker, lambda: get_settings().group_name)
    assert (name, queries) == ("LETS Ieper", 0)

    # An admin changes them in the first worker.
    site.update_settings(db.session.merge(admin), _settings_data("LETS Poperinge"))
    db.session.commit()
    name, queries = _statements(second_worker, lambda: get_settings().group_name)
    assert (name, queries) == ("LETS Poperinge", 1)


@pytest.mark.real_commits
def test_shared_ledger_settings_and_categories_follow_commits_elsewhere(
        app: Flask, second_worker: Flask) -> None:
    admin = factories.make_admin()
    ledger.update_settings(admin, ledger.SettingsData(0, "-100", "300", False))
    offers.create_category(admin, offers.CategoryData(name_nl="Tuin"))
    db.session.commit()

    def read() -> tuple[int, list[str]]:
        return (ledger.get_settings().default_min,
                [c.full_name("nl") for c in offers.category_tree()])

    assert _statements(second_worker, read) == ((-100, ["Tuin"]), 2)
    assert _statements(second_worker, read) == ((-100, ["Tuin"]), 0)

    garden = offers.categories()[0]
    offers.create_category(admin, offers.CategoryData(name_nl="Snoeien",
                                                      parent_id=garden.id))
    ledger.update_settings(admin, ledger.SettingsData(0, "-50", "300", False))
    db.session.commit()
    assert _statements(second_worker, read) == ((-50, ["Tuin", "Tuin / Snoeien"]), 2)


@pytest.mark.real_commits
def test_shared_value_read_during_an_uncommitted_change_is_not_kept(app: Flask) -> None:
    admin = factories.make_admin()
    site.update_settings(admin, _settings_data("LETS Ieper"))
    db.session.commit()
    assert _statements(app, lambda: get_settings().group_name) == ("LETS Ieper", 1)

    with app.app_context():
        row = db.session.get(SiteSettings, SETTINGS_ID)
        assert row is not None
        row.group_name = "Not saved"
        db.session.flush()
        assert get_settings().group_name == "Not saved"  # this transaction sees its change
        db.session.rollback()
        db.session.remove()

    assert _statements(app, lambda: get_settings().group_name) == ("LETS Ieper", 0)


@pytest.mark.real_commits
def test_shared_settings_are_a_copy_per_request(app: Flask) -> None:
    """A request that changes its settings object (without saving) changes no one else's."""
    admin = factories.make_admin()
    site.update_settings(admin, _settings_data("LETS Ieper"))
    db.session.commit()

    def spoil() -> str:
        get_settings().group_name = "Spoilt"
        return get_settings().group_name

    assert _statements(app, spoil)[0] == "Spoilt"
    assert _statements(app, lambda: get_settings().group_name) == ("LETS Ieper", 0)
