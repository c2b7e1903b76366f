"""The book swaps feature: members' books to give, lend or swap."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.books import demo, services
from lets_site.books.models import Visibility
from lets_site.books.views import bp


def items(viewer: Any, limit: int) -> list[f.Item]:
    """Offered books; the public ones go to the feed (kind "book")."""
    return [
        f.Item(id=book.urn, kind="book", title=book.title,
               url=f.item_url("books.detail", book_id=book.id),
               visibility=f.PUBLIC if book.visibility == Visibility.PUBLIC else f.MEMBERS_ONLY,
               created=book.created_at, updated=book.updated_at)
        for book in services.newest(viewer, limit)
    ]


def _profile(member: Any, viewer: Any) -> dict[str, Any] | None:
    """On a member's profile: the books on their shelf this viewer may see."""
    books = services.shelf(member, viewer)
    return {"member": member, "books": books} if books else None


def _organisation(org: Any, viewer: Any) -> dict[str, Any] | None:
    books = services.shelf(org, viewer)
    return {"member": org, "books": books} if books else None


def _demo(ctx: f.DemoContext) -> None:
    demo.seed(ctx.rng, ctx.made["members"], ctx.made["organisations"])


AUDIT_ACTIONS = {
    "book.create": _l("Added a book for an organisation"),
    "book.edit": _l("Changed someone else's book"),
    "book.shelve": _l("Took someone else's book off the list"),
    "book.offer": _l("Offered someone else's book again"),
    "book.accept": _l("Accepted a request for someone else's book"),
    "book.decline": _l("Declined a request for someone else's book"),
    "book.hand_over": _l("Recorded the hand-over of someone else's book"),
    "book.return": _l("Recorded the return of someone else's book"),
}

FEATURE = f.Feature(
    name="books",
    blueprint=bp,
    menu=[f.MenuLink("books.index", _l("Books"), order=15)],
    panels=[
        f.Panel(f.PROFILE, "books/_shelf_panel.html", _profile, order=60),
        f.Panel(f.ORGANISATION, "books/_shelf_panel.html", _organisation, order=60),
    ],
    demo=f.DemoStep(60, _demo),
    export=f.ExportSection("books", services.export_section),
    items=items,
    audit_actions=AUDIT_ACTIONS,
    notifications=(
        f.NotificationKind(services.REQUESTED, _l("Someone asks for one of my books")),
        f.NotificationKind(services.DUE_BACK, _l("A book I borrowed is due back"),
                           due=services.due_back_notices),
    ),
)
