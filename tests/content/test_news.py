"""News: the home panel, pinned first, visibility, items for the contract, audit."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from lets_site import features
from lets_site.audit.models import AuditEntry
from lets_site.content.models import NewsItem
from lets_site.extensions import db
from tests.content.conftest import make_editor, make_news
from tests.factories import make_member
from tests.html import main_text, select_text


def test_home_panel_shows_the_newest_published_news_pinned_first(client: Any) -> None:
    make_news("Oud maar vastgezet", news_date=date(2026, 1, 1), pinned=True)
    for day in range(1, 5):
        make_news(f"Bericht {day}", news_date=date(2026, 11, day))
    make_news("Nog een ontwerp", state="draft", news_date=date(2026, 12, 1))
    make_news("Alleen voor leden", visibility="members", news_date=date(2026, 12, 2))
    text = select_text(client.get("/"), "#home-news")
    assert text.index("Oud maar vastgezet") < text.index("Bericht 4") < text.index("Bericht 3")
    assert "Bericht 2" not in text  # three on the home page
    assert "Nog een ontwerp" not in text and "Alleen voor leden" not in text


def test_items_carry_public_news_to_visitors_and_members_news_to_members(app: Any) -> None:
    public = make_news("Publiek")
    members = make_news("Intern", visibility="members")
    make_news("Ontwerp", state="draft")
    with app.test_request_context("/"):
        visitor = [i for i in features.items(None) if i.kind == "news"]
        member = [i for i in features.items(make_member()) if i.kind == "news"]
    assert [i.id for i in visitor] == [public.urn]
    assert {i.id for i in member} == {public.urn, members.urn}
    assert visitor[0].url == f"/news/{public.id}" and visitor[0].visibility == "public"


def test_editor_writes_publishes_and_deletes_news_with_audit(client: Any, auth: Any) -> None:
    editor = make_editor(make_member(locale="en"))
    auth.login(editor.account_code)
    response = client.post_form("/admin/news/new", {
        "title": "Ruilbib verhuist", "news_date": "15/05/2027", "summary": "Naar mei.",
        "body": "", "visibility": "public"})
    assert response.status_code == 303
    item = db.session.scalar(select(NewsItem))
    assert item.news_date == date(2027, 5, 15) and item.state == "draft"
    news_id = item.id
    assert client.get(f"/news/{news_id}").status_code == 200  # an editor sees the draft
    client.post_form("/admin/news/publish", {"id": str(news_id)})
    client.post_form("/admin/news/delete", {"id": str(news_id)})
    db.session.rollback()
    assert db.session.get(NewsItem, news_id) is None
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert {"content.news_publish", "content.news_delete"} <= set(actions)


def test_news_with_a_bad_date_or_a_script_is_refused(client: Any, auth: Any,
                                                     make_admin: Any) -> None:
    auth.login(make_admin(locale="en").account_code)
    bad_date = client.post_form("/admin/news/new", {"title": "X", "news_date": "32/13/2027",
                                                    "visibility": "public"})
    assert bad_date.status_code == 200
    script = client.post_form("/admin/news/new", {
        "title": "X", "news_date": "2027-01-01", "visibility": "public",
        "summary": "<script>alert(1)</script>"})
    assert "no script" in main_text(script)
    assert db.session.scalar(select(NewsItem)) is None


def test_news_buttons_need_the_token_and_a_number(client: Any, auth: Any,
                                                  make_admin: Any) -> None:
    item = make_news(state="draft")
    auth.login(make_admin(locale="en").account_code)
    assert client.post("/admin/news/publish", data={"id": str(item.id)}).status_code == 400
    assert client.post_form("/admin/news/publish", {"id": "abc"}).status_code == 400
    assert client.post_form("/admin/news/publish", {"id": "999999"}).status_code == 404


def test_news_pages_past_the_end_or_huge_show_the_last_page(client: Any) -> None:
    make_news("Enige bericht")
    for number in ("2", "99999999999999999999", "-3", "x"):
        response = client.get(f"/news/?page={number}")
        assert response.status_code == 200 and "Enige bericht" in main_text(response)
    assert client.get("/news/99999999999999999999").status_code == 404
    assert client.get("/documents/99999999999999999999/file").status_code == 404
