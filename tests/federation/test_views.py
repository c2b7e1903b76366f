"""The admin pages of the followed feeds and the registry commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from lets_site.extensions import db
from lets_site.federation import services
from lets_site.federation.fetch import Response
from lets_site.federation.models import Decision, Feed, Status
from tests.federation import feeds
from tests.html import main_text, select_text

BASE = "https://ieper.example"
URL = BASE + "/feed.json"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
EN = {"Accept-Language": "en"}


def _admin(make_admin: Any, auth: Any) -> Any:
    admin = make_admin(locale="en")
    auth.login(admin.account_code)
    return admin


def _fetched(items: list[dict[str, Any]], moved_to: str | None = None) -> Feed:
    feed = services.add_feed(None, "ieper", URL)
    feed.next_fetch_at = NOW
    claim = services.claim("t", NOW, NOW, 60)
    assert claim is not None
    body = json.dumps(feeds.feed(BASE, "ieper", items)).encode()
    services.record(claim, "t", NOW, NOW, Response(200, URL, {}, body, len(body),
                                                   moved_to=moved_to), 12,
                    services.Schedule())
    db.session.commit()
    return feed


def test_admin_follows_a_feed_through_the_form(client: Any, auth: Any,
                                               make_admin: Any) -> None:
    _admin(make_admin, auth)
    response = client.post_form("/admin/federation", {"slug": "ieper", "feed_url": URL},
                                headers=EN)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/federation/ieper")
    assert db.session.scalar(select(Feed.feed_url).where(Feed.slug == "ieper")) == URL
    page = client.get("/admin/federation", headers=EN)
    assert "ieper" in select_text(page, "#federation-feeds")


def test_add_form_shows_the_refusal_on_the_field(client: Any, auth: Any,
                                                 make_admin: Any) -> None:
    _admin(make_admin, auth)
    page = client.post_form("/admin/federation", {"slug": "ieper",
                                                  "feed_url": "javascript:alert(1)"},
                            headers=EN)
    assert page.status_code == 200
    assert "full http or https address" in main_text(page)
    assert db.session.scalars(select(Feed)).all() == []


def test_detail_shows_fetches_dropped_items_and_decisions(client: Any, auth: Any,
                                                          make_admin: Any) -> None:
    _admin(make_admin, auth)
    bad = feeds.offer(BASE, 2, url="https://evil.example/2")
    _fetched([feeds.offer(BASE, 1), bad], moved_to=BASE + "/v2/feed.json")
    page = client.get("/admin/federation/ieper", headers=EN)
    log = select_text(page, "#federation-log")
    assert "ok" in log and "200" in log and "1 new" in log
    dropped = select_text(page, "#federation-dropped")
    assert feeds.item_id(2) in dropped and "not on the group's own site" in dropped
    assert "https://ieper.example/v2/feed.json" in select_text(page, "#federation-decisions")


def test_admin_accepts_a_moved_url_with_a_post(client: Any, auth: Any,
                                               make_admin: Any) -> None:
    _admin(make_admin, auth)
    feed = _fetched([feeds.offer(BASE, 1)], moved_to=BASE + "/v2/feed.json")
    decision = db.session.scalar(select(Decision))
    assert decision is not None
    assert client.get(f"/admin/federation/decisions/{decision.id}/accept").status_code == 405
    response = client.post_form(f"/admin/federation/decisions/{decision.id}/accept",
                                headers=EN)
    assert response.status_code == 303
    db.session.refresh(feed)
    assert feed.feed_url == BASE + "/v2/feed.json"
    assert db.session.scalar(select(Decision)) is None


def test_admin_refuses_a_mass_deletion(client: Any, auth: Any, make_admin: Any) -> None:
    _admin(make_admin, auth)
    feed = _fetched([feeds.offer(BASE, n) for n in range(12)])
    services.merge(feed, services.parse.parse(
        json.dumps(feeds.feed(BASE, "ieper", [])).encode(), URL, "ieper", NOW), NOW)
    db.session.commit()
    decision = db.session.scalar(select(Decision))
    assert decision is not None and decision.kind == "mass_delete"
    assert "12 items vanished" in select_text(client.get("/admin/federation/ieper",
                                                         headers=EN), "#federation-decisions")
    client.post_form(f"/admin/federation/decisions/{decision.id}/refuse", headers=EN)
    db.session.refresh(decision)
    assert decision.refused
    assert services.item_counts()[feed.id] == 12


def test_pause_resume_and_remove(client: Any, auth: Any, make_admin: Any) -> None:
    _admin(make_admin, auth)
    feed = services.add_feed(None, "ieper", URL)
    db.session.commit()
    client.post_form("/admin/federation/ieper/pause", headers=EN)
    db.session.refresh(feed)
    assert feed.status == Status.PAUSED
    client.post_form("/admin/federation/ieper/resume", headers=EN)
    db.session.refresh(feed)
    assert feed.status == Status.ACTIVE
    assert client.post_form("/admin/federation/nobody/pause").status_code == 404
    assert client.post_form("/admin/federation/ieper/remove").status_code == 303
    assert db.session.scalars(select(Feed)).all() == []


def test_members_cannot_post_decisions(client: Any, auth: Any, make_member: Any) -> None:
    feed = _fetched([feeds.offer(BASE, 1)], moved_to=BASE + "/v2/feed.json")
    member = make_member()
    auth.login(member.account_code)
    decision = db.session.scalar(select(Decision))
    assert decision is not None
    assert client.post_form(f"/admin/federation/decisions/{decision.id}/accept"
                            ).status_code == 403
    assert client.post_form("/admin/federation/ieper/remove").status_code == 403
    db.session.refresh(feed)
    assert feed.feed_url == URL


def test_cli_add_list_remove(app: Any, runner: Any) -> None:
    result = runner.invoke(args=["federation", "add", "ieper", URL])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["federation", "add", "ieper", URL])
    assert again.exit_code != 0 and "already" in again.output
    listing = runner.invoke(args=["federation", "list"])
    assert "ieper\tactive\tnew\t0" in listing.output and URL in listing.output
    assert runner.invoke(args=["federation", "remove", "ieper"]).exit_code == 0
    assert runner.invoke(args=["federation", "list"]).output == ""
    assert runner.invoke(args=["federation", "remove", "ieper"]).exit_code != 0
