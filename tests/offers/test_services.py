from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from lets_site.audit.models import AuditEntry
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.offers import services
from lets_site.offers.models import Listing, ListingVisibility, State
from lets_site.offers.services import Filters, ListingData
from tests.offers.conftest import make_category, make_listing

pytestmark = pytest.mark.usefixtures("request_ctx")


def data(**overrides: Any) -> ListingData:
    values: dict[str, Any] = {"kind": "offer", "title": "Soep maken",
                              "description": "Verse soep.", "price": Decimal(2),
                              "price_basis": "hour"}
    values.update(overrides)
    return ListingData(**values)


def titles(page: services.ListingPage) -> list[str]:
    return [item.title for item in page.items]


# --- Authorisation per role ---------------------------------------------------------------


def test_create_listing_member_owns_it(people: dict[str, Any]) -> None:
    listing = services.create_listing(people["member"], data())
    db.session.commit()
    assert listing.owner_member_id == people["member"].id
    assert listing.contact_member_id == people["member"].id
    assert listing.state == State.PUBLISHED
    assert listing.urn.startswith("urn:uuid:") and len(listing.uuid) == 36
    # Valid for a year by default.
    assert timedelta(days=364) < listing.valid_until - utcnow() <= timedelta(days=365)


def test_create_listing_intermediary_for_own_organisation(people: dict[str, Any]) -> None:
    listing = services.create_listing(people["intermediary"], data(),
                                      organisation=people["org"])
    db.session.commit()
    assert listing.owner_org_id == people["org"].id
    assert listing.owner_member_id is None
    assert listing.contact_member_id == people["intermediary"].id


def test_create_listing_refused_for_another_organisation(people: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        services.create_listing(people["intermediary"], data(),
                                organisation=people["other_org"])
    with pytest.raises(PermissionDenied):
        services.create_listing(people["member"], data(), organisation=people["org"])


@pytest.mark.parametrize(("role", "allowed"), [
    ("member", True), ("intermediary", False), ("other_org_member", False), ("admin", True),
])
def test_update_member_listing_per_role(people: dict[str, Any], role: str,
                                        allowed: bool) -> None:
    listing = make_listing(people["member"])
    if allowed:
        services.update_listing(people[role], listing, data(title="Nieuwe titel"))
        db.session.commit()
        assert listing.title == "Nieuwe titel"
    else:
        with pytest.raises(PermissionDenied):
            services.update_listing(people[role], listing, data(title="Nieuwe titel"))


@pytest.mark.parametrize(("role", "allowed"), [
    ("member", False), ("intermediary", True), ("other_org_member", False), ("admin", True),
])
def test_update_organisation_listing_per_role(people: dict[str, Any], role: str,
                                              allowed: bool) -> None:
    listing = make_listing(people["org"])
    if allowed:
        services.withdraw(people[role], listing)
        assert listing.state == State.WITHDRAWN
    else:
        with pytest.raises(PermissionDenied):
            services.withdraw(people[role], listing)
        assert listing.state == State.PUBLISHED


def test_admin_edit_of_someone_elses_listing_is_audited(people: dict[str, Any]) -> None:
    listing = make_listing(people["member"])
    services.update_listing(people["admin"], listing, data(title="Door admin"))
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "listing.edit"))
    assert entry is not None and entry.target_id == str(listing.id)


# --- Workflow ------------------------------------------------------------------------------


def test_lifecycle_and_revision_counter(people: dict[str, Any]) -> None:
    member = people["member"]
    listing = services.create_listing(member, data(), publish=False)
    db.session.commit()
    assert listing.state == State.DRAFT and listing.revision == 1
    uuid = listing.uuid
    services.publish(member, listing)
    db.session.commit()
    assert listing.state == State.PUBLISHED and listing.revision == 2
    services.withdraw(member, listing)
    db.session.commit()
    assert listing.state == State.WITHDRAWN and listing.revision == 3
    with pytest.raises(DomainError):
        services.withdraw(member, listing)
    db.session.rollback()
    services.renew(member, listing)
    db.session.commit()
    assert listing.state == State.PUBLISHED and listing.revision == 4
    services.update_listing(member, listing, data(title="Andere soep"))
    db.session.commit()
    assert listing.revision == 5 and listing.uuid == uuid


def test_update_listing_refuses_a_form_of_an_older_revision(people: dict[str, Any]) -> None:
    member = people["member"]
    listing = make_listing(member, "Soep")
    services.update_listing(member, listing, data(title="Eerste"), revision=1)
    db.session.commit()
    assert listing.revision == 2
    with pytest.raises(services.EditConflict, match="changed by someone else meanwhile"):
        services.update_listing(member, listing, data(title="Tweede"), revision=1)
    db.session.rollback()
    assert (listing.title, listing.revision) == ("Eerste", 2)


@pytest.mark.real_commits  # another connection commits between the read and the write
def test_update_listing_saved_meanwhile_is_a_conflict_not_an_error(
        people: dict[str, Any]) -> None:
    """What PostgreSQL does when a concurrent edit commits between this one's read and
    its UPDATE: the UPDATE of the revision it read matches no row (StaleDataError)."""
    member = people["member"]
    listing = make_listing(member, "Soep")
    assert listing.revision == 1  # loaded, as the edit request loads it
    db.session.expunge(listing)
    db.session.rollback()
    with db.engine.begin() as other:  # another request saves meanwhile
        other.execute(update(Listing).where(Listing.id == listing.id)
                      .values(title="Van iemand anders", revision=2))
    db.session.add(listing)
    with pytest.raises(services.EditConflict, match="changed by someone else meanwhile"):
        services.update_listing(member, listing, data(title="Mijn versie"))
    db.session.rollback()
    stored = db.session.get(Listing, listing.id)
    assert stored is not None and stored.title == "Van iemand anders"


def test_expired_listing_leaves_lists_stays_reachable_and_renews(
    people: dict[str, Any],
) -> None:
    member = people["member"]
    listing = make_listing(member, "Oude aanbieding", valid_until=utcnow() - timedelta(days=1))
    make_listing(member, "Verse aanbieding")
    assert titles(services.browse(member, Filters())) == ["Verse aanbieding"]
    # Still reachable by URL, shown as expired.
    found = services.get_listing(listing.id, people["other_org_member"])
    assert found.shown_state == State.EXPIRED and not found.can_respond(people["admin"])
    with pytest.raises(DomainError):
        services.publish(member, listing)
    db.session.rollback()
    services.renew(member, listing)
    db.session.commit()
    assert "Oude aanbieding" in titles(services.browse(member, Filters()))


def test_expire_overdue_stores_state(people: dict[str, Any]) -> None:
    old = make_listing(people["member"], valid_until=utcnow() - timedelta(hours=1))
    fresh = make_listing(people["member"])
    assert services.expire_overdue() == 1
    db.session.commit()
    db.session.refresh(old)
    db.session.refresh(fresh)
    assert old.state == State.EXPIRED and fresh.state == State.PUBLISHED


def test_drafts_hidden_from_others(people: dict[str, Any]) -> None:
    listing = make_listing(people["member"], state=State.DRAFT)
    assert services.get_listing(listing.id, people["member"]) is listing
    with pytest.raises(NotFound):
        services.get_listing(listing.id, people["other_org_member"])
    assert titles(services.browse(people["member"], Filters())) == []


# --- Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "field"), [
    ({"title": "   "}, "title"),
    ({"price": Decimal(-1)}, "price"),
    ({"price": Decimal(1000000)}, "price"),
    ({"price": Decimal("NaN")}, "price"),
    ({"price": None, "price_basis": "hour"}, "price"),
    ({"kind": "gift"}, "kind"),
    ({"visibility": "secret"}, "visibility"),
    ({"category_id": 999}, "category_id"),
    ({"valid_until": utcnow() - timedelta(days=2)}, "valid_until"),
    ({"valid_until": utcnow() + timedelta(days=5000)}, "valid_until"),
])
def test_create_listing_bad_input(people: dict[str, Any], overrides: dict[str, Any],
                                  field: str) -> None:
    with pytest.raises(DomainError) as info:
        services.create_listing(people["member"], data(**overrides))
    assert info.value.field == field
    assert str(info.value.message)


def test_price_to_agree_needs_no_amount(people: dict[str, Any]) -> None:
    listing = services.create_listing(people["member"], data(price=None, price_basis="agree"))
    assert listing.price_amount is None
    listing = services.create_listing(people["member"], data(price=Decimal("1.5")))
    assert listing.price_amount == 150


# --- Visibility and browsing ---------------------------------------------------------------


def test_browse_visibility_anonymous_sees_public_only(people: dict[str, Any]) -> None:
    make_listing(people["member"], "Voor leden")
    make_listing(people["member"], "Voor iedereen", visibility=ListingVisibility.PUBLIC)
    assert titles(services.browse(None, Filters())) == ["Voor iedereen"]
    assert sorted(titles(services.browse(people["other_org_member"], Filters()))) == [
        "Voor iedereen", "Voor leden"]


def test_browse_filters(people: dict[str, Any]) -> None:
    garden = make_category("Tuin", en="Garden")
    mowing = make_category("Gras maaien", parent=garden)
    make_listing(people["member"], "Gras", category=mowing)
    make_listing(people["org"], "Wandelen", kind="want",
                 valid_until=utcnow() + timedelta(days=3))
    other = people["other_org_member"]
    other.postcode = "8400"
    db.session.commit()
    make_listing(other, "Oostende", valid_until=utcnow() + timedelta(days=10))
    viewer = people["admin"]
    assert titles(services.browse(viewer, Filters(kind="want"))) == ["Wandelen"]
    assert titles(services.browse(viewer, Filters(category="tuin"))) == ["Gras"]
    assert titles(services.browse(viewer, Filters(owner="organisations"))) == ["Wandelen"]
    assert sorted(titles(services.browse(viewer, Filters(owner="members")))) == [
        "Gras", "Oostende"]
    assert titles(services.browse(viewer, Filters(postcode="84"))) == ["Oostende"]
    assert titles(services.browse(viewer, Filters(sort="ending"))) == [
        "Wandelen", "Oostende", "Gras"]


def test_browse_pages_of_twenty(people: dict[str, Any]) -> None:
    for n in range(21):
        make_listing(people["member"], f"Aanbod {n:02d}")
    first = services.browse(people["member"], Filters())
    assert len(first.items) == 20 and first.has_next
    second = services.browse(people["member"], Filters(page=2))
    assert titles(second) == ["Aanbod 00"] and not second.has_next


def test_my_listings_include_organisations(people: dict[str, Any]) -> None:
    make_listing(people["intermediary"], "Van mezelf")
    make_listing(people["org"], "Van Hedera", state=State.DRAFT)
    make_listing(people["other_org"], "Van Vondels")
    groups = services.my_listings(people["intermediary"])
    assert [[item.title for item in items] for _, items in groups] == [
        ["Van mezelf"], ["Van Hedera"]]
    assert groups[1][0] is people["org"]


# --- Search --------------------------------------------------------------------------------


def test_search_ignores_accents_and_case(people: dict[str, Any]) -> None:
    make_listing(people["member"], "Koffie in het Café", description="Gezellig")
    make_listing(people["member"], "Fiets herstellen")
    for query in ("cafe", "CAFÉ", "Café", "caf"):
        assert titles(services.browse(people["member"], Filters(q=query))) == [
            "Koffie in het Café"], query
    # Every word must match; punctuation and FTS operators are harmless.
    assert titles(services.browse(people["member"], Filters(q="cafe fiets"))) == []
    assert titles(services.browse(people["member"], Filters(q='"fiets" (*'))) == [
        "Fiets herstellen"]


def test_search_finds_category_names_and_ranks(people: dict[str, Any]) -> None:
    cooking = make_category("Koken", fr="Cuisine", en="Cooking")
    make_listing(people["member"], "Soep", description="soep soep soep soep", category=cooking)
    make_listing(people["member"], "Brood", description="met een beetje soep erbij")
    assert titles(services.browse(people["member"], Filters(q="cuisine"))) == ["Soep"]
    assert titles(services.browse(people["member"], Filters(q="soep"))) == ["Soep", "Brood"]


def test_search_follows_edits_and_deletes(people: dict[str, Any]) -> None:
    member = people["member"]
    listing = make_listing(member, "Naaiwerk")
    services.update_listing(member, listing, data(title="Kledingherstel"))
    db.session.commit()
    assert titles(services.browse(member, Filters(q="naaiwerk"))) == []
    assert titles(services.browse(member, Filters(q="kledingherstel"))) == ["Kledingherstel"]
    db.session.delete(listing)
    db.session.commit()
    assert titles(services.browse(member, Filters(q="kledingherstel"))) == []


def test_category_rename_updates_search(people: dict[str, Any]) -> None:
    category = make_category("Dieren")
    make_listing(people["member"], "Uitlaten", category=category)
    services.update_category(people["admin"], category,
                             services.CategoryData("Huisdieren", "Animaux", "Pets"))
    db.session.commit()
    assert titles(services.browse(people["member"], Filters(q="pets"))) == ["Uitlaten"]


def test_search_schema_installed(app: Any) -> None:
    """db.create_all() installs the same search objects as the migration."""
    if db.engine.dialect.name == "sqlite":
        names = set(db.session.scalars(text(
            "SELECT name FROM sqlite_master WHERE name LIKE 'listing_fts%'")))
        assert {"listing_fts", "listing_fts_ai", "listing_fts_ad", "listing_fts_au"} <= names
    else:
        assert db.session.scalar(text(
            "SELECT 1 FROM pg_indexes WHERE indexname = 'ix_listing_fts'")) == 1


# --- Responding ----------------------------------------------------------------------------


def test_respond_mails_owner_with_contact(people: dict[str, Any], outbox: Any,
                                         app: Any) -> None:
    listing = make_listing(people["member"], "Hondenuitlaat")
    responder = people["other_org_member"]
    services.respond(responder, listing, "Ik heb een hond.")
    db.session.commit()
    mails = outbox()
    assert len(mails) == 1
    assert people["member"].email in mails[0]
    assert responder.email in mails[0] and "Ik heb een hond." in mails[0]
    raw = next((Path(app.instance_path) / "outbox").glob("*.eml")).read_text()
    assert f"Reply-To: {responder.email}" in raw


def test_respond_to_organisation_mails_intermediaries(people: dict[str, Any],
                                                      outbox: Any) -> None:
    listing = make_listing(people["org"], "Wandelingen")
    services.respond(people["member"], listing, "Graag!")
    db.session.commit()
    mails = outbox()
    assert len(mails) == 1 and people["intermediary"].email in mails[0]


def test_respond_is_rate_limited(people: dict[str, Any], outbox: Any) -> None:
    listing = make_listing(people["member"])
    for n in range(services.RESPONSES_PER_HOUR):
        services.respond(people["admin"], listing, f"Bericht {n}")
    db.session.commit()
    with pytest.raises(DomainError) as info:
        services.respond(people["admin"], listing, "Nog een")
    assert "hour" in str(info.value.message)
    db.session.rollback()
    assert len(outbox()) == services.RESPONSES_PER_HOUR


def test_respond_refused_for_own_or_expired(people: dict[str, Any]) -> None:
    listing = make_listing(people["org"])
    with pytest.raises(DomainError):
        services.respond(people["intermediary"], listing, "Aan mezelf")
    expired = make_listing(people["member"], valid_until=utcnow() - timedelta(days=1))
    with pytest.raises(DomainError):
        services.respond(people["admin"], expired, "Te laat")


# --- Categories ----------------------------------------------------------------------------


def test_categories_two_levels_admin_only(people: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        services.create_category(people["member"], services.CategoryData("Koken", "", ""))
    top = services.create_category(people["admin"],
                                   services.CategoryData("Koken", "Cuisine", "Cooking"))
    sub = services.create_category(people["admin"], services.CategoryData(
        "Soep", "Soupe", "Soup", parent_id=top.id))
    db.session.commit()
    with pytest.raises(DomainError) as info:
        services.create_category(people["admin"], services.CategoryData(
            "Tomatensoep", "", "", parent_id=sub.id))
    assert info.value.field == "parent_id"
    db.session.rollback()
    assert [c.slug for c in services.categories()] == ["koken", "soep"]
    assert sub.full_name("fr") == "Cuisine / Soupe"


def test_listing_model_rejects_two_owners(people: dict[str, Any]) -> None:
    listing = Listing(kind="offer", title="x", owner_member_id=people["member"].id,
                      owner_org_id=people["org"].id, contact_member_id=people["member"].id,
                      valid_until=utcnow())
    db.session.add(listing)
    with pytest.raises(Exception, match=r"(?i)check"):
        db.session.flush()
    db.session.rollback()


def test_edit_expired_listing_keeps_its_date(people: dict[str, Any]) -> None:
    """Editing the text of an expired listing, with its old date still in the form, works;
    renewing is a separate step."""
    past = utcnow() - timedelta(days=3)
    listing = make_listing(people["member"], valid_until=past)
    services.update_listing(people["member"], listing, data(title="Nieuw", valid_until=past))
    db.session.commit()
    assert listing.title == "Nieuw" and listing.is_expired
    with pytest.raises(DomainError):
        services.update_listing(people["member"], listing,
                                data(valid_until=utcnow() - timedelta(days=10)))


def test_a_draft_is_published_not_renewed(people: dict[str, Any]) -> None:
    member = people["member"]
    listing = services.create_listing(member, data(), publish=False)
    db.session.commit()
    with pytest.raises(DomainError, match="published, not renewed"):
        services.renew(member, listing)
    assert listing.state == State.DRAFT
