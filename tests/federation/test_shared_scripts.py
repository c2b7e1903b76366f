"""The contact scripts followed groups share: fetched by the sweep from real servers on
127.0.0.1 (the same guarded fetcher), checked script by script, kept through failures,
removed when the group stops sharing them; and a live group site end to end."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from lets_site import create_app
from lets_site.extensions import db
from lets_site.federation import parse, scripts, services, sweep
from lets_site.federation.models import Feed, FetchLog, ScriptSource, SharedScript
from lets_site.partners import services as partners
from lets_site.partners.models import ContactScript
from tests import factories
from tests.conftest import app_config
from tests.federation import feeds
from tests.federation.servers import FeedServer, feed_server, send

pytestmark = pytest.mark.real_commits

START = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves on: each sweep finds the feed due again."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def next_sweep(self) -> None:
        self.now += timedelta(hours=1)


@pytest.fixture
def fed(app: Flask) -> Flask:
    app.config.update(FEDERATION_ALLOW_HTTP=True, ALLOWED_PRIVATE_NETWORKS=["127.0.0.0/8"],
                      FEDERATION_DEADLINE=2, FEDERATION_READ_TIMEOUT=2,
                      FEDERATION_CONNECT_TIMEOUT=2, FEDERATION_INTERVAL_SECONDS=60)
    return app


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as running:
        yield running


def script(title: str, language: str = "nl", body: str = "Beste {contact_name}",
           subject: str = "Kennismaking met {group_name}") -> dict[str, Any]:
    return {"title": title, "language": language, "subject": subject, "body": body}


def document(*entries: dict[str, Any], **top: Any) -> bytes:
    return json.dumps({"format": "lets-site-contact-scripts", "version": 1,
                       "group": "LETS Oostende", "scripts": list(entries), **top}).encode()


class Group:
    """A group on the test server: its feed (linking the scripts while ``link``) and its
    scripts document, answered as the test sets ``doc`` (bytes, or a status code), with
    an ETag and 304 for a matching If-None-Match."""

    def __init__(self, server: FeedServer, slug: str = "oostende") -> None:
        self.server, self.slug = server, slug
        self.base = server.base + f"/{slug}"
        self.scripts_path = f"/{slug}/partners/scripts/shared.json"
        self.link = True
        self.feed_status = 200
        self.doc: bytes | int = document()
        feed = services.add_feed(None, slug, server.url(f"/{slug}/feed.json"))
        feed.next_fetch_at = START - timedelta(minutes=1)
        db.session.commit()
        server.routes[f"/{slug}/feed.json"] = self._feed
        server.routes[self.scripts_path] = self._scripts

    def _feed(self, h: BaseHTTPRequestHandler) -> None:
        if self.feed_status != 200:
            send(h, self.feed_status, b"down", "text/plain")
            return
        body = feeds.feed(self.base, self.slug, [feeds.offer(self.base, 1)])
        if self.link:
            body["_lets"]["group"]["contact_scripts"] = self.server.url(self.scripts_path)
        send(h, 200, json.dumps(body).encode())

    def _scripts(self, h: BaseHTTPRequestHandler) -> None:
        if isinstance(self.doc, int):
            send(h, self.doc, b"no", "text/plain")
            return
        etag = '"' + str(hash(self.doc)) + '"'
        if h.headers.get("If-None-Match") == etag:
            send(h, 304, b"", headers={"ETag": etag})
            return
        send(h, 200, self.doc, "application/json", {"ETag": etag})

    @property
    def fetches(self) -> int:
        return self.server.requests[self.scripts_path]


def held() -> dict[tuple[str, str], SharedScript]:
    db.session.rollback()
    return {(row.language, row.title): row for row in db.session.scalars(select(SharedScript))}


def last_log() -> FetchLog:
    db.session.rollback()
    return db.session.scalars(select(FetchLog).order_by(FetchLog.id.desc()).limit(1)).one()


def sweep_once(app: Flask, clock: Clock) -> dict[str, int]:
    clock.next_sweep()
    return dict(sweep.run(app, workers=1, clock=clock).outcomes)


def test_shared_scripts_are_fetched_kept_through_failures_and_removed_at_the_source(
        fed: Flask, server: FeedServer) -> None:
    group, clock = Group(server), Clock()
    group.doc = document(script("Kennismaking"), script("Premier contact", "fr"))
    assert sweep_once(fed, clock) == {"ok": 1}
    first = held()
    assert set(first) == {("nl", "Kennismaking"), ("fr", "Premier contact")}
    ids = {key: row.id for key, row in first.items()}
    assert last_log().outcome == "scripts_ok"

    # The next sweep asks with the ETag: 304, nothing changes.
    assert sweep_once(fed, clock) == {"unchanged": 1}  # the feed: the same body
    assert server.headers[group.scripts_path]["if-none-match"]
    assert last_log().outcome == "scripts_not_modified"
    assert {key: row.id for key, row in held().items()} == ids

    # The group stops sharing the French one, but its server fails: nothing is deleted.
    for failure, outcome in ((500, "scripts_error"),
                             (b"x" * (scripts.MAX_BYTES + 1), "scripts_error"),
                             (b'{"format": "something-else", "version": 1}',
                              "scripts_invalid"),
                             (b"{not json", "scripts_invalid")):
        group.doc = failure
        sweep_once(fed, clock)
        log = last_log()
        assert log.outcome == outcome, log.message
        assert set(held()) == set(first)
    assert "too_large" in db.session.scalar(select(FetchLog.message).where(
        FetchLog.message.like("%too_large%")))

    # A failed fetch of the feed itself leaves the scripts alone and does not fetch them.
    group.doc = document(script("Kennismaking", body="Dag {contact_name}"))
    group.feed_status = 503
    before = group.fetches
    sweep_once(fed, clock)
    assert group.fetches == before and set(held()) == set(first)

    # The next good fetch: the French script goes, the Dutch one keeps its id, changed.
    group.feed_status = 200
    sweep_once(fed, clock)
    now = held()
    assert set(now) == {("nl", "Kennismaking")}
    assert now[("nl", "Kennismaking")].id == ids[("nl", "Kennismaking")]
    assert now[("nl", "Kennismaking")].body == "Dag {contact_name}"
    assert "1 held (0 new, 1 changed, 1 removed)" in last_log().message

    # The feed no longer links any scripts: the group shares none any more.
    group.link = False
    before = group.fetches
    sweep_once(fed, clock)
    assert held() == {} and group.fetches == before
    assert db.session.scalar(select(ScriptSource)) is None


def test_bad_scripts_are_dropped_one_by_one_with_their_reason(fed: Flask,
                                                              server: FeedServer) -> None:
    group, clock = Group(server), Clock()
    group.doc = document(
        script("Goed"),
        {"title": "Zonder taal", "subject": "S", "body": "B"},
        script("Duits", "de"),
        script("T" * 121),
        script("GOED"),  # the same title in the same language, in other letters
        script("Leeg", body="   "),
        "not an object",
    )
    sweep_once(fed, clock)
    assert set(held()) == {("nl", "Goed")}
    log = last_log()
    reasons = dict(log.dropped_items)
    assert reasons == {
        "script 2 (Zonder taal)": "language is not one of nl, fr, en",
        "script 3 (Duits)": "language is not one of nl, fr, en",
        f"script 4 ({'T' * 80})": "title is longer than 120 characters",
        "script 5 (GOED)": "the title appears twice in this language",
        "script 6 (Leeg)": "body is empty",
        "script 7": "not an object",
    }
    assert "6 dropped" in log.message and "body is empty" in log.message


def test_removing_a_followed_group_removes_its_scripts(fed: Flask, server: FeedServer) -> None:
    group, clock = Group(server), Clock()
    group.doc = document(script("Kennismaking"))
    sweep_once(fed, clock)
    assert held()
    services.remove_feed(None, "oostende")
    db.session.commit()
    assert held() == {} and db.session.scalar(select(ScriptSource)) is None


def test_a_document_is_read_strictly() -> None:
    too_many = document(*[script(f"S{n}") for n in range(scripts.MAX_SCRIPTS + 1)])
    for body, reason in ((b"[]", "not a lets-site-contact-scripts document"),
                         (document(version=2), "version 2 is not 1"),
                         (b'{"format": "lets-site-contact-scripts", "format": "x"}',
                          "twice"),
                         (json.dumps({"format": "lets-site-contact-scripts", "version": 1,
                                      "scripts": {}}).encode(), "scripts is not a list"),
                         (too_many, f"more than {scripts.MAX_SCRIPTS} scripts")):
        with pytest.raises(scripts.DocumentInvalid, match=reason):
            scripts.parse_document(body)
    exactly = document(*[script(f"S{n}") for n in range(scripts.MAX_SCRIPTS)])
    assert len(scripts.parse_document(exactly).scripts) == scripts.MAX_SCRIPTS


def test_a_scripts_link_off_the_groups_own_site_is_dropped() -> None:
    base = "https://oostende.example"
    for link, kept in ((f"{base}/partners/scripts/shared.json", True),
                       ("https://elsewhere.example/shared.json", False),
                       ("http://oostende.example/partners/scripts/shared.json", False),
                       ("javascript:alert(1)", False)):
        body = feeds.feed(base, "oostende")
        body["_lets"]["group"]["contact_scripts"] = link
        parsed = parse.parse(json.dumps(body).encode(), base + "/feed.json", "oostende",
                             START)
        assert ("contact_scripts" in parsed.group) is kept, link
        assert bool(parsed.dropped) is not kept


# --- A live group site ----------------------------------------------------------------------


@pytest.fixture
def group_site(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@pytest.fixture
def aggregator(tmp_path: Path) -> Iterator[Flask]:
    config = app_config(tmp_path, f"sqlite:///{tmp_path / 'aggregator.sqlite3'}")
    other = create_app({**config, "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.1/32"],
                        "FEDERATION_ALLOW_HTTP": True, "FEDERATION_WORKERS": 1})
    with other.app_context():
        db.create_all()
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_live_group_shares_only_what_it_ticked_and_another_site_imports_it(
        app: Flask, group_site: str, aggregator: Flask) -> None:
    admin = factories.make_admin(display_name="Ada Admin")
    partners.set_script_values(admin, "Onze geheime zaal", "Dinsdag 19u30 in De Kring")
    partners.create_script(admin, partners.ScriptData(
        title="Intern", language="nl", subject="Alleen voor ons", body="Niet delen"))
    partners.create_script(admin, partners.ScriptData(
        title="Eerste kennismaking", language="nl", subject="Kennismaking met {group_name}",
        body="Beste {contact_name}, wij bieden {our_offer}. {next_intro_evening}",
        shared=True))
    db.session.commit()

    with aggregator.app_context():
        services.add_feed(None, "lets", f"{group_site}/feed.json")
        db.session.commit()
    assert dict(sweep.run(aggregator).outcomes) == {"ok": 1}

    with aggregator.app_context():
        rows = list(db.session.scalars(select(SharedScript)))
        assert [(r.title, r.body) for r in rows] == [
            ("Eerste kennismaking",
             "Beste {contact_name}, wij bieden {our_offer}. {next_intro_evening}")]
        stored = json.dumps([(r.title, r.subject, r.body) for r in rows])
        feed = db.session.scalars(select(Feed)).one()
        for secret in ("Intern", "Niet delen", "geheime", "De Kring"):
            assert secret not in stored and secret not in feed.group_info
        # One click on the other site: a copy of its own, not shared on.
        coordinator = factories.make_admin(display_name="Otto Oostende")
        copy = partners.import_shared(coordinator, str(rows[0].id))
        db.session.commit()
        assert (copy.title, copy.shared) == ("Eerste kennismaking", False)
        assert db.session.scalar(select(ContactScript.body)) == rows[0].body
