"""Who sees a listing and who may answer it, at the edges a member meets: after its owner
withdrew it, on their own listing, on their organisation's, when it expired. Each test
here kills mutants that the rest of the suite let live (scripts/mutation; docs/testing.md).
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from lets_site.audit.models import AuditEntry
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.members.models import Status
from lets_site.offers import services
from lets_site.offers.models import Listing, ListingVisibility, State
from tests.offers.conftest import make_listing
from tests.offers.test_views import form_data, png_bytes, post_multipart

ANSWER_FORM = 'name="message"'
VIEWERS = ("anonymous", "member", "intermediary", "admin", "other_org_member")


def _viewer(people: dict[str, Any], role: str) -> Any:
    return None if role == "anonymous" else people[role]


# --- Seeing a listing after its owner withdrew it --------------------------------------------


def test_withdrawn_public_photo_is_no_longer_served_to_visitors_or_members(
        client: Any, login_as: Any, people: dict[str, Any]) -> None:
    login_as("member")
    data = form_data(photo=(io.BytesIO(png_bytes((200, 150))), "foto.png"),
                     visibility="public")
    assert post_multipart(client, "/offers/new", data).status_code == 303
    listing = db.session.scalar(select(Listing))
    assert listing is not None
    page = client.get(f"/offers/{listing.id}").get_data(as_text=True)
    src = re.search(r'<img src="([^"]+)"', page)
    assert src, page
    visitor = client.application.test_client()
    assert visitor.get(src.group(1)).status_code == 200
    assert client.post_form(f"/offers/{listing.id}/withdraw").status_code == 303
    assert visitor.get(src.group(1)).status_code == 404
    assert visitor.get(f"/offers/{listing.id}").status_code == 404
    # The owner still sees their withdrawn listing and its photo.
    assert client.get(src.group(1)).status_code == 200
    other = client.application.test_client()
    other.post_form("/login", {"identifier": people["other_org_member"].account_code,
                               "password": "correct horse battery"})
    assert other.get(src.group(1)).status_code == 404
    assert other.get(f"/offers/{listing.id}").status_code == 404


@pytest.mark.parametrize("state", [State.WITHDRAWN, State.DRAFT])
@pytest.mark.parametrize("visibility", [ListingVisibility.PUBLIC, ListingVisibility.MEMBERS])
def test_withdrawn_or_draft_listing_is_seen_by_its_editors_only(
        people: dict[str, Any], state: str, visibility: str) -> None:
    mine = make_listing(people["member"], state=state, visibility=visibility)
    orgs = make_listing(people["org"], state=state, visibility=visibility)
    seen = {role: (mine.can_view(_viewer(people, role)), orgs.can_view(_viewer(people, role)))
            for role in VIEWERS}
    assert seen == {"anonymous": (False, False), "member": (True, False),
                    "intermediary": (False, True), "admin": (True, True),
                    "other_org_member": (False, False)}


@pytest.mark.parametrize(("visibility", "anonymous"), [(ListingVisibility.PUBLIC, True),
                                                       (ListingVisibility.MEMBERS, False)])
@pytest.mark.parametrize("state", [State.PUBLISHED, State.EXPIRED])
def test_published_or_expired_listing_is_seen_by_its_audience(
        people: dict[str, Any], visibility: str, anonymous: bool, state: str) -> None:
    listing = make_listing(people["member"], state=state, visibility=visibility)
    assert listing.can_view(None) is anonymous
    assert all(listing.can_view(people[r]) is True for r in VIEWERS if r != "anonymous")


def test_photo_audience_follows_the_listings_that_use_the_photo(people: dict[str, Any]) -> None:
    listing = make_listing(people["member"], photo_key="k1",
                           visibility=ListingVisibility.PUBLIC)
    assert services.photo_audience("k1", None) == "public"
    listing.visibility = ListingVisibility.MEMBERS
    db.session.commit()
    assert services.photo_audience("k1", None) is None
    assert services.photo_audience("k1", people["other_org_member"]) == "members"
    listing.state = State.WITHDRAWN
    db.session.commit()
    assert services.photo_audience("k1", people["other_org_member"]) is None
    assert services.photo_audience("k1", people["member"]) == "members"


@pytest.mark.usefixtures("request_ctx")
def test_get_listing_per_state_and_viewer(people: dict[str, Any]) -> None:
    member, other = people["member"], people["other_org_member"]
    withdrawn = make_listing(member, state=State.WITHDRAWN,
                             visibility=ListingVisibility.PUBLIC)
    assert services.get_listing(withdrawn.id, member).id == withdrawn.id
    assert services.get_listing(withdrawn.id, people["admin"]).id == withdrawn.id
    for viewer in (None, other):
        with pytest.raises(NotFound):
            services.get_listing(withdrawn.id, viewer)
    members_only = make_listing(member)
    with pytest.raises(PermissionDenied):
        services.get_listing(members_only.id, None)
    assert services.get_listing(members_only.id, other).id == members_only.id
    for missing in (0, 10**9, 2**31):
        with pytest.raises(NotFound):
            services.get_listing(missing, member)


# --- Answering -------------------------------------------------------------------------------


def test_owner_never_sees_the_answer_form_on_their_own_listing(
        client: Any, login_as: Any, people: dict[str, Any]) -> None:
    listing = make_listing(people["member"])
    login_as("member")
    page = client.get(f"/offers/{listing.id}").get_data(as_text=True)
    assert ANSWER_FORM not in page
    client.post_form("/logout")
    login_as("other_org_member")
    page = client.get(f"/offers/{listing.id}").get_data(as_text=True)
    assert ANSWER_FORM in page


def test_intermediary_never_sees_the_answer_form_on_their_organisations_listing(
        client: Any, login_as: Any, people: dict[str, Any]) -> None:
    listing = make_listing(people["org"])
    login_as("intermediary")
    page = client.get(f"/offers/{listing.id}").get_data(as_text=True)
    assert ANSWER_FORM not in page


@pytest.mark.parametrize(("state", "days", "open_"),
                         [(State.PUBLISHED, 1, True), (State.PUBLISHED, -1, False),
                          (State.EXPIRED, 30, False), (State.WITHDRAWN, 30, False),
                          (State.DRAFT, 30, False)])
def test_who_may_answer_a_listing(people: dict[str, Any], state: str, days: int,
                                  open_: bool) -> None:
    mine = make_listing(people["member"], state=state,
                        valid_until=utcnow() + timedelta(days=days),
                        visibility=ListingVisibility.PUBLIC)
    orgs = make_listing(people["org"], state=state, valid_until=utcnow() + timedelta(days=days))
    answers = {role: (mine.can_respond(_viewer(people, role)),
                      orgs.can_respond(_viewer(people, role))) for role in VIEWERS}
    assert answers == {"anonymous": (False, False), "member": (False, open_),
                       "intermediary": (open_, False), "admin": (open_, open_),
                       "other_org_member": (open_, open_)}


@pytest.mark.usefixtures("request_ctx")
def test_respond_refuses_the_owner_and_closed_listings(people: dict[str, Any],
                                                       outbox: Any) -> None:
    listing = make_listing(people["member"])
    with pytest.raises(DomainError, match="your own listing"):
        services.respond(people["member"], listing, "Aan mezelf")
    withdrawn = make_listing(people["member"], state=State.WITHDRAWN)
    with pytest.raises(NotFound):
        services.respond(people["other_org_member"], withdrawn, "Nog open?")
    expired = make_listing(people["member"], state=State.EXPIRED)
    with pytest.raises(DomainError, match="no longer open"):
        services.respond(people["other_org_member"], expired, "Te laat")
    inactive = people["other_org_member"]
    inactive.status = Status.INACTIVE
    db.session.commit()
    with pytest.raises(PermissionDenied):
        services.respond(inactive, listing, "Hallo")
    db.session.commit()
    assert outbox() == []


@pytest.mark.usefixtures("request_ctx")
@pytest.mark.parametrize(("length", "ok"), [(0, False), (4000, True), (4001, False)])
def test_respond_message_must_be_there_and_short(people: dict[str, Any], length: int,
                                                 ok: bool) -> None:
    listing = make_listing(people["member"])
    message = "m" * length
    if ok:
        services.respond(people["other_org_member"], listing, message)
    else:
        with pytest.raises(DomainError) as info:
            services.respond(people["other_org_member"], listing, message)
        assert info.value.field == "message"


@pytest.mark.usefixtures("request_ctx")
def test_respond_allows_ten_answers_an_hour(people: dict[str, Any], outbox: Any) -> None:
    responder = people["other_org_member"]
    listing = make_listing(people["member"])
    for n in range(services.RESPONSES_PER_HOUR):
        services.respond(responder, listing, f"m{n}")
    db.session.commit()
    assert len(outbox()) == services.RESPONSES_PER_HOUR
    with pytest.raises(DomainError) as info:
        services.respond(responder, listing, "one more")
    assert info.value.field == "message"


# --- The lifecycle ---------------------------------------------------------------------------


@pytest.mark.usefixtures("request_ctx")
def test_lifecycle_transitions_from_each_state(people: dict[str, Any]) -> None:
    member = people["member"]
    draft = make_listing(member, state=State.DRAFT)
    services.publish(member, draft)
    assert draft.state == State.PUBLISHED
    with pytest.raises(DomainError):
        services.publish(member, draft)
    services.withdraw(member, draft)
    assert draft.state == State.WITHDRAWN
    with pytest.raises(DomainError):
        services.withdraw(member, draft)
    services.publish(member, draft)
    assert draft.state == State.PUBLISHED
    expired = make_listing(member, state=State.EXPIRED)
    services.withdraw(member, expired)
    assert expired.state == State.WITHDRAWN
    old = make_listing(member, state=State.WITHDRAWN, valid_until=utcnow() - timedelta(days=1))
    with pytest.raises(DomainError, match="expired"):
        services.publish(member, old)
    services.renew(member, old)
    assert old.state == State.PUBLISHED and old.valid_until > utcnow() + timedelta(days=364)


@pytest.mark.usefixtures("request_ctx")
@pytest.mark.parametrize("action", ["publish", "withdraw", "renew"])
def test_lifecycle_refuses_others_and_audits_admins(people: dict[str, Any], action: str) -> None:
    start = State.DRAFT if action == "publish" else State.PUBLISHED
    listing = make_listing(people["member"], state=start)
    with pytest.raises(PermissionDenied):
        getattr(services, action)(people["other_org_member"], listing)
    assert listing.state == start
    before = listing.updated_at
    getattr(services, action)(people["admin"], listing)
    db.session.commit()
    assert listing.updated_at != before
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None and entry.actor_id == people["admin"].id


@pytest.mark.usefixtures("request_ctx")
def test_expire_changes_only_published_listings(people: dict[str, Any]) -> None:
    published = make_listing(people["member"])
    withdrawn = make_listing(people["member"], state=State.WITHDRAWN)
    services.expire(published)
    services.expire(withdrawn)
    assert (published.state, withdrawn.state) == (State.EXPIRED, State.WITHDRAWN)


@pytest.mark.usefixtures("request_ctx")
def test_expire_overdue_stores_exactly_the_overdue_ones(people: dict[str, Any]) -> None:
    now = utcnow()
    overdue = make_listing(people["member"], valid_until=now - timedelta(seconds=1))
    on_time = make_listing(people["member"], valid_until=now + timedelta(seconds=60))
    withdrawn = make_listing(people["member"], state=State.WITHDRAWN,
                             valid_until=now - timedelta(days=1))
    assert services.expire_overdue(now) == 1
    db.session.expire_all()
    assert db.session.get(Listing, overdue.id).state == State.EXPIRED  # type: ignore[union-attr]
    assert db.session.get(Listing, on_time.id).state == State.PUBLISHED  # type: ignore[union-attr]
    assert db.session.get(Listing, withdrawn.id).state == State.WITHDRAWN  # type: ignore[union-attr]
    assert services.expire_overdue(now) == 0


# --- The listing's own questions -------------------------------------------------------------


def test_a_listing_expires_the_moment_its_date_passes(people: dict[str, Any]) -> None:
    now = utcnow()
    past = make_listing(people["member"], valid_until=now - timedelta(seconds=1))
    future = make_listing(people["member"], valid_until=now + timedelta(minutes=5))
    stored = make_listing(people["member"], state=State.EXPIRED,
                          valid_until=now + timedelta(days=5))
    old_draft = make_listing(people["member"], state=State.DRAFT,
                             valid_until=now - timedelta(days=5))
    assert (past.is_expired, past.is_live, past.shown_state) == (True, False, State.EXPIRED)
    assert (future.is_expired, future.is_live, future.shown_state) == (
        False, True, State.PUBLISHED)
    assert (stored.is_expired, stored.is_live) == (True, False)
    assert (old_draft.is_expired, old_draft.is_live, old_draft.shown_state) == (
        False, False, State.DRAFT)
    live = set(db.session.scalars(select(Listing.id).where(Listing.live_clause(now))))
    expired = set(db.session.scalars(select(Listing.id).where(Listing.expired_clause(now))))
    assert live == {future.id}
    assert expired == {past.id, stored.id}
    exactly_now = make_listing(people["member"], valid_until=now)
    assert exactly_now.id in set(db.session.scalars(
        select(Listing.id).where(Listing.live_clause(now))))
    assert exactly_now.id not in set(db.session.scalars(
        select(Listing.id).where(Listing.expired_clause(now))))


def test_a_listing_is_edited_by_its_owner_their_intermediaries_and_admins(
        people: dict[str, Any]) -> None:
    mine = make_listing(people["member"])
    orgs = make_listing(people["org"])
    edits = {role: (mine.can_edit(_viewer(people, role)), orgs.can_edit(_viewer(people, role)))
             for role in VIEWERS}
    assert edits == {"anonymous": (False, False), "member": (True, False),
                     "intermediary": (False, True), "admin": (True, True),
                     "other_org_member": (False, False)}


def test_owner_label_and_account_follow_the_owner(people: dict[str, Any]) -> None:
    member = people["member"]
    mine = make_listing(member)
    orgs = make_listing(people["org"])
    assert mine.owner_label(people["other_org_member"]) == member.display_name
    assert mine.owner_label(None) == ""  # a profile that is not public
    member.profile_public = True
    db.session.commit()
    assert mine.owner_label(None) == member.display_name
    assert orgs.owner_label(None) == people["org"].name
    assert mine.owner_account_code == member.account_code
    assert orgs.owner_account_code == people["org"].account_code
    assert mine.urn == f"urn:uuid:{mine.uuid}"


def test_listing_postcode_follows_the_contacts_address_visibility(
        people: dict[str, Any]) -> None:
    listing = make_listing(people["member"])
    assert listing.visible_postcode(people["other_org_member"]) == "8900"
    assert listing.visible_postcode(None) == ""


def test_category_names_per_language_with_their_parent(app: Any) -> None:
    from tests.offers.conftest import make_category

    top = make_category("Huis", fr="Maison", en="House")
    sub = make_category("Tuin", parent=top, fr="Jardin", en="Tuin")
    assert sub.name("fr") == "Jardin" and sub.name("xx") == "Tuin"
    assert sub.full_name("en") == "House / Tuin" and top.full_name("fr") == "Maison"
    assert sub.all_names() == "Tuin Jardin Huis Maison House"
    assert top.all_names() == "Huis Maison House"


# --- Dates and lists -------------------------------------------------------------------------


@pytest.mark.usefixtures("request_ctx")
def test_a_listing_is_valid_from_now_for_at_most_three_years(people: dict[str, Any]) -> None:
    from lets_site.offers.services import ListingData

    member = people["member"]

    def create(valid_until: Any) -> Listing:
        return services.create_listing(member, ListingData(
            kind="offer", title="Soep", description="Verse soep.", price=None,
            price_basis="agree", valid_until=valid_until))

    before = utcnow()
    default = create(None)
    after = utcnow()
    assert before + timedelta(days=365) <= default.valid_until <= after + timedelta(days=365)
    now = utcnow()
    latest = now + services.MAX_VALIDITY - timedelta(minutes=1)
    assert create(latest).valid_until == latest
    for wrong in (now - timedelta(minutes=1), now + services.MAX_VALIDITY + timedelta(minutes=1)):
        with pytest.raises(DomainError) as info:
            create(wrong)
        assert info.value.field == "valid_until"


def test_lists_show_members_only_listings_to_members_who_may_log_in(
        people: dict[str, Any]) -> None:
    public = make_listing(people["member"], "Openbaar", visibility=ListingVisibility.PUBLIC)
    members = make_listing(people["member"], "Voor leden")
    other = people["other_org_member"]

    def seen(viewer: Any) -> set[int]:
        return {item.id for item in services.browse(viewer, services.Filters()).items}

    assert seen(None) == {public.id}
    assert seen(other) == {public.id, members.id}
    assert {item.id for item in services.newest(None, 10)} == {public.id}
    other.status = Status.INACTIVE
    assert seen(other) == {public.id}


def test_listings_and_categories_read_well_in_logs(people: dict[str, Any]) -> None:
    from lets_site.offers.models import normalise_text
    from tests.offers.conftest import make_category

    listing = make_listing(people["member"], "Soep")
    assert repr(listing) == f"<Listing {listing.id} offer 'Soep'>"
    assert repr(make_category("Eten")) == "<Category eten>"
    assert normalise_text("Crème BRÛLÉE") == "creme brulee"


def test_a_listing_being_made_has_no_owner_label_account_or_postcode(app: Any) -> None:
    draft = Listing(kind="offer", title="Nog niet bewaard")
    assert draft.owner_label(None) == ""
    assert draft.owner_account_code is None
    assert draft.visible_postcode(None) == ""


def test_category_names_default_to_dutch(app: Any) -> None:
    from tests.offers.conftest import make_category

    top = make_category("Huis", fr="Maison", en="House")
    sub = make_category("Keuken", parent=top, fr="Cuisine", en="Kitchen")
    assert (top.name(), sub.full_name()) == ("Huis", "Huis / Keuken")


# --- What the lifecycle announces and records ------------------------------------------------


@pytest.fixture
def announced(app: Any) -> Any:
    """What the listing signals sent: (signal name, listing id, actor id)."""
    from lets_site import signals

    sent: list[tuple[str, int | None, int | None]] = []

    def published(listing: Any, actor: Any = None) -> None:
        sent.append(("published", getattr(listing, "id", None), getattr(actor, "id", None)))

    def expiring(listing: Any) -> None:
        sent.append(("expiring", getattr(listing, "id", None), None))

    signals.listing_published.connect(published)
    signals.listing_expiring.connect(expiring)
    yield sent
    signals.listing_published.disconnect(published)
    signals.listing_expiring.disconnect(expiring)


@pytest.mark.usefixtures("request_ctx")
def test_publishing_is_announced_and_withdrawing_is_not(people: dict[str, Any],
                                                        announced: list[Any]) -> None:
    member = people["member"]
    listing = make_listing(member, state=State.DRAFT)
    services.publish(member, listing)
    services.withdraw(member, listing)
    services.renew(member, listing)
    assert announced == [("published", listing.id, member.id),
                         ("published", listing.id, member.id)]


@pytest.mark.usefixtures("request_ctx")
def test_expiring_is_announced_per_listing(people: dict[str, Any],
                                           announced: list[Any]) -> None:
    now = utcnow()
    overdue = make_listing(people["member"], valid_until=now - timedelta(seconds=1))
    one = make_listing(people["member"])
    services.expire(one)
    services.expire(one)  # already expired: nothing more
    assert one.updated_at is not None and one.updated_at > now
    assert services.expire_overdue(now) == 1
    assert announced == [("expiring", one.id, None), ("expiring", overdue.id, None)]


@pytest.mark.usefixtures("request_ctx")
def test_expire_overdue_stamps_and_counts_the_change(people: dict[str, Any]) -> None:
    now = utcnow()
    overdue = make_listing(people["member"], valid_until=now - timedelta(seconds=1))
    due_now = make_listing(people["member"], valid_until=now)
    revision = overdue.revision
    assert services.expire_overdue(now) == 1
    db.session.expire_all()
    row = db.session.get(Listing, overdue.id)
    assert row is not None
    assert (row.state, row.updated_at, row.revision) == (State.EXPIRED, now, revision + 1)
    assert db.session.get(Listing, due_now.id).state == State.PUBLISHED  # type: ignore[union-attr]


@pytest.mark.usefixtures("request_ctx")
@pytest.mark.parametrize(("action", "start", "done"),
                         [("publish", State.DRAFT, "published"),
                          ("withdraw", State.PUBLISHED, "withdrawn")])
def test_an_admins_change_names_the_action_in_the_audit_log(
        people: dict[str, Any], action: str, start: str, done: str) -> None:
    listing = make_listing(people["member"], state=start, title="Soep")
    getattr(services, action)(people["admin"], listing)
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None
    assert (entry.action, entry.target_type, entry.target_id, entry.target_label) == (
        f"listing.{done}", "listing", str(listing.id), "Soep")
    services.withdraw(people["member"], make_listing(people["member"]))
    assert len(db.session.scalars(select(AuditEntry)).all()) == 1  # the owner's is not


@pytest.mark.usefixtures("request_ctx")
def test_a_refused_transition_says_why(people: dict[str, Any]) -> None:
    from flask_babel import force_locale

    listing = make_listing(people["member"])
    with force_locale("en"), pytest.raises(DomainError) as info:
        services.publish(people["member"], listing)
    with force_locale("en"):
        assert str(info.value) == "Only a draft or a withdrawn listing can be published."


@pytest.mark.usefixtures("request_ctx")
def test_get_for_edit_is_for_editors_only(people: dict[str, Any]) -> None:
    listing = make_listing(people["member"], state=State.WITHDRAWN)
    assert services.get_for_edit(listing.id, people["member"]).id == listing.id
    assert services.get_for_edit(listing.id, people["admin"]).id == listing.id
    with pytest.raises(PermissionDenied):
        services.get_for_edit(listing.id, people["other_org_member"])
    with pytest.raises(NotFound):
        services.get_for_edit(10**9, people["member"])


@pytest.mark.usefixtures("request_ctx")
def test_only_the_last_hour_of_this_members_answers_counts(people: dict[str, Any],
                                                           outbox: Any) -> None:
    from lets_site.offers.models import ListingResponse

    responder, other = people["other_org_member"], people["intermediary"]
    listing = make_listing(people["member"])
    earlier = utcnow() - timedelta(minutes=61)
    for _ in range(services.RESPONSES_PER_HOUR):
        db.session.add(ListingResponse(listing_id=listing.id, member_id=responder.id,
                                       created_at=earlier))
        db.session.add(ListingResponse(listing_id=listing.id, member_id=other.id))
    db.session.commit()
    services.respond(responder, listing, "Nog een vraag")
    db.session.commit()
    mail = outbox()[-1]
    assert f"/offers/{listing.id}" in mail and "Nog een vraag" in mail
    with pytest.raises(DomainError):
        services.respond(other, listing, "Te veel")


def test_a_member_who_left_sees_members_only_listings_no_more(people: dict[str, Any]) -> None:
    listing = make_listing(people["member"])
    former = people["other_org_member"]
    assert listing.can_view(former)
    former.status = Status.INACTIVE
    assert not listing.can_view(former)
