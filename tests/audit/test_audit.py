"""The audit log in words: every action a feature records has a label it registered
through the feature contract; the page shows the labels, filters by them and writes dates
the way the other pages do."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lets_site import features
from lets_site.audit import services
from lets_site.extensions import db
from tests.html import select_text

ROOT = Path(__file__).resolve().parents[2] / "lets_site"
RECORD = re.compile(r"record(?:_for_member)?\(\s*[\w\[\]\"']+,\s*(f?)\"([a-z_]+\.[a-z_{}]+)\"")
# The keys made by f-strings: listing.{state} for admins' changes to someone's listing,
# ledger.mass_{kind}.
DYNAMIC = {"listing.create", "listing.edit", "listing.published", "listing.withdrawn",
           "ledger.mass_contribution", "ledger.mass_start_credit"}


def test_every_recorded_action_has_a_label(app: Any) -> None:
    found = set()
    for path in ROOT.rglob("*.py"):
        for is_f, key in RECORD.findall(path.read_text()):
            if not is_f:
                found.add(key)
    assert {"member.approve", "listing.category_create", "ledger.correction"} <= found
    labels = features.audit_actions()
    missing = sorted((found | DYNAMIC) - set(labels))
    assert not missing, f"actions without a label in their feature's AUDIT_ACTIONS: {missing}"
    assert all(str(label) and "." not in str(label)[:-1] for label in labels.values())


def test_audit_page_speaks_in_words(client: Any, login_as: Any,
                                    people: dict[str, Any]) -> None:
    admin = people["admin"]
    services.record_for_member(admin, "member.approve", people["member"])
    services.record_for_member(None, "member.create_admin", people["other_org_member"])
    services.record(admin, "listing.category_create", target_type="category",
                    target_id="koken", target_label="Koken")
    services.record(admin, "someone.unknown_thing")
    db.session.commit()
    login_as("admin")
    page = client.get("/admin/audit")
    table = select_text(page, "tbody")
    assert "Approved a membership application" in table
    assert "Added a category of offers and wants" in table
    assert "member.approve" not in table and "listing.category_create" not in table
    assert "someone.unknown_thing" in table  # a key nobody named is still shown
    # The filter offers the words, sorted by them.
    html = page.get_data(as_text=True)
    assert '<option value="member.approve">Approved a membership application</option>' in html
    # A date the way the other pages write it: the month in words, no seconds.
    when = select_text(page, "time")
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}\s?[AP]M", when), when


def test_audit_filter_by_label_key_is_exact_and_prefixes_still_work(
        client: Any, login_as: Any, people: dict[str, Any]) -> None:
    admin = people["admin"]
    services.record_for_member(admin, "member.create", people["member"])
    services.record_for_member(None, "member.create_admin", people["other_org_member"])
    db.session.commit()
    login_as("admin")
    exact = select_text(client.get("/admin/audit?action=member.create"), "tbody")
    assert "Added a member" in exact and "Made an admin on the command line" not in exact
    assert '<option value="member.create" selected>' in client.get(
        "/admin/audit?action=member.create").get_data(as_text=True)
    prefix = select_text(client.get("/admin/audit?action=member."), "tbody")
    assert "Added a member" in prefix and "Made an admin on the command line" in prefix


def test_admin_area_is_called_administration(client: Any, login_as: Any) -> None:
    login_as("admin")
    page = client.get("/admin/")
    assert select_text(page, "h1") == "Administration"
    assert "Administration" in select_text(page, "nav")
