"""``settings.detached_copy``: the per-process values and each request's own copy of the
group's and the ledger's settings are made without the model's constructor (a request
makes two or three of them), and are still the row: all columns, no session, saved as an
update when added to one."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event, inspect

from lets_site.extensions import db
from lets_site.ledger.models import LedgerSettings
from lets_site.settings import SETTINGS_ID, SiteSettings, detached_copy
from tests import factories


def _site_row() -> SiteSettings:
    row = db.session.get(SiteSettings, SETTINGS_ID)
    if row is None:
        row = SiteSettings(id=SETTINGS_ID, group_name="Ruilkring", default_language="nl")
        db.session.add(row)
        db.session.flush()
    return row


def test_a_copy_has_every_column_and_no_session(app: Flask) -> None:
    row = _site_row()
    row.group_name = "Ruilkring Noord"
    db.session.flush()
    copy = detached_copy(row)
    state = inspect(copy)
    assert state.detached and state.key == inspect(row).key
    columns = [attr.key for attr in inspect(SiteSettings).column_attrs]
    assert {k: getattr(copy, k) for k in columns} == {k: getattr(row, k) for k in columns}
    assert not state.modified  # as loaded: nothing to save until it is changed


def test_a_copy_of_an_expired_row_reads_its_values(app: Flask) -> None:
    row = _site_row()
    name = row.group_name
    db.session.expire(row)
    assert detached_copy(row).group_name == name


def test_a_copy_changed_and_added_to_a_session_updates_the_row(app: Flask) -> None:
    row = _site_row()
    copy = detached_copy(row)
    db.session.expunge(row)
    copy.group_name = "Ruilkring Zuid"
    db.session.add(copy)
    db.session.flush()
    db.session.expire_all()
    assert db.session.get(SiteSettings, SETTINGS_ID).group_name == "Ruilkring Zuid"
    assert db.session.query(SiteSettings).count() == 1


def test_copies_go_around_the_constructor(app: Flask) -> None:
    """The model's constructor sets each attribute through its events: a copy does not."""
    row = _site_row()
    ledger_row = LedgerSettings(id=1, decimals=0, default_min=-300, default_max=300,
                                balances_visible=False)
    member = factories.make_member()
    sets: list[Any] = []
    listeners = [(SiteSettings.group_name, lambda *a: sets.append(a)),
                 (LedgerSettings.decimals, lambda *a: sets.append(a)),
                 (type(member).display_name, lambda *a: sets.append(a))]
    for attribute, listener in listeners:
        event.listen(attribute, "set", listener)
    try:
        detached_copy(row)
        detached_copy(ledger_row)
        detached_copy(member)
    finally:
        for attribute, listener in listeners:
            event.remove(attribute, "set", listener)
    assert sets == []
