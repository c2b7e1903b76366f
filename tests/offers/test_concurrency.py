"""Several people saving one listing at the same moment, through a real server (gunicorn,
several processes and threads) on the test's database: SQLite file or
LETS_TEST_DATABASE_URL. One edit wins; the others are told and get their form back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from lets_site.extensions import db
from lets_site.offers.models import Listing
from tests import factories
from tests.ledger.test_concurrency import (  # noqa: F401 (server is a fixture)
    CSRF_RE,
    Browser,
    send_at_once,
    server,
    tabs,
)
from tests.offers.conftest import make_listing

EDITORS = 4
REVISION_RE = re.compile(r'name="revision"[^>]*value="([^"]*)"')
TITLE_RE = re.compile(r'name="title"[^>]*value="(Titel \d)"')


@pytest.mark.slow
@pytest.mark.real_commits  # a real server in other processes
def test_concurrent_edits_of_one_listing_one_wins_the_others_are_told(
        app: Flask, server: tuple[str, dict[str, str], Path]) -> None:  # noqa: F811
    base, _env, server_log = server
    owner = factories.make_member()
    code = owner.account_code or ""
    listing = make_listing(owner, "Fietsherstelling")
    listing_id = listing.id
    first = Browser(base)
    first.login(code)
    page = first.get(f"/offers/{listing_id}/edit")
    csrf, revision = CSRF_RE.search(page), REVISION_RE.search(page)
    assert csrf and revision and revision.group(1) == "1"
    base_form = {"csrf_token": csrf.group(1), "revision": revision.group(1), "kind": "offer",
                 "description": "Ik help je graag.", "category_id": "", "price": "1",
                 "price_basis": "hour", "valid_until": "", "visibility": "members",
                 "publish": "Publish"}
    forms = [dict(base_form, title=f"Titel {n}") for n in range(EDITORS)]
    answers, errors = send_at_once(tabs(first, EDITORS), f"/offers/{listing_id}/edit", forms)
    assert not errors, errors[:3]
    log = server_log.read_text(errors="replace")[-3000:]
    assert all(status < 500 for status, _location, _text in answers), log
    saved = [a for a in answers if a[0] == 303]
    told = [a for a in answers if a[0] == 200]
    assert len(saved) == 1 and saved[0][1] == f"/offers/{listing_id}", (answers, log)
    assert len(told) == EDITORS - 1
    told_titles = set()
    for _status, _location, text in told:
        assert "changed by someone else meanwhile" in text
        # The form again, with what this editor typed and the revision it would now save
        # over.
        title = TITLE_RE.search(text)
        assert title, text[:500]
        told_titles.add(title.group(1))
        assert REVISION_RE.findall(text) == ["2"]
    winners = {f["title"] for f in forms} - told_titles
    assert len(winners) == 1

    db.session.rollback()  # a fresh snapshot: what the server committed
    stored = db.session.scalars(select(Listing).where(Listing.id == listing_id)).one()
    assert (stored.title, stored.revision) == (winners.pop(), 2)
