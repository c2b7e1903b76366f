"""Reminders by date (``lets-site notify due``): a listing expiring in two weeks, with a
renewal link that works once and only for its owner; a loan due back. And the feature
mails of books and events, each switchable."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from lets_site.cli import main as cli_main
from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.offers import services as offers
from lets_site.offers.models import Listing
from tests.notifications.conftest import Server, body, link
from tests.notifications.test_kinds import login, switch_off
from tests.offers.conftest import make_listing


def _due(runner: Any) -> str:
    result = runner.invoke(cli_main, ["notify", "due"])
    assert result.exit_code == 0, result.output
    return result.output


def _listing(listing_id: int) -> Listing:
    db.session.expire_all()
    listing = db.session.scalar(select(Listing).where(Listing.id == listing_id))
    assert listing is not None
    return listing


def test_a_listing_ending_within_two_weeks_is_announced_once(
    app: Any, smtp: Server, runner: Any, make_member: Any
) -> None:
    owner = make_member(locale="en")
    soon = make_listing(owner, "Soup", valid_until=utcnow() + timedelta(days=13, hours=23))
    make_listing(owner, "Later", valid_until=utcnow() + timedelta(days=14, hours=1))
    assert "Queued 1" in _due(runner)
    (message,) = smtp.to(owner.email)
    assert "Soup" in message["Subject"]
    assert f"/offers/{soon.id}/renew/" in link(message, "/renew/")
    assert "Queued 0" in _due(runner)  # once: a second run sends nothing
    assert len(smtp.to(owner.email)) == 1


def test_the_renewal_link_confirms_renews_once_and_then_says_already_renewed(
    app: Any, smtp: Server, runner: Any, make_member: Any, client: Any
) -> None:
    owner = make_member(locale="en")
    listing = make_listing(owner, "Soup", valid_until=utcnow() + timedelta(days=5))
    end = listing.valid_until
    _due(runner)
    (message,) = smtp.to(owner.email)
    path = link(message, "/renew/")
    # Behind login.
    assert "/login" in client.get(path).headers["Location"]
    login(client, owner)
    page = client.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Renew for a year" in page.get_data(as_text=True)
    assert _listing(listing.id).valid_until == end  # a GET (a mail scanner) renews nothing
    response = client.post_form(path)
    assert response.status_code == 303
    assert _listing(listing.id).valid_until > utcnow() + timedelta(days=360)
    again = client.get(path, headers={"Accept-Language": "en"})
    assert again.status_code == 200 and "renewed already" in again.get_data(as_text=True)
    renewed = _listing(listing.id).valid_until
    client.post_form(path)
    assert _listing(listing.id).valid_until == renewed  # the second POST renews nothing


def test_the_renewal_link_refuses_anyone_but_its_owner(
    app: Any, smtp: Server, runner: Any, make_member: Any, make_admin: Any, client: Any
) -> None:
    owner = make_member()
    listing = make_listing(owner, "Soup", valid_until=utcnow() + timedelta(days=5))
    _due(runner)
    path = link(smtp.to(owner.email)[0], "/renew/")
    login(client, make_admin())  # even an admin, who may edit the listing
    assert client.get(path).status_code == 403
    assert client.post_form(path).status_code == 403
    client.post_form("/logout")
    login(client, make_member())
    assert client.get(path).status_code == 403
    token = path.rsplit("/", 1)[1]
    login(client, owner)
    assert client.get(f"/offers/{listing.id}/renew/{token[:-2]}xx").status_code == 404
    assert _listing(listing.id).valid_until < utcnow() + timedelta(days=6)


def test_listing_expiry_reminders_switched_off(
    app: Any, smtp: Server, runner: Any, make_member: Any
) -> None:
    owner = make_member()
    switch_off(owner, offers.EXPIRING)
    make_listing(owner, "Soup", valid_until=utcnow() + timedelta(days=5))
    assert "Queued 0" in _due(runner)
    assert smtp.to(owner.email) == []


# --- Books ----------------------------------------------------------------------------------


def _loan(owner: Any, borrower: Any, due: date) -> Any:
    from lets_site.books import services as books
    from lets_site.books.models import Mode
    from tests.books.helpers import accepted, make_book

    book = make_book(owner, "De avonden", mode=Mode.LEND)
    req = accepted(book, borrower, owner, due_date=due)
    books.hand_over(owner, req)
    db.session.commit()
    return req


def test_a_book_request_and_its_acceptance_are_mailed_and_each_switch_works(
    app: Any, smtp: Server, make_member: Any
) -> None:
    from lets_site.books import services as books
    from lets_site.notifications.receivers import BOOK_ACCEPTED
    from tests.books.helpers import make_book, make_request

    owner, borrower = make_member(locale="en"), make_member(locale="en")
    book = make_book(owner, "Het diner")
    req = make_request(book, borrower, "Graag")
    (asked,) = smtp.to(owner.email)
    assert "Het diner" in asked["Subject"]
    books.accept(owner, req)
    db.session.commit()
    (accepted,) = smtp.to(borrower.email)
    assert "Het diner" in accepted["Subject"] and accepted["Reply-To"] == owner.email
    # Switched off, each one.
    switch_off(owner, books.REQUESTED)
    switch_off(borrower, BOOK_ACCEPTED)
    other = make_book(owner, "Karakter")
    req = make_request(other, borrower)
    books.accept(owner, req)
    db.session.commit()
    assert len(smtp.to(owner.email)) == 1 and len(smtp.to(borrower.email)) == 1


def test_a_loan_due_back_is_a_real_mail_once_per_loan(
    app: Any, smtp: Server, runner: Any, make_member: Any
) -> None:
    owner, borrower = make_member(), make_member(locale="en")
    today = utcnow().date()
    _loan(owner, borrower, today + timedelta(days=10))
    smtp.messages.clear()
    assert "Queued 0" in _due(runner)  # not yet
    due = _loan(owner, borrower, today + timedelta(days=2))
    smtp.messages.clear()
    _due(runner)
    (message,) = smtp.to(borrower.email)
    assert "De avonden" in message["Subject"] and message["Reply-To"] == owner.email
    assert f"/books/{due.book_id}" in link(message, "/books/")
    _due(runner)
    assert len(smtp.to(borrower.email)) == 1  # once per loan


def test_due_back_reminders_switched_off(
    app: Any, smtp: Server, runner: Any, make_member: Any
) -> None:
    from lets_site.books import services as books

    owner, borrower = make_member(), make_member()
    switch_off(borrower, books.DUE_BACK)
    _loan(owner, borrower, utcnow().date() + timedelta(days=1))
    smtp.messages.clear()
    _due(runner)
    assert smtp.to(borrower.email) == []


# --- Events ---------------------------------------------------------------------------------


def test_a_place_from_the_waiting_list_is_mailed_unless_switched_off(
    app: Any, smtp: Server, make_member: Any
) -> None:
    from lets_site.events import services as events
    from tests.events.conftest import make_event, make_organiser

    event = make_event(make_organiser(), capacity=1)
    first, waiting, quiet = make_member(locale="en"), make_member(locale="en"), make_member()
    for member in (first, waiting, quiet):
        events.register(member, event)
        db.session.commit()
    switch_off(quiet, "events.promoted")
    events.unregister(first, event)  # waiting moves up
    db.session.commit()
    (moved,) = smtp.to(waiting.email)
    assert "place" in moved["Subject"] and "Film night" in body(moved)
    events.unregister(waiting, event)  # quiet moves up, but switched that off
    db.session.commit()
    assert smtp.to(quiet.email) == []


def test_a_cancelled_event_is_mailed_unless_switched_off(
    app: Any, smtp: Server, make_member: Any
) -> None:
    from lets_site.events import services as events
    from tests.events.conftest import make_event, make_organiser

    organiser = make_organiser()
    event = make_event(organiser, capacity=10)
    told, quiet = make_member(locale="en"), make_member()
    for member in (told, quiet):
        events.register(member, event)
        db.session.commit()
    switch_off(quiet, "events.cancelled")
    events.set_status(organiser, event, "cancelled")
    db.session.commit()
    (message,) = smtp.to(told.email)
    assert message["Subject"].startswith("Cancelled")
    assert smtp.to(quiet.email) == []


# --- Partners -------------------------------------------------------------------------------


def test_a_prospects_next_step_due_reminds_its_coordinator_once(
    app: Any, smtp: Server, runner: Any, make_member: Any, make_admin: Any
) -> None:
    from lets_site.notifications import services as notifications
    from lets_site.partners import services as partners
    from lets_site.partners.models import Prospect

    admin = make_admin()
    cora, quiet = make_member(locale="en"), make_member()
    for member in (cora, quiet):
        partners.grant_coordinator(admin, member.account_code)
    db.session.commit()
    assert partners.STEP_DUE in notifications.preferences(cora)
    assert partners.STEP_DUE not in notifications.preferences(make_member())  # no coordinator
    switch_off(quiet, partners.STEP_DUE)
    # The group's own date, as the rule reads it (between midnight in Brussels and
    # midnight UTC the two differ by a day).
    tomorrow = partners.today() + timedelta(days=1)
    prospects = [partners.create_prospect(admin, partners.ProspectData(
        name=name, owner_id=owner.id, next_step="Call them", next_step_on=tomorrow))
        for name, owner in (("Bakkerij Pot", cora), ("Kringwinkel", quiet))]
    db.session.commit()
    assert "Queued 0" in _due(runner)  # not due yet
    for prospect in prospects:  # a day passes
        db.session.get(Prospect, prospect.id).next_step_on = partners.today()
    db.session.commit()
    assert "Queued 1" in _due(runner)
    (message,) = smtp.to(cora.email)
    assert "Bakkerij Pot" in message["Subject"] and "Call them" in body(message)
    assert f"/prospects/{prospects[0].id}" in link(message, "/prospects/")
    assert "Queued 0" in _due(runner)
    assert smtp.to(quiet.email) == []


def test_a_moved_or_postponed_event_is_mailed_but_not_a_new_description(
    app: Any, smtp: Server, make_member: Any
) -> None:
    from datetime import time

    from lets_site.events import services as events
    from lets_site.events.services import EventData
    from tests.events.conftest import make_event, make_organiser

    organiser = make_organiser()
    start = date.today() + timedelta(days=10)
    event = make_event(organiser, capacity=10)
    told, quiet = make_member(locale="en"), make_member()
    for member in (told, quiet):
        events.register(member, event)
        db.session.commit()
    switch_off(quiet, "events.changed")

    def edit(**values: Any) -> None:
        data = EventData(**{"title": "Film night", "start_date": start,
                            "start_time": time(19, 30), "capacity": 10, **values})
        events.update_event(organiser, event, data)
        db.session.commit()

    edit(description="Bring a cushion")  # not the time or the place: no mail
    assert smtp.to(told.email) == []
    edit(start_time=time(20, 0))
    (moved,) = smtp.to(told.email)
    assert moved["Subject"] == "Changed: Film night" and "20:00" in body(moved)
    events.set_status(organiser, event, "postponed")
    db.session.commit()
    assert "postponed" in body(smtp.to(told.email)[-1])
    assert smtp.to(quiet.email) == []


def test_registering_is_mailed_only_to_who_turned_it_on(
    app: Any, smtp: Server, make_member: Any
) -> None:
    from lets_site.events import services as events
    from lets_site.notifications import services as notifications
    from tests.events.conftest import make_event, make_organiser

    event = make_event(make_organiser(), capacity=1)
    default, keen = make_member(), make_member(locale="en")
    on = [k for k, v in notifications.preferences(keen).items() if v] + ["events.registered"]
    notifications.save_preferences(keen, keen, on)
    db.session.commit()
    events.register(default, event)  # off by default
    db.session.commit()
    assert smtp.to(default.email) == []
    events.register(keen, event)
    db.session.commit()
    (message,) = smtp.to(keen.email)
    assert message["Subject"] == "On the waiting list: Film night"
    assert "waiting list" in body(message)
