"""The content feature: the group's pages, news and documents."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

from flask import has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lets_site import features as f
from lets_site.content import demo, models, services
from lets_site.content.models import Placement, Visibility, is_editor
from lets_site.content.views import bp
from lets_site.settings import cached, reader_language

HOME_NEWS = 3
# A place on the join form: the link to the page that says how the group works.
JOIN = "join"


def _visibility(value: str) -> str:
    return f.PUBLIC if value == Visibility.PUBLIC else f.MEMBERS_ONLY


def items(viewer: Any, limit: int) -> list[f.Item]:
    """Published news the viewer may read (the digest and the feed carry the public ones)."""
    return [
        f.Item(id=item.urn, kind="news", title=item.title,
               url=f.item_url("content.news_detail", news_id=item.id),
               visibility=_visibility(item.visibility),
               created=item.created_at, updated=item.updated_at)
        for item in services.news_for_items(viewer, limit)
    ]


class _Menu(Sequence[f.MenuLink]):
    """The feature's menu links: the editors' own link and the pages an editor placed in
    the main menu. Read when the menu is drawn, so a page published a
    moment ago is in it."""

    def _links(self) -> list[f.MenuLink]:
        return cached("content.menu", self._read)

    def _read(self) -> list[f.MenuLink]:
        # News and documents are linked from the footer (and the home page's news panel):
        # the main menu stays short on a phone and in a text browser.
        links: list[f.MenuLink] = []
        if not has_request_context():
            return links
        viewer = current_user if current_user.is_authenticated else None
        if viewer is not None and not viewer.is_admin and is_editor(viewer):
            links.append(f.MenuLink("content.admin_pages", _l("Edit pages"), f.MEMBERS, 90))
        lang = reader_language()
        links += [f.MenuLink("content.page", page.title(lang), f.EVERYONE, 60 + i,
                             values={"slug": page.slug})
                  for i, page in enumerate(services.placed_pages(Placement.MENU, viewer))]
        return links

    @overload
    def __getitem__(self, index: int) -> f.MenuLink: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[f.MenuLink]: ...
    def __getitem__(self, index: Any) -> Any:
        return self._links()[index]

    def __iter__(self) -> Iterator[f.MenuLink]:
        return iter(self._links())

    def __len__(self) -> int:
        return len(self._links())


def _footer(_subject: Any, viewer: Any) -> dict[str, Any]:
    """News, documents (for members) and the pages placed in the footer."""
    return {"pages": services.placed_pages(Placement.FOOTER, viewer),
            "lang": reader_language(), "member": viewer is not None}


def _home(_subject: Any, viewer: Any) -> dict[str, Any] | None:
    news = services.newest_news(viewer, HOME_NEWS)
    return {"news": news} if news else None


def _join(_subject: Any, viewer: Any) -> dict[str, Any] | None:
    """The join form's "how the group works": the house rules when they are published."""
    page = services.published_page(services.HOUSE_RULES, viewer)
    return {"page": page} if page is not None else None


def _demo(ctx: f.DemoContext) -> None:
    demo.seed(ctx)


AUDIT_ACTIONS = {
    "content.editor_grant": _l("Made a member a content editor"),
    "content.editor_revoke": _l("Took the content editor role from a member"),
    "content.page_publish": _l("Published a page"),
    "content.page_unpublish": _l("Made a page a draft again"),
    "content.page_delete": _l("Deleted a page"),
    "content.news_publish": _l("Published a news item"),
    "content.news_unpublish": _l("Made a news item a draft again"),
    "content.news_delete": _l("Deleted a news item"),
    "content.document_add": _l("Added a document"),
    "content.document_delete": _l("Deleted a document"),
}

FEATURE = f.Feature(
    name="content",
    blueprint=bp,
    menu=_Menu(),
    admin=[
        f.AdminLink("content.admin_pages", _l("Pages"), order=60),
        f.AdminLink("content.admin_news", _l("News"), order=61),
        f.AdminLink("content.admin_document_new", _l("Add a document"), order=62),
        f.AdminLink("content.admin_editors", _l("Content editors"), order=63),
    ],
    panels=[
        f.Panel(f.HOME, "content/_home_news.html", _home, order=20, shared=True),
        f.Panel(f.FOOTER, "content/_footer_pages.html", _footer, order=50, shared=True),
        f.Panel(JOIN, "content/_join_rules.html", _join, order=50),
    ],
    demo=f.DemoStep(60, _demo),
    items=items,
    item_kinds={"news": _l("News")},
    audit_actions=AUDIT_ACTIONS,
    portable=f.Portable(tables=(models.ContentEditor, models.Page, models.PageText,
                                models.PageRevision, models.NewsItem, models.Document),
                        files=("documents",)),
)
