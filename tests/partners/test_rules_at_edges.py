"""Who sees a partner, its contact persons and what was done together, asked of the
models: members-only partners and collaborations, and a public collaboration of a
members-only partner."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_login import AnonymousUserMixin

from lets_site.partners import services
from lets_site.partners.models import Status
from tests.partners.helpers import make_collaboration, make_partner, make_prospect

VISITORS = (None, AnonymousUserMixin())


def test_a_members_only_partner_is_seen_by_members_not_visitors(people: dict[str, Any],
                                                                coordinator: Any) -> None:
    public = make_partner(coordinator, "Bibliotheek")
    hidden = make_partner(coordinator, "Voedselteam", visibility="members")
    for visitor in VISITORS:
        assert public.can_view(visitor) and not hidden.can_view(visitor)
    assert hidden.can_view(people["member"]) and public.can_view(people["member"])


def test_a_collaboration_is_seen_only_where_its_partner_is(people: dict[str, Any],
                                                           coordinator: Any) -> None:
    public = make_partner(coordinator, "Bibliotheek")
    hidden = make_partner(coordinator, "Voedselteam", visibility="members")
    open_item = make_collaboration(coordinator, public, "Filmavond")
    members_item = make_collaboration(coordinator, public, "Ledenavond", visibility="members")
    under_hidden = make_collaboration(coordinator, hidden, "Markt")  # public, partner is not
    member = people["member"]
    for visitor in VISITORS:
        assert open_item.can_view(visitor)
        assert not members_item.can_view(visitor)
        assert not under_hidden.can_view(visitor)
    for item in (open_item, members_item, under_hidden):
        assert item.can_view(member)


def test_contact_persons_are_never_shown_to_visitors(people: dict[str, Any],
                                                     coordinator: Any) -> None:
    partner = make_partner(coordinator, "Stad Ieper")
    services.add_contact(coordinator, partner, services.ContactData(name="Pieter"))
    services.add_contact(coordinator, partner, services.ContactData(
        name="Hanne", visibility="coordinators"))
    for visitor in VISITORS:
        assert partner.visible_contacts(visitor, True) == []
    assert [c.name for c in partner.visible_contacts(people["member"], False)] == ["Pieter"]


def test_a_prospect_is_overdue_from_the_day_after_its_next_step(coordinator: Any) -> None:
    today = date(2027, 5, 10)
    prospect = make_prospect(coordinator)
    prospect.next_step_on = None
    assert not prospect.is_overdue(today)
    prospect.next_step_on = today - timedelta(days=1)
    for status in Status:
        prospect.status = status
        assert prospect.is_overdue(today) is (status in services.OPEN_STATUSES)


def test_a_prospect_may_move_to_the_next_stages_in_board_order(coordinator: Any) -> None:
    prospect = make_prospect(coordinator)
    assert prospect.status == Status.IDEA
    assert prospect.moves() == ["to_contact", "contacted", "not_now"]
    prospect.status = Status.MEETING
    assert prospect.moves() == ["contacted", "partner", "not_now"]
    prospect.status = Status.PARTNER
    assert prospect.moves() == []
