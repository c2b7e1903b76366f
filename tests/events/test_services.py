"""The events' rules at their edges: local times, capacity, the waiting list, who may
create and edit, non-member links, attendance and payment, series."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.events import services
from lets_site.events.models import Event, PriceKind, Registration, RegState, Status
from lets_site.events.services import EventData, local_to_utc, occurrence_dates
from lets_site.extensions import db
from lets_site.ledger import services as ledger
from lets_site.ledger.models import Transfer
from tests import factories
from tests.events.conftest import make_event, make_organiser

BRUSSELS = ZoneInfo("Europe/Brussels")


# --- Local times --------------------------------------------------------------------------


def test_local_to_utc_spring_forward_gap_is_refused_with_the_reason(app: Any) -> None:
    with pytest.raises(DomainError) as error:
        local_to_utc(date(2027, 3, 28), time(2, 30), BRUSSELS, "start_time")
    assert error.value.field == "start_time"
    assert "does not exist" in str(error.value) and "forward" in str(error.value)
    # A minute before and the hour after the gap are fine.
    assert local_to_utc(date(2027, 3, 28), time(1, 59), BRUSSELS, "x").hour == 0
    assert local_to_utc(date(2027, 3, 28), time(3, 0), BRUSSELS, "x").hour == 1


def test_local_to_utc_autumn_hour_that_happens_twice_is_refused(app: Any) -> None:
    with pytest.raises(DomainError) as error:
        local_to_utc(date(2027, 10, 31), time(2, 30), BRUSSELS, "start_time")
    assert "twice" in str(error.value)
    assert local_to_utc(date(2027, 10, 31), time(3, 0), BRUSSELS, "x").hour == 2


def test_local_to_utc_uses_the_zone_of_the_day(app: Any) -> None:
    assert local_to_utc(date(2027, 1, 15), time(19, 30), BRUSSELS, "x").hour == 18
    assert local_to_utc(date(2027, 7, 15), time(19, 30), BRUSSELS, "x").hour == 17


def _data(**values: Any) -> EventData:
    return EventData(**{"title": "Film", "start_date": date.today() + timedelta(days=5),
                        "start_time": time(19, 30), **values})


def test_end_before_start_is_refused(organiser: Any) -> None:
    with pytest.raises(DomainError) as error:
        services.create_event(organiser, _data(end_time=time(19, 29)))
    assert error.value.field == "end_time"
    # Ending when it starts is allowed (the edge).
    event = services.create_event(organiser, _data(end_time=time(19, 30)))
    assert event.ends_at == event.starts_at


def test_last_day_before_first_day_is_refused(organiser: Any) -> None:
    with pytest.raises(DomainError) as error:
        services.create_event(organiser, _data(all_day=True, end_date=date.today()))
    assert error.value.field == "end_date"


def test_all_day_event_spans_local_midnights(organiser: Any) -> None:
    first = date(2027, 7, 10)
    event = services.create_event(organiser, _data(start_date=first, all_day=True,
                                                   end_date=first + timedelta(days=1)))
    assert event.starts_at.astimezone(BRUSSELS).time() == time(0)
    assert event.ends_at.astimezone(BRUSSELS).date() == first + timedelta(days=2)


def test_end_time_defaults_to_two_hours(organiser: Any) -> None:
    event = services.create_event(organiser, _data())
    assert event.ends_at - event.starts_at == timedelta(hours=2)


@pytest.mark.parametrize("capacity", [0, -1])
def test_capacity_of_zero_or_less_is_refused(organiser: Any, capacity: int) -> None:
    with pytest.raises(DomainError) as error:
        services.create_event(organiser, _data(capacity=capacity))
    assert error.value.field == "capacity"
    assert services.create_event(organiser, _data(capacity=1)).capacity == 1


def test_registration_must_close_before_the_start(organiser: Any) -> None:
    day = date.today() + timedelta(days=5)
    with pytest.raises(DomainError) as error:
        services.create_event(organiser, _data(start_date=day, capacity=5, closes_date=day,
                                               closes_time=time(19, 31)))
    assert error.value.field == "closes_time"
    services.create_event(organiser, _data(start_date=day, capacity=5, closes_date=day,
                                           closes_time=time(19, 30)))


def test_price_in_units_uses_the_ledger_amount(organiser: Any) -> None:
    event = services.create_event(organiser, _data(price_kind=PriceKind.UNITS,
                                                   price=Decimal(2)))
    assert event.price_amount == ledger.parse_amount("2")
    with pytest.raises(DomainError) as error:
        services.create_event(organiser, _data(price_kind=PriceKind.EURO, price=None))
    assert error.value.field == "price"


# --- Who may create and edit ---------------------------------------------------------------


def test_only_organisers_and_admins_create_events(app: Any) -> None:
    member = factories.make_member()
    with pytest.raises(PermissionDenied):
        services.create_event(member, _data())
    assert services.create_event(factories.make_admin(), _data()).id
    assert services.create_event(make_organiser(), _data()).id


def test_organiser_hosts_and_admins_edit_nobody_else(organiser: Any) -> None:
    host = factories.make_member()
    other_organiser = make_organiser()
    event = make_event(organiser, host_codes=(host.account_code,))
    assert event.can_edit(organiser) and event.can_edit(host)
    assert event.can_edit(factories.make_admin())
    assert not event.can_edit(other_organiser)
    assert not event.can_edit(factories.make_member())
    assert not event.can_edit(None)
    with pytest.raises(PermissionDenied):
        services.update_event(other_organiser, event, _data(title="Mine now"))
    services.update_event(host, event, _data(title="Better title"))
    assert event.title == "Better title"


def test_members_only_event_is_hidden_from_visitors(organiser: Any) -> None:
    event = make_event(organiser, visibility="members")
    with pytest.raises(PermissionDenied):
        services.get_event(event.id, None)
    assert services.get_event(event.id, factories.make_member()) is event
    assert event not in services.upcoming(None).items
    with pytest.raises(NotFound):
        services.get_event(999999, None)


def test_each_change_grows_the_revision_registrations_do_not(organiser: Any) -> None:
    event = make_event(organiser, capacity=5)
    assert event.sequence == 0
    services.register(factories.make_member(), event)
    assert event.sequence == 0
    services.update_event(organiser, event, _data(title="New title", capacity=5))
    assert event.sequence == 1
    services.set_status(organiser, event, Status.CANCELLED)
    assert event.sequence == 2


# --- Registration: capacity, waiting list, order -------------------------------------------


def test_exact_capacity_then_waiting_list(organiser: Any) -> None:
    event = make_event(organiser, capacity=2)
    a, b, c = (factories.make_member() for _ in range(3))
    assert not services.register(a, event).waiting
    assert not services.register(b, event).waiting  # the last place
    assert services.register(c, event).waiting  # one more: waiting
    assert services.counts(event) == (2, 1)
    assert services.places_left(event) == 0


def test_registering_twice_is_refused(organiser: Any) -> None:
    event = make_event(organiser, capacity=1)
    a, b = factories.make_member(), factories.make_member()
    services.register(a, event)
    with pytest.raises(DomainError, match="already registered"):
        services.register(a, event)
    services.register(b, event)
    with pytest.raises(DomainError, match="already on the waiting list"):
        services.register(b, event)


def test_database_refuses_a_second_row_for_one_member(organiser: Any) -> None:
    event = make_event(organiser, capacity=3)
    member = factories.make_member()
    db.session.add(Registration(event_id=event.id, member_id=member.id))
    db.session.flush()
    db.session.add(Registration(event_id=event.id, member_id=member.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_unregister_promotes_the_first_waiting_and_tells_them(organiser: Any,
                                                               outbox: Any) -> None:
    event = make_event(organiser, capacity=1)
    a = factories.make_member()
    first, second = factories.make_member(locale="en"), factories.make_member()
    services.register(a, event)
    services.register(first, event)
    services.register(second, event)
    db.session.commit()
    promoted = services.unregister(a, event)
    db.session.commit()
    assert [r.member_id for r in promoted] == [first.id]
    assert services.registration_of(first, event).state == RegState.REGISTERED
    assert services.registration_of(second, event).state == RegState.WAITING
    assert services.waiting_position(services.registration_of(second, event)) == 1
    assert services.registration_of(a, event).state == RegState.CANCELLED
    mails = outbox()
    assert len(mails) == 1 and first.email in mails[0] and "A place came free" in mails[0]


def test_leaving_the_waiting_list_promotes_nobody(organiser: Any, outbox: Any) -> None:
    event = make_event(organiser, capacity=1)
    a, waiting = factories.make_member(), factories.make_member()
    services.register(a, event)
    services.register(waiting, event)
    assert services.unregister(waiting, event) == []
    assert services.counts(event) == (1, 0)


def test_register_again_after_unregistering_goes_to_the_end(organiser: Any) -> None:
    event = make_event(organiser, capacity=1)
    a, b, c = (factories.make_member() for _ in range(3))
    services.register(a, event)
    services.register(b, event)
    services.register(c, event)
    services.unregister(b, event)  # b leaves the waiting list ...
    assert services.register(b, event).waiting  # ... and comes back behind c
    services.unregister(a, event)
    assert services.registration_of(c, event).state == RegState.REGISTERED
    assert services.registration_of(b, event).state == RegState.WAITING


def test_more_places_promote_from_the_waiting_list(organiser: Any) -> None:
    event = make_event(organiser, capacity=1)
    members = [factories.make_member() for _ in range(3)]
    for m in members:
        services.register(m, event)
    services.update_event(organiser, event, _data(start_date=event.starts_at.astimezone(
        BRUSSELS).date(), capacity=2))
    assert services.counts(event) == (2, 1)
    with pytest.raises(DomainError) as error:
        services.update_event(organiser, event, _data(capacity=1))
    assert error.value.field == "capacity"


def test_register_refused_for_cancelled_past_closed_and_no_registration(
        organiser: Any) -> None:
    member = factories.make_member()
    cancelled = make_event(organiser, capacity=5)
    services.set_status(organiser, cancelled, Status.CANCELLED)
    with pytest.raises(DomainError, match="cancelled"):
        services.register(member, cancelled)
    past = make_event(organiser, days=-1, capacity=5)
    with pytest.raises(DomainError, match="started or is over"):
        services.register(member, past)
    closed = make_event(organiser, capacity=5)
    closed.registration_closes_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(DomainError, match="closed"):
        services.register(member, closed)
    closed.registration_closes_at = utcnow() + timedelta(minutes=1)
    services.register(member, closed)  # still open, just
    free = make_event(organiser)
    with pytest.raises(DomainError, match="no registration"):
        services.register(member, free)


def test_cancelling_tells_everyone_registered_or_waiting(organiser: Any,
                                                          outbox: Any) -> None:
    event = make_event(organiser, capacity=1)
    a, b = factories.make_member(locale="en"), factories.make_member(locale="en")
    services.register(a, event)
    services.register(b, event)
    services.set_status(organiser, event, Status.CANCELLED)
    db.session.commit()
    mails = outbox()
    assert len(mails) == 2 and all("is cancelled" in m for m in mails)


# --- Non-members ---------------------------------------------------------------------------


def _guest_event(organiser: Any, **values: Any) -> Event:
    return make_event(organiser, capacity=values.pop("capacity", 2), open_to_non_members=True,
                      **values)


def test_guest_registration_waits_for_the_link(organiser: Any, outbox: Any) -> None:
    event = _guest_event(organiser)
    signup = services.register_guest(event, "Nina", "Nina@Example.org", "h1")
    db.session.commit()
    assert signup.registration.state == RegState.PENDING
    assert signup.registration.email == "nina@example.org"
    assert services.counts(event) == (0, 0)  # no place held yet
    mail = outbox()[-1]
    assert f"http://localhost/events/confirm/{signup.token}" in mail
    assert f"http://localhost/events/cancel/{signup.token}" in mail
    assert not services.confirm_guest(signup.token).waiting
    assert services.counts(event) == (1, 0)


def test_guest_link_used_twice_or_expired(organiser: Any) -> None:
    event = _guest_event(organiser)
    signup = services.register_guest(event, "Nina", "nina@example.org", "h1")
    services.confirm_guest(signup.token)
    with pytest.raises(DomainError, match="used already"):
        services.confirm_guest(signup.token)
    late = services.register_guest(event, "Lou", "lou@example.org", "h1")
    late.registration.token_expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(DomainError, match="expired"):
        services.confirm_guest(late.token)
    with pytest.raises(NotFound):
        services.confirm_guest("not-a-token")


def test_guest_same_address_twice_is_refused(organiser: Any) -> None:
    event = _guest_event(organiser)
    signup = services.register_guest(event, "Nina", "nina@example.org", "h1")
    services.confirm_guest(signup.token)
    with pytest.raises(DomainError) as error:
        services.register_guest(event, "Nina", "NINA@example.org", "h2")
    assert error.value.field == "email"


def test_guest_cancel_frees_the_place_for_the_waiting(organiser: Any) -> None:
    event = _guest_event(organiser, capacity=1)
    a = services.register_guest(event, "A", "a@example.org", "h1")
    b = services.register_guest(event, "B", "b@example.org", "h2")
    services.confirm_guest(a.token)
    assert services.confirm_guest(b.token).waiting
    services.cancel_guest(a.token)
    assert b.registration.state == RegState.REGISTERED
    with pytest.raises(DomainError, match="cancelled already"):
        services.cancel_guest(a.token)


def test_guests_only_on_public_events_open_to_them(organiser: Any) -> None:
    closed = make_event(organiser, capacity=2)  # not open to non-members
    with pytest.raises(DomainError, match="Only members"):
        services.register_guest(closed, "N", "n@example.org", "h")
    members = make_event(organiser, capacity=2, visibility="members", open_to_non_members=True)
    with pytest.raises(DomainError, match="Only members"):
        services.register_guest(members, "N", "n@example.org", "h")


def test_guest_rate_limit_per_client(organiser: Any) -> None:
    event = _guest_event(organiser, capacity=50)
    for n in range(services.GUEST_LIMIT_PER_ADDRESS):
        services.register_guest(event, "N", f"n{n}@example.org", "same")
    with pytest.raises(DomainError, match="Too many"):
        services.register_guest(event, "N", "late@example.org", "same")
    services.register_guest(event, "N", "other@example.org", "another-client")


# --- Attendance and payment ----------------------------------------------------------------


def test_attendance_books_the_price_once_and_never_before(organiser: Any) -> None:
    event = make_event(organiser, capacity=3, price_kind=PriceKind.UNITS, price=Decimal(2))
    member = factories.make_member()
    services.register(member, event)
    db.session.commit()
    reg = services.registration_of(member, event)
    assert db.session.scalar(select(Transfer).where(Transfer.description.contains(
        event.title))) is None
    services.set_attended(organiser, event, reg.id, True)
    services.set_attended(organiser, event, reg.id, False)
    services.set_attended(organiser, event, reg.id, True)
    db.session.commit()
    transfers = list(db.session.scalars(select(Transfer)))
    assert len(transfers) == 1
    assert transfers[0].amount == event.price_amount
    assert reg.transfer_uid == transfers[0].uid


def test_only_organisers_mark_attendance(organiser: Any) -> None:
    event = make_event(organiser, capacity=3)
    member = factories.make_member()
    services.register(member, event)
    reg = services.registration_of(member, event)
    with pytest.raises(PermissionDenied):
        services.set_attended(member, event, reg.id, True)


# --- Series --------------------------------------------------------------------------------


def test_monthly_weekday_series_every_first_saturday(app: Any) -> None:
    dates = occurrence_dates(date(2027, 1, 2), "monthly_weekday", 4)  # first Saturday
    assert dates == [date(2027, 1, 2), date(2027, 2, 6), date(2027, 3, 6), date(2027, 4, 3)]
    assert all(d.weekday() == 5 for d in dates)


def test_monthly_series_skips_months_without_the_day(app: Any) -> None:
    assert occurrence_dates(date(2027, 1, 31), "monthly", 3) == [
        date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31)]
    with pytest.raises(DomainError):
        occurrence_dates(date(2027, 1, 31), "weekly", 0)


def test_series_occurrences_have_their_own_registrations(organiser: Any) -> None:
    day = date.today() + timedelta(days=3)
    first = services.create_event(organiser, _data(start_date=day, capacity=1), "weekly", 3)
    occurrences = list(db.session.scalars(select(Event).where(Event.series == first.series)
                                          .order_by(Event.starts_at)))
    assert len(occurrences) == 3
    assert occurrences[1].starts_at.astimezone(BRUSSELS).date() == day + timedelta(weeks=1)
    member = factories.make_member()
    services.register(member, occurrences[0])
    assert not services.register(member, occurrences[1]).waiting
    # One occurrence cancelled (skipped), the others stand.
    services.set_status(organiser, occurrences[2], Status.CANCELLED)
    assert occurrences[1].status == Status.SCHEDULED


def test_postponed_event_takes_no_registrations_until_scheduled_again(organiser: Any) -> None:
    event = make_event(organiser, capacity=2)
    member = factories.make_member()
    services.set_status(organiser, event, Status.POSTPONED)
    with pytest.raises(DomainError, match="postponed"):
        services.register(member, event)
    services.set_status(organiser, event, Status.SCHEDULED)
    assert not services.register(member, event).waiting


def test_unregistering_after_the_start_is_refused(organiser: Any) -> None:
    event = make_event(organiser, capacity=2)
    member = factories.make_member()
    services.register(member, event)
    event.starts_at = utcnow() - timedelta(minutes=1)
    with pytest.raises(DomainError, match="started or is over"):
        services.unregister(member, event)
    assert services.registration_of(member, event).state == RegState.REGISTERED


def test_profile_panel_only_for_the_member_and_admins(organiser: Any) -> None:
    from lets_site.events.feature import _profile

    event = make_event(organiser, capacity=2)
    member = factories.make_member()
    services.register(member, event)
    assert _profile(member, member) is not None
    assert _profile(member, factories.make_admin()) is not None
    assert _profile(member, factories.make_member()) is None
    assert _profile(member, None) is None
