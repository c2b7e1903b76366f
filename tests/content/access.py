from __future__ import annotations

from typing import Any

from tests.access import AD, ADMINS_ONLY, LOGIN, A, I, M, O, Table, everyone

# Content editors are admins or members an admin gave the role; none of the standard
# people is an editor but the admin (tests/content/test_views.py checks an editor).
EDITORS_ONLY = ADMINS_ONLY


def _values(people: dict[str, Any]) -> dict[str, Any]:
    """The objects the paths need, made once per ``people`` (walks fill many paths)."""
    if "_content" not in people:
        people["_content"] = _make()
    return people["_content"]  # type: ignore[no-any-return]


def _make() -> dict[str, Any]:
    from lets_site.content.services import page_by_slug
    from tests.content.conftest import make_document, make_news, make_page

    # Made again on a database that already has them (the phone walk, once per role).
    public = page_by_slug("huisregels") or make_page(slug="huisregels")
    members = page_by_slug("notulen") or make_page(slug="notulen", visibility="members")
    draft = page_by_slug("ontwerp") or make_page(slug="ontwerp", state="draft")
    news = make_news()
    members_news = make_news("Voor leden", visibility="members")
    draft_news = make_news("Ontwerp", state="draft")
    document = make_document()
    public_document = make_document("Folder", visibility="public")
    return {"page": public.slug, "members_page": members.slug, "draft_page": draft.slug,
            "page_id": public.id, "news": news.id, "members_news": members_news.id,
            "draft_news": draft_news.id, "document": document.id,
            "public_document": public_document.id}


MEMBERS = {A: LOGIN, M: 200, I: 200, AD: 200, O: 200}
# A members-only file: a visitor who guesses its address gets a 404, as for no file.
MEMBERS_FILE = {A: 404, M: 200, I: 200, AD: 200, O: 200}
DRAFT = {A: 404, M: 404, I: 404, AD: 200, O: 404}

TABLE = Table(
    routes={
        "/p/{page}": everyone(200),
        "/p/{members_page}": MEMBERS,
        "/p/{draft_page}": DRAFT,
        "/search": everyone(200),
        "/news/": everyone(200),
        "/news/{news}": everyone(200),
        "/news/{members_news}": MEMBERS,
        "/news/{draft_news}": DRAFT,
        "/documents/": everyone(200),
        "/documents/{document}": MEMBERS,
        "/documents/{public_document}": everyone(200),
        "/documents/{document}/file": MEMBERS_FILE,
        "/documents/{public_document}/file": everyone(200),
        "/admin/pages/": EDITORS_ONLY,
        "/admin/pages/new": EDITORS_ONLY,
        "/admin/pages/{page_id}": EDITORS_ONLY,
        "/admin/pages/{page_id}/delete": EDITORS_ONLY,
        "/admin/pages/{page_id}/revisions": EDITORS_ONLY,
        "/admin/news/": EDITORS_ONLY,
        "/admin/news/new": EDITORS_ONLY,
        "/admin/news/{news}": EDITORS_ONLY,
        "/admin/documents/new": EDITORS_ONLY,
        "/admin/documents/{document}": EDITORS_ONLY,
        "/admin/content/editors": ADMINS_ONLY,
    },
    post_only={
        "/admin/pages/publish",
        "/admin/pages/unpublish",
        "/admin/pages/restore",
        "/admin/news/publish",
        "/admin/news/unpublish",
        "/admin/news/delete",
        "/admin/documents/delete",
        "/admin/content/editors/<int:member_id>/remove",
    },
    rules={
        "/p/<slug>": "/p/{page}",
        "/news/<int:news_id>": "/news/{news}",
        "/documents/<int:document_id>": "/documents/{document}",
        "/documents/<int:document_id>/file": "/documents/{document}/file",
        "/admin/pages/<int:page_id>": "/admin/pages/{page_id}",
        "/admin/pages/<int:page_id>/delete": "/admin/pages/{page_id}/delete",
        "/admin/pages/<int:page_id>/revisions": "/admin/pages/{page_id}/revisions",
        "/admin/news/<int:news_id>": "/admin/news/{news}",
        "/admin/documents/<int:document_id>": "/admin/documents/{document}",
    },
    values=_values,
)
