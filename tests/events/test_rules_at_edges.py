"""Event registration at its edges, as members, guests and organisers meet it: the moment
an event starts or registration closes, the last place and the first on the waiting list,
a guest's link at the second it expires, the sign-up limit's window, two events side by
side, and what organisers see and remove."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from flask_login import AnonymousUserMixin

from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.events import services
from lets_site.events.models import Event, RegState, Status
from lets_site.extensions import db
from tests import factories
from tests.events.conftest import make_event, make_organiser


class Clock:
    """The services' clock, stopped at ``now`` (whole seconds, as stored)."""

    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    stopped = Clock()
    monkeypatch.setattr(services, "utcnow", stopped)
    return stopped


def _guest_event(organiser: Any, capacity: int = 2) -> Event:
    return make_event(organiser, capacity=capacity, open_to_non_members=True)


# --- The moment an event starts, the moment registration closes -----------------------------


def test_registration_is_refused_from_the_second_the_event_starts(organiser: Any,
                                                                  clock: Clock) -> None:
    event = make_event(organiser, capacity=5)
    member = factories.make_member()
    event.starts_at = clock.now
    with pytest.raises(DomainError, match="started or is over"):
        services.register(member, event)
    event.starts_at = clock.now + timedelta(seconds=1)
    assert not services.register(member, event).waiting


def test_registration_closes_at_the_second_it_says(organiser: Any, clock: Clock) -> None:
    event = make_event(organiser, capacity=5)
    member = factories.make_member()
    event.registration_closes_at = clock.now
    with pytest.raises(DomainError, match="closed"):
        services.register(member, event)
    event.registration_closes_at = clock.now + timedelta(seconds=1)
    assert not services.register(member, event).waiting


def test_unregistering_is_refused_from_the_second_the_event_starts(organiser: Any,
                                                                   clock: Clock) -> None:
    event = make_event(organiser, capacity=5)
    member = factories.make_member()
    services.register(member, event)
    event.starts_at = clock.now
    with pytest.raises(DomainError, match="started or is over"):
        services.unregister(member, event)
    assert services.registration_of(member, event).state == RegState.REGISTERED
    event.starts_at = clock.now + timedelta(seconds=1)
    services.unregister(member, event)
    assert services.registration_of(member, event).state == RegState.CANCELLED


def test_a_guest_cannot_cancel_from_the_second_the_event_starts(organiser: Any,
                                                                clock: Clock) -> None:
    event = _guest_event(organiser)
    signup = services.register_guest(event, "Nina", "nina@example.org", "h1")
    services.confirm_guest(signup.token)
    event.starts_at = clock.now
    with pytest.raises(DomainError, match="started or is over"):
        services.cancel_guest(signup.token)
    assert signup.registration.state == RegState.REGISTERED
    event.starts_at = clock.now + timedelta(seconds=1)
    assert services.cancel_guest(signup.token).state == RegState.CANCELLED


# --- Unregistering without a place ----------------------------------------------------------


def test_unregistering_without_ever_registering_or_twice_is_refused(organiser: Any) -> None:
    event = make_event(organiser, capacity=2)
    stranger, member = factories.make_member(), factories.make_member()
    with pytest.raises(DomainError, match="not registered"):
        services.unregister(stranger, event)
    services.register(member, event)
    services.unregister(member, event)
    with pytest.raises(DomainError, match="not registered"):
        services.unregister(member, event)


# --- What register and confirm hand back ----------------------------------------------------


def test_register_and_confirm_hand_back_the_registration_they_made(organiser: Any) -> None:
    event = _guest_event(organiser, capacity=1)
    member = factories.make_member()
    made = services.register(member, event)
    assert made.registration is services.registration_of(member, event)
    assert (made.registration.state, made.waiting) == (RegState.REGISTERED, False)
    signup = services.register_guest(event, "Nina", "nina@example.org", "h1")
    confirmed = services.confirm_guest(signup.token)
    assert confirmed.registration is signup.registration
    assert (confirmed.registration.state, confirmed.waiting) == (RegState.WAITING, True)


# --- Two events side by side ----------------------------------------------------------------


def test_a_place_freed_on_one_event_goes_to_its_own_waiting_list(organiser: Any) -> None:
    other = make_event(organiser, capacity=1)
    event = make_event(organiser, capacity=1)
    o1, o2 = factories.make_member(), factories.make_member()
    services.register(o1, other)
    services.register(o2, other)  # waiting on the other event, position 2, first row
    leaving, waiting = factories.make_member(), factories.make_member()
    services.register(leaving, event)
    services.register(waiting, event)  # waiting here, position 2 too
    promoted = services.unregister(leaving, event)
    assert [r.member_id for r in promoted] == [waiting.id]
    assert services.registration_of(waiting, event).state == RegState.REGISTERED
    assert services.registration_of(o2, other).state == RegState.WAITING


def test_waiting_positions_count_this_events_list_only(organiser: Any) -> None:
    other = make_event(organiser, capacity=1)
    event = make_event(organiser, capacity=1)
    services.register(factories.make_member(), other)
    for _ in range(2):
        services.register(factories.make_member(), other)  # two waiting on the other event
    services.register(factories.make_member(), event)
    first, second = factories.make_member(), factories.make_member()
    services.register(first, event)
    services.register(second, event)
    assert services.waiting_position(services.registration_of(first, event)) == 1
    assert services.waiting_position(services.registration_of(second, event)) == 2


def test_a_guest_address_registered_for_one_event_may_register_for_another(
        organiser: Any) -> None:
    first, second = _guest_event(organiser), _guest_event(organiser)
    services.confirm_guest(services.register_guest(first, "Nina", "nina@example.org",
                                                   "h1").token)
    signup = services.register_guest(second, "Nina", "nina@example.org", "h1")
    assert signup.registration.event_id == second.id
    assert services.confirm_guest(signup.token).registration.state == RegState.REGISTERED
    assert services.counts(first) == (1, 0) and services.counts(second) == (1, 0)


# --- A guest's sign-up: the name, the link's life, the limit's window, the mail -------------


def test_a_guest_without_a_name_is_refused(organiser: Any) -> None:
    event = _guest_event(organiser)
    for name in (None, "", "   "):
        with pytest.raises(DomainError) as error:
            services.register_guest(event, name, "nina@example.org", "h1")  # type: ignore[arg-type]
        assert error.value.field == "name"


def test_a_guest_name_is_kept_up_to_120_characters(organiser: Any) -> None:
    event = _guest_event(organiser, capacity=5)
    long = services.register_guest(event, "N" * 130, "long@example.org", "h1").registration
    short = services.register_guest(event, "  Nina  ", "nina@example.org", "h1").registration
    db.session.flush()
    db.session.expire_all()
    assert long.name == "N" * 120 and long.who == "N" * 120
    assert short.name == "Nina"


def test_a_guest_link_works_until_the_second_it_expires(organiser: Any, clock: Clock) -> None:
    event = _guest_event(organiser)
    signup = services.register_guest(event, "Nina", "nina@example.org", "h1")
    reg = signup.registration
    assert reg.token_expires_at == clock.now + timedelta(hours=services.CONFIRM_HOURS)
    assert reg.created_at == clock.now and reg.updated_at == clock.now
    clock.now = reg.token_expires_at
    assert not services.confirm_guest(signup.token).waiting  # the last second
    late = services.register_guest(event, "Lou", "lou@example.org", "h2")
    clock.now = late.registration.token_expires_at + timedelta(seconds=1)
    with pytest.raises(DomainError, match="expired"):
        services.confirm_guest(late.token)


def test_guest_sign_ups_count_for_an_hour_to_the_second(organiser: Any, clock: Clock) -> None:
    event = _guest_event(organiser, capacity=50)
    start = clock.now
    for n in range(services.GUEST_LIMIT_PER_ADDRESS):
        services.register_guest(event, "N", f"n{n}@example.org", "same")
    # Exactly an hour later the first sign-ups still count ...
    clock.now = start + services.GUEST_LIMIT_WINDOW
    with pytest.raises(DomainError, match="Too many"):
        services.register_guest(event, "N", "late@example.org", "same")
    # ... one second more and they no longer do.
    clock.now = start + services.GUEST_LIMIT_WINDOW + timedelta(seconds=1)
    services.register_guest(event, "N", "later@example.org", "same")


def test_the_guests_confirmation_mail_names_them_the_event_and_its_time(
        organiser: Any, outbox: Any) -> None:
    event = _guest_event(organiser)
    services.register_guest(event, "Nina Gast", "nina@example.org", "h1")
    db.session.commit()
    body = outbox()[-1].split("\n\n", 1)[1]  # the subject names the event too
    assert "Nina Gast" in body
    assert event.title in body
    assert services.event_when(event) in body


# --- What organisers see and remove ---------------------------------------------------------


def test_organisers_see_registered_then_waiting_in_order_of_this_event_only(
        organiser: Any) -> None:
    event = make_event(organiser, capacity=2, open_to_non_members=True)
    other = make_event(organiser, capacity=5)
    services.register(factories.make_member(), other)
    late_first, a, b, c, d = (factories.make_member() for _ in range(5))
    for member in (late_first, a, b, c, d):
        services.register(member, event)  # late_first, a registered; b, c, d waiting
    services.unregister(late_first, event)  # a and b registered; c, d waiting
    services.register(late_first, event)  # back, at the end of the waiting list
    gone = factories.make_member()
    services.register(gone, event)
    services.unregister(gone, event)  # cancelled: not listed
    services.register_guest(event, "Pending", "pending@example.org", "h1")  # not confirmed
    regs = services.registrants(organiser, event)
    assert [(r.member_id, r.state) for r in regs] == [
        (a.id, RegState.REGISTERED), (b.id, RegState.REGISTERED),
        (c.id, RegState.WAITING), (d.id, RegState.WAITING),
        (late_first.id, RegState.WAITING)]
    host_view = services.registrants(factories.make_admin(), event)
    assert [r.id for r in host_view] == [r.id for r in regs]
    for outsider in (factories.make_member(), None):
        with pytest.raises(PermissionDenied):
            services.registrants(outsider, event)  # type: ignore[arg-type]


def test_an_organiser_removes_a_registration_and_the_first_waiting_moves_up(
        organiser: Any) -> None:
    event = make_event(organiser, capacity=1)
    gone, first, second = (factories.make_member() for _ in range(3))
    for member in (gone, first, second):
        services.register(member, event)
    reg = services.registration_of(gone, event)
    assert services.unregister_as_organiser(organiser, event, reg.id) is reg
    assert reg.state == RegState.CANCELLED
    assert services.registration_of(first, event).state == RegState.REGISTERED
    assert services.registration_of(second, event).state == RegState.WAITING
    # Removed already, unknown, or of another event: no such registration.
    other = make_event(organiser, capacity=1)
    services.register(gone, other)
    for registration_id in (reg.id, 999999, services.registration_of(gone, other).id):
        with pytest.raises(NotFound):
            services.unregister_as_organiser(organiser, event, registration_id)
    assert services.registration_of(gone, other).state == RegState.REGISTERED


def test_only_organisers_remove_registrations(organiser: Any) -> None:
    event = make_event(organiser, capacity=1)
    member, other = factories.make_member(), factories.make_member()
    services.register(member, event)
    reg = services.registration_of(member, event)
    for outsider in (other, member, None):
        with pytest.raises(PermissionDenied):
            services.unregister_as_organiser(outsider, event, reg.id)  # type: ignore[arg-type]
    assert reg.state == RegState.REGISTERED
    services.unregister_as_organiser(factories.make_admin(), event, reg.id)
    assert reg.state == RegState.CANCELLED


# --- The event's own questions ----------------------------------------------------------------


def test_organisers_and_admins_organise_members_and_visitors_do_not(organiser: Any) -> None:
    from lets_site.events.models import may_organise

    assert may_organise(organiser) and may_organise(factories.make_admin())
    assert not may_organise(factories.make_member())
    assert not may_organise(None) and not may_organise(AnonymousUserMixin())


def test_hosts_are_the_organiser_and_co_organisers_only(organiser: Any) -> None:
    host = factories.make_member()
    event = make_event(organiser, host_codes=(host.account_code,))
    assert event.is_host(organiser) and event.is_host(host)
    assert not event.is_host(factories.make_member())
    assert not event.is_host(factories.make_admin())  # edits, but is no host
    assert not event.is_host(None) and not event.is_host(AnonymousUserMixin())
    assert not event.can_edit(AnonymousUserMixin())
    alone = make_event(make_organiser())
    assert not alone.is_host(organiser)


def test_members_only_events_are_seen_by_members_public_ones_by_all(organiser: Any) -> None:
    public = make_event(organiser)
    members = make_event(organiser, visibility="members")
    for viewer in (None, AnonymousUserMixin(), factories.make_member()):
        assert public.can_view(viewer)
    assert members.can_view(factories.make_member())
    assert not members.can_view(None) and not members.can_view(AnonymousUserMixin())


def test_an_event_is_past_after_its_end_not_at_it(organiser: Any) -> None:
    event = make_event(organiser)
    assert not event.is_past(event.ends_at)
    assert event.is_past(event.ends_at + timedelta(seconds=1))
    assert not event.is_past()  # now: it is ten days ahead


def test_registration_is_open_until_the_start_or_the_closing_second(organiser: Any) -> None:
    event = make_event(organiser, capacity=5)
    start = event.starts_at
    assert event.registration_open(start - timedelta(seconds=1))
    assert not event.registration_open(start)
    assert event.registration_open()  # now
    event.registration_closes_at = start - timedelta(hours=1)
    assert event.registration_open(start - timedelta(hours=1, seconds=1))
    assert not event.registration_open(start - timedelta(hours=1))
    free = make_event(organiser)  # no registration at all
    assert not free.registration_open(start - timedelta(days=1))
    for status in (Status.POSTPONED, Status.CANCELLED):
        event.status = status
        assert not event.registration_open(start - timedelta(days=1))


def test_guests_register_for_public_open_events_while_registration_is_open(
        organiser: Any) -> None:
    open_event = _guest_event(organiser)
    assert open_event.non_members_may_register()
    members_only = make_event(organiser, capacity=2, visibility="members",
                              open_to_non_members=True)
    not_open = make_event(organiser, capacity=2)
    assert not members_only.non_members_may_register()
    assert not not_open.non_members_may_register()
    assert not open_event.non_members_may_register(open_event.starts_at)
    assert open_event.non_members_may_register(open_event.starts_at - timedelta(seconds=1))


def test_places_freed_while_cancelled_go_to_the_waiting_list_when_scheduled_again(
        organiser: Any) -> None:
    event = make_event(organiser, capacity=1)
    leaving, waiting, newcomer = (factories.make_member() for _ in range(3))
    services.register(leaving, event)
    services.register(waiting, event)
    services.set_status(organiser, event, Status.CANCELLED)
    assert services.unregister(leaving, event) == []  # nobody moves up to a cancelled event
    services.set_status(organiser, event, Status.SCHEDULED)
    assert services.registration_of(waiting, event).state == RegState.REGISTERED
    assert services.register(newcomer, event).waiting
