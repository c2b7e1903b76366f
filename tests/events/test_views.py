"""The events' pages: lists, the month view, registration with and without htmx, the
non-member flow through the mailed link, the organisers' pages and the panels."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from lets_site.events import services
from lets_site.events.models import Event, RegState, Status
from lets_site.extensions import db
from tests import factories
from tests.events.conftest import make_event
from tests.html import main_text, select_text

HX = {"HX-Request": "true"}


def route_objects(people: dict[str, Any]) -> dict[str, Any]:
    """For tests/test_routes.py (and the page checks that walk its table): a public event
    organised by the admin with the intermediary as co-organiser and a partner, a
    members-only event, a non-member's link and a feed token."""
    if "_events" not in people:
        from lets_site.partners.models import Partner

        admin = people["admin"]
        partner = Partner(slug="bibliotheek", name="Bibliotheek", name_key="bibliotheek")
        db.session.add(partner)
        db.session.flush()
        event = make_event(admin, capacity=5, open_to_non_members=True,
                           host_codes=(people["intermediary"].account_code,),
                           partner_ids=(partner.id,))
        members_event = make_event(admin, visibility="members")
        signup = services.register_guest(event, "Guest", "guest@example.org", "routes")
        token = services.feed_token(people["member"])
        db.session.commit()
        people["_events"] = {"event": event.id, "members_event": members_event.id,
                             "guest_token": signup.token, "feed_token": token}
    return people["_events"]


def _login(auth: Any, member: Any) -> None:
    assert auth.login(member.account_code).status_code == 303


def _reload(event: Event) -> Event:
    db.session.expire_all()
    return db.session.get(Event, event.id)


# --- Lists ---------------------------------------------------------------------------------


def test_index_lists_upcoming_not_past_and_marks_cancelled(client: Any, organiser: Any) -> None:
    make_event(organiser, title="Coming soon")
    make_event(organiser, days=-3, title="Long ago")
    cancelled = make_event(organiser, title="Called off")
    services.set_status(organiser, cancelled, Status.CANCELLED)
    db.session.commit()
    text = main_text(client.get("/events/"))
    assert "Coming soon" in text and "Called off" in text and "Long ago" not in text
    assert "Cancelled" in select_text(client.get("/events/"), f"#event-{cancelled.id}")
    assert "Long ago" in main_text(client.get("/events/past"))


def test_index_filters_by_kind_and_partner(client: Any, organiser: Any) -> None:
    make_event(organiser, title="Films", kind="film", partner_names="Vormingplus")
    make_event(organiser, title="Swap", kind="book_swap", partner_names="Library")
    assert "Swap" not in main_text(client.get("/events/?kind=film"))
    text = main_text(client.get("/events/?partner=Library"))
    assert "Swap" in text and "Films" not in text


def test_index_htmx_gets_the_list_alone(client: Any, organiser: Any) -> None:
    make_event(organiser, title="Coming soon")
    response = client.get("/events/", headers=HX)
    body = response.get_data(as_text=True)
    assert body.startswith('<section id="events"') and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_month_view_is_a_list_by_day(client: Any, organiser: Any) -> None:
    day = date.today() + timedelta(days=40)
    make_event(organiser, days=40, title="Later")
    make_event(organiser, days=40, title="Same day", all_day=True)
    response = client.get(f"/events/month/{day.year}-{day.month:02d}")
    assert response.status_code == 200
    text = select_text(response, "dl.month")
    assert "Later" in text and "Same day" in text
    assert client.get("/events/month/2027-13").status_code == 404


def test_month_view_lists_a_multi_day_event_on_each_day(client: Any, organiser: Any) -> None:
    make_event(organiser, title="Borderland", start_date=date(2027, 7, 30), all_day=True,
               end_date=date(2027, 8, 1))
    july = client.get("/events/month/2027-07").get_data(as_text=True)
    august = client.get("/events/month/2027-08").get_data(as_text=True)
    assert july.count("Borderland") == 2  # 30 and 31 July
    assert august.count("Borderland") == 1  # 1 August, not 2 August


# --- Registration with and without htmx ----------------------------------------------------


def test_register_and_unregister_without_javascript(client: Any, auth: Any,
                                                    organiser: Any) -> None:
    event = make_event(organiser, capacity=1)
    member = factories.make_member(locale="en")
    _login(auth, member)
    response = client.post_form(f"/events/{event.id}/register")
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "You are registered." in main_text(page)
    assert "Full: 1 registered, 0 on the waiting list." in select_text(page, "#registration")
    response = client.post_form(f"/events/{event.id}/register")
    assert "already registered" in client.get(response.headers["Location"]).get_data(
        as_text=True)
    response = client.post_form(f"/events/{event.id}/unregister")
    assert response.status_code == 303
    assert services.counts(_reload(event)) == (0, 0)


def test_register_with_htmx_answers_the_partial(client: Any, auth: Any, organiser: Any) -> None:
    event = make_event(organiser, capacity=1)
    factories_member = factories.make_member()
    services.register(factories_member, event)
    db.session.commit()
    _login(auth, factories.make_member(locale="en"))
    response = client.post_form(f"/events/{event.id}/register", headers=HX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.startswith('<section id="registration"')
    assert "number 1 on the waiting list" in body
    response = client.post_form(f"/events/{event.id}/unregister", headers=HX)
    assert "You are no longer registered." in response.get_data(as_text=True)
    assert "Join the waiting list" in response.get_data(as_text=True)


def test_register_refusal_shows_in_the_partial(client: Any, auth: Any, organiser: Any) -> None:
    event = make_event(organiser, capacity=1)
    member = factories.make_member(locale="en")
    services.register(member, event)
    services.set_status(organiser, event, Status.CANCELLED)
    db.session.commit()
    _login(auth, member)
    response = client.post_form(f"/events/{event.id}/register", headers=HX)
    assert "This event is cancelled." in response.get_data(as_text=True)


def test_full_event_button_says_waiting_list(client: Any, auth: Any, organiser: Any) -> None:
    event = make_event(organiser, capacity=1)
    services.register(factories.make_member(), event)
    db.session.commit()
    _login(auth, factories.make_member(locale="en"))
    text = select_text(client.get(f"/events/{event.id}"), "#registration")
    assert "Full: 1 registered, 0 on the waiting list." in text
    assert "Join the waiting list" in text


# --- Non-members ----------------------------------------------------------------------------


def _link(mail: str, kind: str) -> str:
    match = re.search(rf"http://localhost(/events/{kind}/[A-Za-z0-9_-]+)", mail)
    assert match, mail
    return match.group(1)


def test_guest_registers_confirms_and_cancels_by_mail(client: Any, organiser: Any,
                                                      outbox: Any) -> None:
    event = make_event(organiser, capacity=1, open_to_non_members=True)
    page = client.get(f"/events/{event.id}")
    assert "Register without an account" in main_text(page)
    response = client.post_form(f"/events/{event.id}/guest",
                                {"name": "Nina", "email": "nina@example.org", "website": ""})
    assert response.status_code == 303
    assert "Check your mail" in main_text(client.get(response.headers["Location"]))
    mail = outbox()[-1]
    confirm, cancel = _link(mail, "confirm"), _link(mail, "cancel")
    # Following the link (as a mail scanner would) changes nothing; the button confirms.
    assert "Confirm my registration" in main_text(client.get(confirm))
    assert services.counts(_reload(event)) == (0, 0)
    response = client.post_form(confirm)
    assert response.status_code == 303
    assert "Your registration is confirmed." in client.get(confirm).get_data(as_text=True)
    response = client.post_form(confirm)
    assert response.status_code == 200
    assert "used already" in main_text(response)
    client.post_form(cancel)
    assert services.counts(_reload(event)) == (0, 0)


def test_guest_honeypot_stores_nothing(client: Any, organiser: Any, outbox: Any) -> None:
    event = make_event(organiser, capacity=3, open_to_non_members=True)
    response = client.post_form(f"/events/{event.id}/guest",
                                {"name": "Bot", "email": "bot@example.org",
                                 "website": "http://spam.example"})
    assert response.status_code == 303
    assert outbox() == []
    assert db.session.query(services.Registration).count() == 0


def test_guest_bad_email_message_on_the_field(client: Any, organiser: Any) -> None:
    event = make_event(organiser, capacity=3, open_to_non_members=True)
    response = client.post_form(f"/events/{event.id}/guest",
                                {"name": "Nina", "email": "not an address"})
    assert response.status_code == 200
    assert "Give an e-mail address such as name@example.org." in main_text(response)


# --- Organisers -----------------------------------------------------------------------------


def _form(**overrides: Any) -> dict[str, Any]:
    day = date.today() + timedelta(days=20)
    values = {"title": "Cooking workshop", "kind": "workshop",
              "start_date": day.strftime("%d/%m/%Y"), "start_time": "18u30",
              "end_time": "21.00", "visibility": "public", "price_kind": "free",
              "capacity": "12"}
    values.update(overrides)
    return values


def test_organiser_creates_an_event_from_phone_style_input(client: Any, auth: Any,
                                                           organiser: Any) -> None:
    _login(auth, organiser)
    response = client.post_form("/events/new", _form(price_kind="euro", price="2,5"))
    assert response.status_code == 303, main_text(response)
    event = db.session.query(Event).one()
    assert event.capacity == 12 and event.price_amount == 250
    local = event.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Brussels"))
    assert (local.hour, local.minute) == (18, 30)


def test_event_form_explains_bad_times_and_capacity(client: Any, auth: Any,
                                                    organiser: Any) -> None:
    _login(auth, organiser)
    response = client.post_form("/events/new", _form(start_date="28/03/2027",
                                                     start_time="02:30"))
    assert "does not exist on 28/03/2027" in main_text(response)
    response = client.post_form("/events/new", _form(end_time="17:00"))
    assert "The event cannot end before it starts." in main_text(response)
    response = client.post_form("/events/new", _form(capacity="0"))
    assert "at least 1" in main_text(response)
    response = client.post_form("/events/new", _form(start_time="25:00"))
    assert "for example 19:30" in main_text(response)
    assert db.session.query(Event).count() == 0


def test_member_without_the_role_cannot_create(client: Any, auth: Any) -> None:
    _login(auth, factories.make_member())
    assert client.post_form("/events/new", _form()).status_code == 403


def test_edit_form_shows_the_stored_local_times(client: Any, auth: Any,
                                                organiser: Any) -> None:
    event = make_event(organiser, capacity=4)
    _login(auth, organiser)
    body = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert 'value="19:30"' in body and 'value="4"' in body


def test_registrants_csv_and_sign_in_sheet(client: Any, auth: Any, organiser: Any) -> None:
    event = make_event(organiser, capacity=1)
    a = factories.make_member(display_name="=cmd|Anna")
    b = factories.make_member(display_name="Bert")
    services.register(a, event)
    services.register(b, event)
    db.session.commit()
    _login(auth, organiser)
    csv = client.get(f"/events/{event.id}/registrants.csv")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[1].startswith("'=cmd|Anna,") and "registered" in lines[1]
    assert lines[2].startswith("Bert,") and "waiting" in lines[2]
    sheet = main_text(client.get(f"/events/{event.id}/sign-in"))
    assert "=cmd|Anna" in sheet and "Bert" not in sheet  # the waiting list does not sign


def test_cancel_through_the_status_form(client: Any, auth: Any, organiser: Any) -> None:
    event = make_event(organiser)
    _login(auth, organiser)
    response = client.post_form(f"/events/{event.id}/status", {"status": "cancelled"})
    assert response.status_code == 303
    assert "This event is cancelled." in main_text(client.get(f"/events/{event.id}"))


def test_other_member_cannot_change_status(client: Any, auth: Any, organiser: Any) -> None:
    event = make_event(organiser)
    _login(auth, factories.make_member())
    assert client.post_form(f"/events/{event.id}/status",
                            {"status": "cancelled"}).status_code == 403


def test_organiser_removes_a_registration_and_the_waiting_get_it(client: Any, auth: Any,
                                                                  organiser: Any) -> None:
    event = make_event(organiser, capacity=1)
    a, b = factories.make_member(), factories.make_member()
    services.register(a, event)
    services.register(b, event)
    db.session.commit()
    reg = services.registration_of(a, event)
    _login(auth, organiser)
    client.post_form(f"/events/{event.id}/registrants/{reg.id}/remove")
    db.session.expire_all()
    assert services.registration_of(b, event).state == RegState.REGISTERED


# --- Panels and sharing --------------------------------------------------------------------


def test_home_shows_the_next_intro_evening_with_date_and_place(client: Any,
                                                               organiser: Any) -> None:
    make_event(organiser, title="Intro", kind="intro_evening", venue_name="Service centre")
    text = select_text(client.get("/"), "#home-events")
    assert "Next intro evening:" in text and "Service centre" in text


def test_profile_lists_my_registrations(client: Any, auth: Any, organiser: Any) -> None:
    event = make_event(organiser, title="Book swap", capacity=5)
    member = factories.make_member(locale="en")
    services.register(member, event)
    db.session.commit()
    _login(auth, member)
    assert "Book swap" in select_text(client.get(f"/members/{member.account_code}"),
                                      "#profile-events")
    assert "Book swap" in main_text(client.get("/events/mine"))


def test_public_event_has_opengraph_members_event_not(client: Any, auth: Any,
                                                      organiser: Any) -> None:
    public = make_event(organiser, title="Film night")
    members = make_event(organiser, title="Members meeting", visibility="members")
    body = client.get(f"/events/{public.id}").get_data(as_text=True)
    assert '<meta property="og:title" content="Film night">' in body
    assert 'content="http://localhost/events/' in body
    _login(auth, factories.make_member())
    assert "og:title" not in client.get(f"/events/{members.id}").get_data(as_text=True)


def test_items_carry_public_events_with_their_start(app: Any, organiser: Any) -> None:
    from lets_site import features

    public = make_event(organiser, title="Public")
    make_event(organiser, title="Private", visibility="members")
    items = [i for i in features.items(None) if i.kind == "event"]
    assert [i.title for i in items] == ["Public"]
    assert items[0].start == public.starts_at and items[0].id == public.urn
    details = items[0].details
    assert details["timezone"] == "Europe/Brussels" and details["status"] == "scheduled"
    assert details["revision"] == 1 and details["end"] == public.ends_at.isoformat()


def test_admin_gives_the_organiser_role_then_the_member_creates(client: Any, auth: Any
                                                                ) -> None:
    from lets_site.members.models import Role

    admin, member = factories.make_admin(), factories.make_member()
    _login(auth, admin)
    response = client.post_form(f"/admin/members/{member.id}/roles", {"organiser": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(type(member), member.id).roles == {Role.MEMBER, Role.ORGANISER}
    auth.logout()
    _login(auth, member)
    assert client.get("/events/new").status_code == 200


# --- Partners -------------------------------------------------------------------------------


def _partner(name: str, slug: str, visibility: str = "public") -> Any:
    from lets_site.partners.models import Partner

    partner = Partner(slug=slug, name=name, name_key=name.casefold(), visibility=visibility)
    db.session.add(partner)
    db.session.commit()
    return partner


def test_event_links_its_partners_and_the_partner_page_lists_its_events(
        client: Any, organiser: Any) -> None:
    partner = _partner("Vormingplus", "vormingplus")
    coming = make_event(organiser, title="Film night", partner_ids=(partner.id,))
    make_event(organiser, days=-30, title="Old film", partner_ids=(partner.id,))
    make_event(organiser, title="Not theirs")
    page = client.get(f"/events/{coming.id}")
    assert '<a href="/partners/vormingplus">Vormingplus</a>' in page.get_data(as_text=True)
    panel = select_text(client.get("/partners/vormingplus"), "#partner-events")
    assert "Film night" in panel and "Old film" in panel and "Not theirs" not in panel
    listed = main_text(client.get("/events/?partner=vormingplus"))
    assert "Film night" in listed and "Not theirs" not in listed


def test_members_only_partner_is_not_linked_for_visitors(client: Any, organiser: Any) -> None:
    partner = _partner("Quiet partner", "quiet", visibility="members")
    event = make_event(organiser, partner_ids=(partner.id,))
    assert "/partners/quiet" not in client.get(f"/events/{event.id}").get_data(as_text=True)


def test_organiser_picks_partners_in_the_form(client: Any, auth: Any, organiser: Any) -> None:
    partner = _partner("BMLIK", "bmlik")
    _login(auth, organiser)
    response = client.post_form("/events/new", _form(partners=str(partner.id)))
    assert response.status_code == 303
    event = db.session.query(Event).one()
    assert [link.partner_id for link in event.partner_links] == [partner.id]
    body = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert re.search(rf'value="{partner.id}"[^>]*checked|checked[^>]*value="{partner.id}"', body)


def test_a_series_is_new_on_the_site_once_with_its_first_occurrence(client: Any,
                                                                     organiser: Any) -> None:
    from datetime import time

    first_day = date.today() + timedelta(days=4)
    first = services.create_event(organiser, services.EventData(
        title="Repair café", start_date=first_day, start_time=time(19, 30)), "weekly", 5)
    make_event(organiser, days=6, title="Walk in the dunes")
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    new = page[page.index('id="new-on-the-site"'):]
    new = new[:new.index("</section>")]
    # Five occurrences, one line: the soonest, linking to the first date's page.
    assert new.count("Repair café") == 1
    assert f'href="/events/{first.id}"' in new
    assert "Walk in the dunes" in new
