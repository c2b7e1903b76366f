"""The e-mail digest: what arrives at a real SMTP server, in whose language, with which
links and headers; once per period, also after a crash and a rerun."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from lets_site.database import utcnow
from lets_site.digests import commands, services
from lets_site.digests.models import DigestPreference, DigestSent, Frequency
from lets_site.extensions import db
from lets_site.members.models import Status
from lets_site.offers.models import ListingVisibility
from tests.digests.conftest import Collector, html_of, text_of
from tests.offers.conftest import make_listing


def _path(url: str) -> str:
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "lets.example", url
    return parts.path


def _unsubscribe_url(message: Any) -> str:
    header = message["List-Unsubscribe"]
    assert header.startswith("<") and header.endswith(">")
    return header[1:-1]


def test_digest_arrives_in_the_members_language_grouped_by_kind(
        app: Any, smtp: Collector, make_member: Any) -> None:
    owner = make_member(display_name="Olaf")
    make_member(email="nl@example.org", locale="nl", full_name="Nele Dutch")
    make_member(email="en@example.org", locale="en", full_name="Ed English")
    make_listing(owner, "Fietsherstelling")
    make_listing(owner, "Ladder gezocht", kind="want")
    report = commands.send_all()
    assert report["queued"] == 3  # the owner gets one too: it is new for them as well
    (dutch,) = smtp.to("nl@example.org")
    (english,) = smtp.to("en@example.org")
    assert text_of(dutch).startswith("Dag Nele Dutch,")
    body = text_of(english)
    assert body.startswith("Hello Ed English,")
    # One heading per kind, from the label its feature declares, offers before wants.
    assert "== Offers (1) ==" in body and "== Wants (1) ==" in body
    assert body.index("== Offers") < body.index("Fietsherstelling") < body.index("== Wants")
    assert body.index("== Wants") < body.index("Ladder gezocht")
    assert "https://lets.example/offers/" in body
    assert english["Subject"] == "New at LETS"


def test_digest_has_a_light_html_part_and_one_click_unsubscribe_headers(
        app: Any, smtp: Collector, make_member: Any) -> None:
    owner = make_member()
    reader = make_member(email="r@example.org", locale="en")
    make_listing(owner, "Soep <koken> & meer")
    commands.send_all()
    (message,) = smtp.to("r@example.org")
    assert message.get_content_type() == "multipart/alternative"
    html = html_of(message)
    assert "Soep &lt;koken&gt; &amp; meer" in html  # escaped, not markup
    assert 'name="viewport"' in html and 'style="' in html
    for external in ("<img", "<link", "<script", "<style", "http://"):
        assert external not in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = _unsubscribe_url(message)
    token = _path(unsubscribe).rsplit("/", 1)[1]
    assert services.member_for_token(token).id == reader.id
    assert _path(unsubscribe) in text_of(message)  # the same page is linked in the text


def test_one_click_post_unsubscribes_without_login_or_csrf_and_get_changes_nothing(
        app: Any, smtp: Collector, client: Any, make_member: Any) -> None:
    owner = make_member()
    reader = make_member(email="r@example.org", locale="en")
    make_listing(owner, "Fietsherstelling")
    commands.send_all()
    (message,) = smtp.to("r@example.org")
    path = _path(_unsubscribe_url(message))

    page = client.get(path)
    assert page.status_code == 200
    assert re.search(r'<input checked[^>]*value="weekly"', page.get_data(as_text=True))
    assert db.session.get(DigestPreference, reader.id).frequency is None  # GET: no change

    # RFC 8058: the mail client posts this body, with no cookie and no CSRF token.
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Unsubscribed" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(DigestPreference, reader.id).frequency == Frequency.NEVER

    # Next week something new: the member who stayed gets it, the one who left does not.
    stayed = make_member(email="s@example.org")
    next_week = utcnow() + timedelta(days=8)
    make_listing(owner, "Nog iets nieuws", created_at=next_week - timedelta(hours=1))
    assert services.queue_digest(db.session.get(type(reader), reader.id), next_week) is None
    assert services.queue_digest(stayed, next_week) is not None
    db.session.commit()
    assert len(smtp.to("r@example.org")) == 1
    assert len(smtp.to("s@example.org")) == 1


def test_the_links_page_changes_the_frequency_without_login(
        app: Any, client: Any, make_member: Any) -> None:
    reader = make_member(locale="en")
    path = _path_of(app, services.manage_url(reader))
    token = path.rsplit("/", 1)[1]
    response = client.post_form(f"/digest/preferences/{token}", {"frequency": "monthly"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(path)
    db.session.rollback()
    assert services.frequency_of(db.session.get(type(reader), reader.id)) == "monthly"
    # Without the CSRF token this form is refused (only the one-click POST is exempt).
    refused = client.post(f"/digest/preferences/{token}", data={"frequency": "never"})
    assert refused.status_code == 400
    db.session.rollback()
    assert db.session.get(DigestPreference, reader.id).frequency == "monthly"


def _path_of(app: Any, url: str) -> str:
    base = app.config["BASE_URL"].rstrip("/")
    assert url.startswith(base + "/"), url
    return url[len(base):]


@pytest.mark.parametrize("tamper", ["change", "revoke", "other_purpose"])
def test_a_tampered_or_revoked_link_is_refused_with_a_clear_page(
        app: Any, client: Any, make_member: Any, tamper: str) -> None:
    reader = make_member(locale="en")
    token = services.make_token(reader)
    if tamper == "change":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif tamper == "revoke":
        services.revoke_links(reader)
        db.session.commit()
    else:  # signed with the site's key for another purpose
        from itsdangerous import URLSafeSerializer
        token = URLSafeSerializer(app.config["SECRET_KEY"], salt="lets-site.digest").dumps(
            {"m": reader.id, "p": "renewal", "v": 0})
    for response in (client.get(f"/digest/unsubscribe/{token}"),
                     client.post(f"/digest/unsubscribe/{token}")):
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert "This link does not work" in text and "not valid" in text
    db.session.rollback()
    pref = db.session.get(DigestPreference, reader.id)
    assert pref is None or pref.frequency is None


def test_a_crash_half_way_never_sends_a_digest_twice_and_a_rerun_finishes(
        app: Any, smtp: Collector, make_member: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = make_member(email=None)
    readers = [make_member(email=f"m{i}@example.org") for i in range(6)]
    make_listing(owner, "Fietsherstelling")
    real = services.mail_to
    calls = {"n": 0}

    def crash_at_the_fourth(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        real(*args, **kwargs)  # queued in the fourth member's transaction, then:
        if calls["n"] == 4:
            raise KeyboardInterrupt("the machine went down")

    monkeypatch.setattr(services, "mail_to", crash_at_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        commands.send_all(batch=2)
    db.session.rollback()
    # The first batch of two committed (and was sent); the second died with the machine.
    assert len(smtp.messages) == 2
    monkeypatch.setattr(services, "mail_to", real)
    assert commands.send_all(batch=2) == {"queued": 4, "skipped": 2}
    assert commands.send_all(batch=2) == {"queued": 0, "skipped": 6}  # and again: nothing
    for reader in readers:
        assert len(smtp.to(reader.email)) == 1, reader.email
    assert db.session.scalar(select(func.count()).select_from(DigestSent)) == 6


def test_the_unique_row_refuses_a_second_digest_for_the_period(
        app: Any, make_member: Any) -> None:
    from sqlalchemy.exc import IntegrityError
    reader = make_member()
    db.session.add(DigestSent(member_id=reader.id, period="2026-W49", items=1))
    db.session.commit()
    db.session.add(DigestSent(member_id=reader.id, period="2026-W49", items=2))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_no_digest_when_nothing_is_new_and_the_next_one_carries_only_what_is_newer(
        app: Any, smtp: Collector, make_member: Any) -> None:
    owner = make_member(email=None)
    reader = make_member(email="r@example.org", locale="en")
    # Older than a week: not new for a first weekly digest.
    make_listing(owner, "Oude ladder", created_at=utcnow() - timedelta(days=8))
    assert commands.send_all()["queued"] == 0
    assert smtp.messages == []
    make_listing(owner, "Verse soep", created_at=utcnow() - timedelta(days=6))
    commands.send_all()
    (first,) = smtp.to("r@example.org")
    assert "Verse soep" in text_of(first) and "Oude ladder" not in text_of(first)
    # Next week: the one made since the last digest, not the soup again.
    later = utcnow() + timedelta(days=7)
    make_listing(owner, "Nieuwe fiets", created_at=later - timedelta(days=1))
    db.session.commit()
    services.queue_digest(db.session.get(type(reader), reader.id), later)
    db.session.commit()
    second = smtp.to("r@example.org")[1]
    assert "Nieuwe fiets" in text_of(second) and "Verse soep" not in text_of(second)


def test_members_only_items_reach_members_and_inactive_members_get_nothing(
        app: Any, smtp: Collector, make_member: Any) -> None:
    owner = make_member(email=None)
    make_member(email="gone@example.org", status=Status.INACTIVE)
    make_member(email="r@example.org", locale="en")
    make_listing(owner, "Voor leden", visibility=ListingVisibility.MEMBERS)
    commands.send_all()
    (message,) = smtp.messages
    assert message["To"] == "r@example.org" and "Voor leden" in text_of(message)


def test_frequency_follows_the_groups_default_until_the_member_chooses(
        app: Any, smtp: Collector, make_member: Any, make_admin: Any) -> None:
    admin = make_admin(email=None)
    owner = make_member(email=None)
    chooser = make_member(email="c@example.org")
    make_member(email="d@example.org")
    services.set_default_frequency(admin, Frequency.NEVER)
    services.set_frequency(chooser, Frequency.MONTHLY, actor=chooser)
    db.session.commit()
    make_listing(owner, "Fietsherstelling")
    commands.send_all()
    assert [m["To"] for m in smtp.messages] == ["c@example.org"]
    assert db.session.scalar(select(DigestSent.period)) == services.period_of(
        "monthly", utcnow())


def test_periods_are_iso_weeks_and_months_in_the_groups_zone(app: Any) -> None:
    from datetime import UTC, datetime
    # Sunday 23:30 UTC is already Monday in Brussels: the next ISO week there.
    sunday = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    assert services.period_of("weekly", sunday) == "2026-W50"
    assert services.period_of("weekly", sunday - timedelta(hours=1)) == "2026-W49"
    assert services.period_of("monthly", datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == "2026-12"


def test_a_member_changes_their_digest_on_their_profile_but_not_someone_elses(
        app: Any, client: Any, auth: Any, make_member: Any) -> None:
    me = make_member(locale="en")
    other = make_member(locale="en")
    auth.login(me.account_code)
    page = client.get(f"/members/{me.account_code}").get_data(as_text=True)
    assert 'id="profile-digest"' in page
    assert 'id="profile-digest"' not in client.get(
        f"/members/{other.account_code}").get_data(as_text=True)
    response = client.post_form(f"/digest/member/{me.id}", {"frequency": "monthly"})
    assert response.status_code == 303
    assert client.post_form(f"/digest/member/{other.id}",
                            {"frequency": "never"}).status_code == 403
    db.session.rollback()
    assert db.session.get(DigestPreference, me.id).frequency == "monthly"
    assert db.session.get(DigestPreference, other.id) is None


def test_an_events_start_is_written_in_the_readers_language_and_the_groups_zone(
        app: Any, smtp: Collector, make_member: Any) -> None:
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime

    from tests.events.conftest import make_event, make_organiser
    event = make_event(make_organiser(email=None), days=10, title="Ruilmarkt")
    make_member(email="nl@example.org", locale="nl")
    make_member(email="fr@example.org", locale="fr")
    commands.send_all()
    zone = ZoneInfo("Europe/Brussels")
    for lang in ("nl", "fr"):
        (message,) = smtp.to(f"{lang}@example.org")
        when = format_datetime(event.starts_at, "medium", tzinfo=zone, locale=lang)
        assert f"Ruilmarkt ({when})" in text_of(message)
        assert "19:30" in when


def test_an_admins_change_of_someone_elses_digest_and_of_the_default_is_audited(
        app: Any, make_member: Any, make_admin: Any) -> None:
    from lets_site.audit.models import AuditEntry
    admin = make_admin()
    member = make_member(email=None)
    services.set_frequency(member, Frequency.MONTHLY, actor=admin)
    services.set_frequency(admin, Frequency.NEVER, actor=admin)  # their own: no entry
    services.set_default_frequency(admin, Frequency.MONTHLY)
    db.session.commit()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.target_id) for e in entries] == [
        ("digest.member", member.account_code), ("digest.default", "default")]


def test_no_digest_to_an_address_a_server_refused_until_it_changes(
        app: Any, smtp: Collector, make_member: Any, make_admin: Any) -> None:
    from lets_site.members import services as members
    from lets_site.notifications.models import AddressFlag

    owner = make_member(email=None)
    admin = make_admin()
    reader = make_member(email="r@example.org", locale="en")
    make_listing(owner, "Verse soep")
    db.session.add(AddressFlag(member_id=reader.id, address="r@example.org", reason="550"))
    db.session.commit()
    commands.send_all()
    assert smtp.to("r@example.org") == []
    assert db.session.scalar(select(func.count()).select_from(DigestSent)
                             .where(DigestSent.member_id == reader.id)) == 0
    members.update_profile(admin, reader, members.ProfileData(
        display_name=reader.display_name, full_name=reader.full_name,
        email="new@example.org"))
    db.session.commit()
    commands.send_all()
    (message,) = smtp.to("new@example.org")
    assert "Verse soep" in text_of(message)
