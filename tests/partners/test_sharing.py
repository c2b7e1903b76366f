"""Contact scripts shared between groups: what a group publishes (shared.json and the
feed's link), and the one-click import of what other groups share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from flask import Flask
from sqlalchemy import func, select

from lets_site.audit.models import AuditEntry
from lets_site.extensions import db
from lets_site.federation import services as federation
from lets_site.federation.models import Feed, SharedScript
from lets_site.partners import services
from lets_site.partners.models import ContactScript
from tests.html import main_text, select_text
from tests.partners.helpers import make_script

SHARED_URL = "/partners/scripts/shared.json"
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" /
                     "feed.schema.json").read_text())
OFFER = "Gratis zaal op dinsdag (geheim)"
EVENING = "Dinsdag 14 januari om 19u30 in De Kring"


def _message(client: Any) -> str:
    """The flashed message on the next page."""
    return select_text(client.get("/partners/scripts").get_data(as_text=True), "#messages")


def _login(auth: Any, member: Any) -> None:
    assert auth.login(member.account_code).status_code == 303


def _share(script: ContactScript, actor: Any, shared: bool = True) -> None:
    services.update_script(actor, script, services.ScriptData(
        title=script.title, language=script.language, subject=script.subject,
        body=script.body, shared=shared))
    db.session.commit()


def _document(client: Any) -> dict[str, Any]:
    response = client.get(SHARED_URL)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


def _feed_group(client: Any) -> dict[str, Any]:
    return json.loads(client.get("/feed.json").get_data(as_text=True))["_lets"]["group"]


# --- What a group publishes ---------------------------------------------------------------


def test_a_new_script_is_not_shared_until_ticked(client: Any, auth: Any,
                                                 coordinator: Any) -> None:
    _login(auth, coordinator)
    data = {"title": "Kennismaking", "language": "nl", "subject": "Hallo {organisation}",
            "body": "Beste {contact_name}"}
    assert client.post_form("/partners/scripts/new", data).status_code == 303
    assert client.post_form("/partners/scripts/new",
                            {**data, "title": "Gedeeld", "shared": "y"}).status_code == 303
    db.session.rollback()
    shared = dict(db.session.execute(select(ContactScript.title, ContactScript.shared)).all())
    assert shared == {"Kennismaking": False, "Gedeeld": True}
    page = client.get("/partners/scripts/new").get_data(as_text=True)
    assert 'name="shared"' in page and "checked" not in page


def test_only_shared_scripts_are_published_without_the_groups_values(
        client: Any, app: Flask, coordinator: Any) -> None:
    app.config["BASE_URL"] = "https://lets-ieper.example"
    services.set_script_values(coordinator, OFFER, EVENING)
    kept = make_script(coordinator, "Alleen voor ons", body="Intern: {our_offer}")
    shared = make_script(coordinator, "Eerste kennismaking",
                         subject="Kennismaking met {group_name}",
                         body="Beste {contact_name}, wij bieden {our_offer}. Kom naar "
                              "{next_intro_evening}. {{niet vervangen}}")
    _share(shared, coordinator)
    raw = client.get(SHARED_URL, headers={"Host": "127.0.0.1", "X-Forwarded-Host": "evil.example"}
                     ).get_data(as_text=True)
    assert "127.0.0.1" not in raw and "evil" not in raw
    document = json.loads(raw)
    assert document["format"] == "lets-site-contact-scripts" and document["version"] == 1
    assert document["scripts"] == [{
        "title": "Eerste kennismaking", "language": "nl",
        "subject": "Kennismaking met {group_name}",
        "body": "Beste {contact_name}, wij bieden {our_offer}. Kom naar "
                "{next_intro_evening}. {{niet vervangen}}"}]
    assert document["url"] == "https://lets-ieper.example/partners/scripts/shared.json"
    assert document["group_url"] == "https://lets-ieper.example/"
    for secret in (OFFER, EVENING, "geheim", kept.title, "Intern"):
        assert secret not in raw
    # Another group's site reads it back with the import as it is.
    report = services.import_scripts(coordinator, raw.encode())
    assert report.skipped == ["Eerste kennismaking"] and report.added == []


def test_shared_json_is_public_cacheable_and_conditional(client: Any,
                                                         coordinator: Any) -> None:
    _share(make_script(coordinator), coordinator)
    first = client.get(SHARED_URL)
    assert first.headers["Cache-Control"] == "public, max-age=900"
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert client.get(SHARED_URL, headers={"If-None-Match": first.headers["ETag"]}
                      ).status_code == 304
    assert client.get(SHARED_URL, headers={"If-Modified-Since": first.headers["Last-Modified"]}
                      ).status_code == 304


def test_unsharing_or_removing_changes_the_document_and_its_date(client: Any,
                                                                 coordinator: Any) -> None:
    one = make_script(coordinator, "Een")
    two = make_script(coordinator, "Twee")
    assert services.shared_changed_at() is None  # nothing was ever shared
    _share(one, coordinator)
    _share(two, coordinator)
    shared_at = services.shared_changed_at()
    assert shared_at is not None
    etag = client.get(SHARED_URL).headers["ETag"]
    _share(one, coordinator, shared=False)
    assert [s["title"] for s in _document(client)["scripts"]] == ["Twee"]
    assert client.get(SHARED_URL, headers={"If-None-Match": etag}).status_code == 200
    unshared_at = services.shared_changed_at()
    assert unshared_at is not None and unshared_at >= shared_at
    services.delete_script(coordinator, two)
    db.session.commit()
    assert _document(client)["scripts"] == []
    assert services.shared_changed_at() >= unshared_at
    # Editing a script that is not shared does not touch the shared set's date.
    before = services.shared_changed_at()
    services.update_script(coordinator, one, services.ScriptData(
        title="Een (nieuw)", language="nl", subject=one.subject, body=one.body))
    db.session.commit()
    assert services.shared_changed_at() == before


def test_the_feed_links_the_shared_scripts_only_while_one_is_shared(
        client: Any, app: Flask, coordinator: Any) -> None:
    app.config["BASE_URL"] = "https://lets-ieper.example"
    script = make_script(coordinator, "Onze eigen kennismaking")
    assert "contact_scripts" not in _feed_group(client)  # a script, but not shared
    assert "Onze eigen kennismaking" not in client.get("/feed.json").get_data(as_text=True)
    _share(script, coordinator)
    group = _feed_group(client)
    assert group["contact_scripts"] == "https://lets-ieper.example/partners/scripts/shared.json"
    response = client.get("/feed.json")
    changed = services.shared_changed_at()
    assert changed is not None
    assert response.last_modified >= changed.replace(microsecond=0)
    validator = jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    validator.validate(json.loads(response.get_data(as_text=True)))
    broken = json.loads(response.get_data(as_text=True))
    broken["_lets"]["group"]["contact_scripts"] = "not a url"
    assert not validator.is_valid(broken)
    _share(script, coordinator, shared=False)
    assert "contact_scripts" not in _feed_group(client)
    assert client.get("/feed.json").last_modified >= services.shared_changed_at().replace(
        microsecond=0)


# --- One-click import of what other groups share ------------------------------------------


def _held(title: str = "Premier contact", language: str = "fr",
          body: str = "Bonjour {contact_name}, nous sommes {group_name}.",
          slug: str = "lets-oostende") -> SharedScript:
    feed = db.session.scalar(select(Feed).where(Feed.slug == slug))
    if feed is None:
        feed = federation.add_feed(None, slug, f"https://{slug}.example/feed.json")
        feed.group_name = "LETS Oostende"
        feed.group_info = json.dumps({"slug": slug, "name": "LETS Oostende",
                                      "url": f"https://{slug}.example/",
                                      "contact_scripts":
                                          f"https://{slug}.example/partners/scripts/shared.json"})
    row = SharedScript(feed_id=feed.id, language=language, title=title,
                       title_key=title.casefold(), subject="Rencontre avec {group_name}",
                       body=body)
    db.session.add(row)
    db.session.commit()
    return row


def _imports() -> int:
    return int(db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "partners.script_import")) or 0)


def test_coordinators_see_other_groups_scripts_and_import_one_once(
        client: Any, auth: Any, coordinator: Any) -> None:
    held = _held()
    _login(auth, coordinator)
    page = client.get("/partners/scripts")
    text = main_text(page.get_data(as_text=True))
    assert "Shared by other groups" in text
    assert "Premier contact" in text and "LETS Oostende" in text and "French" in text
    html = page.get_data(as_text=True)
    assert f'action="/partners/scripts/shared/{held.id}/import"' in html
    assert f'href="/groups/lets-oostende/scripts/{held.id}"' in html

    response = client.post_form(f"/partners/scripts/shared/{held.id}/import")
    assert response.status_code == 303 and response.headers["Location"] == "/partners/scripts"
    assert "Premier contact is imported" in _message(client)
    db.session.rollback()
    mine = db.session.scalars(select(ContactScript)).one()
    assert (mine.title, mine.language, mine.subject, mine.body, mine.shared) == (
        "Premier contact", "fr", "Rencontre avec {group_name}",
        "Bonjour {contact_name}, nous sommes {group_name}.", False)
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "partners.script_import")).one()
    assert entry.actor_id == coordinator.id

    again = client.post_form(f"/partners/scripts/shared/{held.id}/import")
    assert again.status_code == 303
    message = _message(client)
    assert "Not imported: you have a script titled Premier contact in this language" in message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ContactScript)) == 1
    assert _imports() == 1


def test_import_keeps_a_script_of_the_same_title_in_another_language(
        client: Any, auth: Any, coordinator: Any) -> None:
    make_script(coordinator, "Premier contact", language="nl")
    held = _held()
    _login(auth, coordinator)
    assert client.post_form(f"/partners/scripts/shared/{held.id}/import").status_code == 303
    db.session.rollback()
    assert sorted(db.session.execute(select(ContactScript.language)).scalars()) == ["fr", "nl"]


def test_a_title_that_differs_only_in_case_is_not_overwritten(coordinator: Any) -> None:
    mine = make_script(coordinator, "premier CONTACT", language="fr", body="Le mien")
    held = _held()
    try:
        services.import_shared(coordinator, str(held.id))
    except services.DomainError as error:
        assert "Not imported" in str(error)
    else:
        raise AssertionError("imported over a script of the same title")
    db.session.rollback()
    assert db.session.get(ContactScript, mine.id).body == "Le mien"


def test_a_script_with_an_unknown_placeholder_is_marked_and_refused(
        client: Any, auth: Any, coordinator: Any) -> None:
    held = _held(title="Fout", body="Bonjour {organization}")
    _login(auth, coordinator)
    text = select_text(client.get("/partners/scripts").get_data(as_text=True),
                       "#shared-scripts")
    assert "Cannot be imported: unknown placeholders {organization}" in text
    assert client.post_form(f"/partners/scripts/shared/{held.id}/import").status_code == 303
    assert "Unknown placeholder: {organization}" in _message(client)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ContactScript)) == 0


def test_a_script_gone_at_the_source_is_a_message_not_an_error(
        client: Any, auth: Any, coordinator: Any) -> None:
    held = _held()
    ref = held.id
    db.session.delete(held)
    db.session.commit()
    _login(auth, coordinator)
    assert client.post_form(f"/partners/scripts/shared/{ref}/import").status_code == 303
    assert "That shared script is no longer there." in _message(client)
    assert client.post_form("/partners/scripts/shared/not-a-number/import").status_code == 303


def test_members_cannot_import_and_visitors_log_in_first(
        client: Any, auth: Any, people: dict[str, Any]) -> None:
    held = _held()
    path = f"/partners/scripts/shared/{held.id}/import"
    response = client.post_form(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    _login(auth, people["member"])
    assert client.post_form(path).status_code == 403
    assert client.get("/partners/scripts").status_code == 403
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ContactScript)) == 0


def test_without_shared_scripts_the_page_has_no_such_section(client: Any, auth: Any,
                                                             coordinator: Any) -> None:
    _login(auth, coordinator)
    assert "Shared by other groups" not in client.get("/partners/scripts").get_data(
        as_text=True)


# --- The hub's pages ----------------------------------------------------------------------


def test_the_group_page_lists_its_shared_scripts_and_the_preview_shows_one(
        client: Any) -> None:
    held = _held(body="Bonjour <script>alert(1)</script> {contact_name}")
    page = client.get("/groups/lets-oostende").get_data(as_text=True)
    assert f'href="/groups/lets-oostende/scripts/{held.id}"' in page
    assert 'href="https://lets-oostende.example/partners/scripts/shared.json"' in page
    preview = client.get(f"/groups/lets-oostende/scripts/{held.id}")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {contact_name}" in html
    assert "<script>alert(1)" not in html
    assert client.get(f"/groups/other/scripts/{held.id}").status_code == 404
    assert client.get(f"/groups/lets-oostende/scripts/{held.id + 1}").status_code == 404
