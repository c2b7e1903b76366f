"""The offers feature: offers and wants of members and organisations."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.offers import commands, demo, models, services
from lets_site.offers.models import ListingVisibility
from lets_site.offers.views import bp

HOME_LISTINGS = 6


def items(viewer: Any, limit: int) -> list[f.Item]:
    return [
        f.Item(id=listing.urn, kind=str(listing.kind), title=listing.title,
               url=f.item_url("offers.detail", listing_id=listing.id),
               visibility=(f.PUBLIC if listing.visibility == ListingVisibility.PUBLIC
                           else f.MEMBERS_ONLY),
               created=listing.created_at, updated=listing.updated_at,
               details=_details(listing, viewer))
        for listing in services.newest(viewer, limit, with_text=True)
    ]


def _details(listing: Any, viewer: Any) -> dict[str, Any]:
    """What a feed carries: the price in hundredths of the unit, the category's slug, and
    who offers it (an organisation, or a member only if this viewer may see their name).
    For the paper lists: the category's name in each language and the contact person
    (whose phone is printed only if their phone's visibility allows it)."""
    owner, org = listing.owner_member, listing.owner_org
    category = listing.category
    return {
        "category_names": ({lang: category.full_name(lang) for lang in ("nl", "fr", "en")}
                           if category is not None else None),
        "contact_member_id": listing.contact_member_id,
        "text": listing.description, "category": listing.category.slug
        if listing.category else None, "price": listing.price_amount,
        "price_basis": str(listing.price_basis),
        "valid_through": listing.valid_until.isoformat(),
        "member": owner.display_name if owner is not None and org is None
        and owner.can_view_profile(viewer) else None,
        "organisation": {"name": org.name,
                         "url": f.item_url("organisations.detail", slug=org.slug)}
        if org is not None else None,
    }


def _home(_subject: Any, viewer: Any) -> dict[str, Any]:
    return {"listings": services.newest(viewer, HOME_LISTINGS)}


def _organisation(org: Any, viewer: Any) -> dict[str, Any]:
    return {"org": org, "listings": services.listings_for_owner(org, viewer)}


def _profile(member: Any, viewer: Any) -> dict[str, Any]:
    """On a member's profile: their live listings this viewer may see."""
    return {"member": member, "listings": services.listings_for_owner(member, viewer)}


def _directory(members: Any, viewer: Any) -> dict[str, Any] | None:
    """In the member directory: what each member on the page offers and wants."""
    titles = services.titles_by_member([m.id for m in members], viewer)
    return {"titles": titles} if titles else None


def _demo(ctx: f.DemoContext) -> None:
    demo.seed(ctx.rng, ctx.made["members"], ctx.made["organisations"])


# The audit log's words for what this feature records.
AUDIT_ACTIONS = {
    "listing.category_create": _l("Added a category of offers and wants"),
    "listing.category_edit": _l("Changed a category of offers and wants"),
    "listing.create": _l("Added a listing for an organisation"),
    "listing.edit": _l("Changed someone else's listing"),
    "listing.published": _l("Published someone else's listing"),
    "listing.withdrawn": _l("Withdrew someone else's listing"),
}

FEATURE = f.Feature(
    name="offers",
    blueprint=bp,
    menu=[f.MenuLink("offers.index", _l("Offers and wants"), order=10)],
    admin=[f.AdminLink("offers.admin_categories", _l("Categories of offers and wants"),
                       order=40)],
    panels=[
        f.Panel(f.HOME, "offers/_home.html", _home, order=30, shared=True),
        f.Panel(f.ORGANISATION, "offers/_org_listings.html", _organisation, order=50),
        f.Panel(f.PROFILE, "offers/_profile_listings.html", _profile, order=50),
        f.Panel(f.DIRECTORY, "offers/_directory_line.html", _directory, order=50),
    ],
    demo=f.DemoStep(40, _demo),
    export=f.ExportSection("listings", services.export_section),
    commands=commands.COMMANDS,
    items=items,
    item_kinds={"offer": _l("Offers"), "want": _l("Wants")},
    audit_actions=AUDIT_ACTIONS,
    notifications=(
        f.NotificationKind(services.ANSWERED, _l("Someone answers my offer or want")),
        f.NotificationKind(services.EXPIRING, _l("My offer or want expires in two weeks"),
                           due=services.expiring_notices),
    ),
    lapses=services.next_lapse,
    portable=f.Portable(tables=(models.Category, models.Listing, models.ListingResponse),
                        files=("offers",)),
)
