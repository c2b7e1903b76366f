"""Pages: translations with a fallback, revisions with a diff and restore, the menu and the
footer, the editor role, deletion with confirmation, and the bad input of the issue."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from lets_site.audit.models import AuditEntry
from lets_site.content.models import Page, PageRevision
from lets_site.extensions import db
from tests.content.conftest import make_editor, make_page
from tests.factories import make_member
from tests.html import main_text

FIELDS = {"slug": "huisregels", "visibility": "public", "placement": "none", "parent_id": "",
          "position": "0", "title_nl": "Huisregels", "body_nl": "Eerste versie.",
          "title_fr": "", "body_fr": "", "title_en": "", "body_en": ""}


@pytest.fixture
def editor(client: Any, auth: Any) -> Any:
    member = make_editor(make_member(display_name="Els Editor", locale="en"))
    assert auth.login(member.account_code).status_code == 303
    return member


def _save(client: Any, page_id: int | None = None, **changes: str) -> Any:
    url = f"/admin/pages/{page_id}" if page_id else "/admin/pages/new"
    return client.post_form(url, {**FIELDS, **changes})


def _page(slug: str = "huisregels") -> Page:
    db.session.rollback()
    page = db.session.scalar(select(Page).where(Page.slug == slug))
    assert page is not None
    return page


def test_editor_writes_translates_publishes_edits_twice_and_restores_the_first(
        client: Any, editor: Any) -> None:
    assert _save(client).status_code == 303
    page_id = _page().id
    assert _save(client, page_id, title_fr="Règlement", body_fr="Première.").status_code == 303
    response = client.post_form("/admin/pages/publish", {"id": str(page_id)})
    assert response.status_code == 303
    assert _save(client, page_id, body_nl="Tweede versie.", title_fr="Règlement",
                 body_fr="Première.").status_code == 303
    assert _save(client, page_id, body_nl="Derde versie.", title_fr="Règlement",
                 body_fr="Première.").status_code == 303
    # The diff between the first and the newest save.
    diff = client.get(f"/admin/pages/{page_id}/revisions?a=1&b=4")
    assert diff.status_code == 200
    text = main_text(diff)
    assert "\u2212 Eerste versie." in text and "+ Derde versie." in text
    # Restore the first: the Dutch text is the first again, the French one is gone.
    response = client.post_form("/admin/pages/restore",
                                {"id": str(page_id), "number": "1"})
    assert response.status_code == 303
    page = _page()
    assert page.text_in("nl").body == "Eerste versie."
    assert page.text_in("fr") is None
    numbers = db.session.scalars(select(PageRevision.number).where(
        PageRevision.page_id == page_id).order_by(PageRevision.number)).all()
    assert numbers == [1, 2, 3, 4, 5]  # the restore is a revision too; none is lost
    client.post("/logout")
    shown = client.get("/p/huisregels", headers={"Accept-Language": "nl"})
    assert shown.status_code == 200 and "Eerste versie." in main_text(shown)


def test_french_reader_sees_the_translation_or_a_fallback_that_says_so(client: Any,
                                                                        app: Any) -> None:
    make_page("huisregels", texts={"nl": ("Huisregels", "Wees lief."),
                                   "fr": ("Règlement", "Soyez gentils.")})
    make_page("faq", texts={"nl": ("Vragen", "Antwoorden.")})
    french = client.get("/p/huisregels", headers={"Accept-Language": "fr"})
    assert "Soyez gentils." in main_text(french)
    fallback = client.get("/p/faq", headers={"Accept-Language": "en"})
    text = main_text(fallback)
    assert "Antwoorden." in text and "not yet translated" in text and "Dutch" in text
    assert 'lang="nl"' in fallback.get_data(as_text=True)


def test_a_page_without_a_title_in_the_default_language_is_refused(client: Any,
                                                                   editor: Any) -> None:
    response = _save(client, title_nl="", body_nl="", title_fr="Règlement", body_fr="x")
    assert response.status_code == 200
    assert "needs a title in the group's default language" in main_text(response)
    assert db.session.scalar(select(Page)) is None


def test_a_slug_that_clashes_or_is_malformed_is_refused(client: Any, editor: Any) -> None:
    make_page("huisregels")
    clash = _save(client)
    assert "Another page already has this address" in main_text(clash)
    bad = _save(client, slug="Huis Regels!")
    assert "lower-case letters" in main_text(bad)
    assert db.session.scalar(select(db.func.count()).select_from(Page)) == 1


@pytest.mark.parametrize("body", [
    "Hallo <script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[klik](javascript:alert(1))",
    "<a href='#' ONCLICK = 'x()'>a</a>",
])
def test_markdown_with_script_or_event_handlers_is_refused_and_not_stored(
        client: Any, editor: Any, body: str) -> None:
    response = _save(client, body_nl=body)
    assert response.status_code == 200
    assert "no script, no event handlers" in main_text(response)
    db.session.rollback()
    assert db.session.scalar(select(Page)) is None
    assert db.session.scalar(select(PageRevision)) is None


def test_plain_markdown_with_an_html_lookalike_is_kept(client: Any, editor: Any) -> None:
    assert _save(client, body_nl="Leden >= 18 jaar, prijs < 5 uren; online op maandag.")\
        .status_code == 303


def test_members_page_and_draft_are_hidden_from_who_may_not_read_them(client: Any,
                                                                      auth: Any) -> None:
    make_page("notulen", visibility="members")
    make_page("ontwerp", state="draft")
    assert client.get("/p/notulen").status_code == 302
    assert client.get("/p/ontwerp").status_code == 404
    member = make_member(locale="en")
    auth.login(member.account_code)
    assert client.get("/p/notulen").status_code == 200
    assert client.get("/p/ontwerp").status_code == 404  # a member is not an editor


def test_menu_and_footer_links_follow_placement_state_and_visibility(client: Any,
                                                                     auth: Any) -> None:
    make_page("hoe-werkt-het", "Hoe werkt LETS", placement="menu")
    make_page("contact", "Contacteer ons", placement="footer")
    make_page("intern", "Interne afspraken", placement="menu", visibility="members")
    make_page("later", "Nog niet klaar", placement="menu", state="draft")
    html = client.get("/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert 'href="/p/hoe-werkt-het">Hoe werkt LETS' in html
    assert 'href="/p/contact">Contacteer ons' in html
    assert "Interne afspraken" not in html and "Nog niet klaar" not in html
    auth.login(make_member().account_code)
    html = client.get("/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "Interne afspraken" in html and "Nog niet klaar" not in html


def test_only_editors_and_admins_edit_and_only_admins_give_the_role(
        client: Any, auth: Any, make_admin: Any) -> None:
    member = make_member(locale="en")
    auth.login(member.account_code)
    assert _save(client).status_code == 403
    assert client.post_form("/admin/content/editors", {"code": member.account_code}
                            ).status_code == 403
    auth.logout()
    admin = make_admin(locale="en")
    auth.login(admin.account_code)
    assert client.post_form("/admin/content/editors", {"code": member.account_code}
                            ).status_code == 303
    auth.logout()
    auth.login(member.account_code)
    assert _save(client).status_code == 303
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "content.editor_grant" in actions


def test_deleting_a_published_page_asks_first_keeps_revisions_and_is_audited(
        client: Any, editor: Any) -> None:
    _save(client)
    page_id = _page().id
    client.post_form("/admin/pages/publish", {"id": str(page_id)})
    confirm = client.get(f"/admin/pages/{page_id}/delete")
    assert confirm.status_code == 200 and "This page is published" in main_text(confirm)
    assert client.get("/p/huisregels").status_code == 200  # asking deleted nothing
    assert client.post_form(f"/admin/pages/{page_id}/delete").status_code == 303
    assert client.get("/p/huisregels").status_code == 404
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(PageRevision).where(
        PageRevision.page_id == page_id)) == 1
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert {"content.page_publish", "content.page_delete"} <= set(actions)
    # The address is free for a new page.
    assert _save(client).status_code == 303


def test_join_form_links_to_the_house_rules_only_when_published(client: Any) -> None:
    html = client.get("/join").get_data(as_text=True)
    assert 'href="/#about">How the group works' in html
    page = make_page("house-rules", state="draft")
    assert "/p/house-rules" not in client.get("/join").get_data(as_text=True)
    page.state = "published"
    db.session.commit()
    html = client.get("/join").get_data(as_text=True)
    assert 'href="/p/house-rules">How the group works' in html and "/#about" not in html


def test_a_page_cannot_be_placed_under_itself_or_its_own_sub_page(client: Any,
                                                                   editor: Any) -> None:
    _save(client)
    parent_id = _page().id
    _save(client, slug="kind", title_nl="Kind", parent_id=str(parent_id))
    child_id = _page("kind").id
    response = _save(client, parent_id, parent_id=str(child_id))
    assert response.status_code == 200
    assert "cannot be placed under itself" in main_text(response)
    assert _page().parent_id is None
