"""The book swaps feature: members' books to give, lend or swap."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.books import (
    demo,
    models,
    services,
    swap_views,  # noqa: F401 - adds the swap routes to the blueprint
    swaps,
)
from lets_site.books.models import Visibility
from lets_site.books.views import bp


def items(viewer: Any, limit: int) -> list[f.Item]:
    """Offered books; the public ones go to the feed (kind "book")."""
    return [
        f.Item(id=book.urn, kind="book", title=book.title,
               url=f.item_url("books.detail", book_id=book.id),
               visibility=f.PUBLIC if book.visibility == Visibility.PUBLIC else f.MEMBERS_ONLY,
               created=book.created_at, updated=book.updated_at,
               details=_details(book, viewer))
        for book in services.newest(viewer, limit)
    ]


def _details(book: Any, viewer: Any) -> dict[str, Any]:
    """What a feed carries; the owner by name only if this viewer may see the member."""
    owner, org = book.owner_member, book.owner_org
    return {
        "text": book.note, "isbn": book.isbn, "authors": book.authors,
        "language": book.language, "condition": book.condition, "mode": book.mode,
        "member": owner.display_name if owner is not None and org is None
        and owner.can_view_profile(viewer) else None,
        "organisation": {"name": org.name,
                         "url": f.item_url("organisations.detail", slug=org.slug)}
        if org is not None else None,
    }


def _profile(member: Any, viewer: Any) -> dict[str, Any] | None:
    """On a member's profile: the books on their shelf this viewer may see."""
    books = services.shelf(member, viewer)
    return {"member": member, "books": books} if books else None


def _organisation(org: Any, viewer: Any) -> dict[str, Any] | None:
    books = services.shelf(org, viewer)
    return {"member": org, "books": books} if books else None


def _event(event: Any, viewer: Any) -> dict[str, Any] | None:
    """On a book swap's page: the books brought, by language and genre, with the hosting
    partners; for a member a form to bring one of their books; for its organisers the
    link to record what changed hands."""
    if not swaps.is_swap(event):
        return None
    rows = [r for r in swaps.brought(event) if r.book.can_view(viewer)]
    return {"event": event, "groups": swaps.grouped(rows), "count": len(rows),
            "partners": event.partner_list(), "open": swaps.open_for_books(event),
            "bringable": swaps.bringable(viewer, event),
            "may_record": swaps.may_record(viewer, event) and swaps.record_open(event)}


def _demo(ctx: f.DemoContext) -> None:
    books = demo.seed(ctx.rng, ctx.made["members"], ctx.made["organisations"])
    demo.bring_to_swap(books)


AUDIT_ACTIONS = {
    "book.create": _l("Added a book for an organisation"),
    "book.edit": _l("Changed someone else's book"),
    "book.shelve": _l("Took someone else's book off the list"),
    "book.offer": _l("Offered someone else's book again"),
    "book.accept": _l("Accepted a request for someone else's book"),
    "book.decline": _l("Declined a request for someone else's book"),
    "book.hand_over": _l("Recorded the hand-over of someone else's book"),
    "book.return": _l("Recorded the return of someone else's book"),
    "book.swap_record": _l("Recorded what changed hands at a book swap"),
}

FEATURE = f.Feature(
    name="books",
    blueprint=bp,
    menu=[f.MenuLink("books.index", _l("Books"), order=15)],
    panels=[
        f.Panel(f.PROFILE, "books/_shelf_panel.html", _profile, order=60),
        f.Panel(f.ORGANISATION, "books/_shelf_panel.html", _organisation, order=60),
        f.Panel(f.EVENT, "books/_event_panel.html", _event, order=50),
    ],
    demo=f.DemoStep(80, _demo),  # after events (70): the library's swap is theirs
    export=f.ExportSection("books", services.export_section),
    items=items,
    item_kinds={"book": _l("Books")},
    audit_actions=AUDIT_ACTIONS,
    notifications=(
        f.NotificationKind(services.REQUESTED, _l("Someone asks for one of my books")),
        f.NotificationKind(services.DUE_BACK, _l("A book I borrowed is due back"),
                           due=services.due_back_notices),
    ),
    portable=f.Portable(tables=(models.Book, models.BookRequest, models.BookAtEvent),
                        files=("books",)),
)
