"""/agenda.ics answers a conditional GET cheaply: its ETag comes from a fingerprint of the
rows it would show, read before anything is built, and moves with every change of what
the body shows (docs/federation.md, "The common agenda")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lets_site.extensions import db
from lets_site.federation import views
from lets_site.settings import SiteSettings, forget
from tests.federation import feeds
from tests.federation.test_agenda import _event, _group
from tests.federation.test_agenda_ical import NOW, _events, _update
from tests.queries import counted

URL = "/agenda.ics"
EN = {"Accept-Language": "en"}


def _ieper() -> list[dict[str, Any]]:
    items = [_event("ieper", "market", "2027-05-01T10:00:00+02:00", kind="market"),
             _event("ieper", "film", "2027-05-02T20:00:00+02:00", kind="film")]
    _group("ieper", items)
    return items


def _get(client: Any, url: str = URL, **headers: str) -> Any:
    return client.get(url, headers={**EN, **headers})


def _changed_after(client: Any, change: Any, url: str = URL) -> Any:
    """The ETag before ``change`` no longer matches after it: a 200 with a new ETag."""
    etag = _get(client, url).headers["ETag"]
    assert _get(client, url, **{"If-None-Match": etag}).status_code == 304
    change()
    response = _get(client, url, **{"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag
    return response


def test_a_matching_conditional_get_answers_304_without_reading_an_event(
        client: Any) -> None:
    _ieper()
    first = _get(client)
    assert first.status_code == 200 and first.headers["ETag"]
    assert "Last-Modified" not in first.headers  # an event ending stamps nothing
    assert {"Accept-Language", "Cookie"} <= set(first.vary)
    with counted() as statements:
        again = _get(client, **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    queries = [s for s in statements if "SAVEPOINT" not in s]
    # The followed feeds and the shown rows' ids, revisions and merge times: no more.
    assert len(queries) <= 3, queries
    assert not [s for s in queries if "content_text" in s or ".data" in s], queries


def test_two_exports_without_a_change_share_body_and_etag(client: Any) -> None:
    _ieper()
    first, second = _get(client), _get(client)
    assert first.get_data() == second.get_data()
    assert first.headers["ETag"] == second.headers["ETag"]


def test_a_new_event_changes_the_etag(client: Any) -> None:
    items = _ieper()
    added = _event("ieper", "swap", "2027-06-01T10:00:00+02:00")
    response = _changed_after(client, lambda: _update("ieper", [*items, added], NOW))
    assert "swap" in _events(response.get_data())


def test_a_revision_merged_at_the_same_moment_changes_the_etag(client: Any) -> None:
    items = _ieper()
    items[1]["_lets"]["revision"] = 2
    items[1]["title"] = "film, now with soup"
    # The same merge time as before: only the revision tells the change.
    response = _changed_after(client, lambda: _update("ieper", items, NOW))
    assert "film, now with soup" in _events(response.get_data())


def test_a_tombstone_changes_the_etag(client: Any) -> None:
    items = _ieper()
    gone = feeds.tombstone("https://ieper.example", "film", 2)
    response = _changed_after(client, lambda: _update("ieper", [items[0], gone], NOW))
    assert list(_events(response.get_data())) == ["market"]


def test_an_event_ending_between_two_requests_changes_the_etag(
        client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _ieper()
    # The market (10:00-12:00 in Brussels, no end: it ends when it starts) leaves the
    # calendar a week after it started; nothing is written to the database meanwhile.
    left = datetime(2027, 5, 1, 8, 0, tzinfo=UTC) + timedelta(days=7)
    monkeypatch.setattr(views, "utcnow", lambda: left - timedelta(seconds=1))
    etag = _get(client).headers["ETag"]
    assert list(_events(_get(client).get_data())) == ["market", "film"]
    monkeypatch.setattr(views, "utcnow", lambda: left)
    response = _get(client, **{"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag
    assert list(_events(response.get_data())) == ["film"]


def test_a_filter_in_the_url_has_its_own_etag(client: Any) -> None:
    items = _ieper()
    everything = _get(client)
    markets = _get(client, f"{URL}?kind=market")
    assert markets.headers["ETag"] != everything.headers["ETag"]
    assert _get(client, f"{URL}?kind=market",
                **{"If-None-Match": everything.headers["ETag"]}).status_code == 200
    # A change the filter leaves out does not move the filtered calendar's ETag.
    etag = markets.headers["ETag"]
    added = _event("ieper", "another film", "2027-06-01T20:00:00+02:00", kind="film")
    _update("ieper", [*items, added], NOW)
    assert _get(client, f"{URL}?kind=market", **{"If-None-Match": etag}).status_code == 304
    assert _get(client, **{"If-None-Match": everything.headers["ETag"]}).status_code == 200


def _site_zone(name: str) -> None:
    site = db.session.get(SiteSettings, 1)
    if site is None:
        site = SiteSettings(id=1)
        db.session.add(site)
    site.timezone = name
    db.session.commit()
    forget()


def test_the_sites_zone_moves_the_etag_when_it_changes_the_days(client: Any) -> None:
    # 23:30 UTC on 1 May: still 1 May in UTC, already 2 May in Brussels and London.
    _group("ieper", [_event("ieper", "late", "2027-05-02T00:30:00+01:00",
                            zone="Europe/London")])
    _site_zone("Europe/Brussels")
    until = f"{URL}?end=2027-05-01"
    brussels = _get(client, until)
    unfiltered = _get(client)
    assert _events(brussels.get_data()) == {}
    _site_zone("UTC")
    utc = _get(client, until, **{"If-None-Match": brussels.headers["ETag"]})
    assert utc.status_code == 200 and list(_events(utc.get_data())) == ["late"]
    # Without a day in the URL the zone selects the same event and writes the same body.
    same = _get(client, **{"If-None-Match": unfiltered.headers["ETag"]})
    assert same.status_code == 304


def test_the_readers_language_has_its_own_etag(client: Any) -> None:
    _ieper()
    english = _get(client)
    dutch = client.get(URL, headers={"Accept-Language": "nl"})
    assert english.get_data() != dutch.get_data()  # the calendar's name and the kinds
    assert english.headers["ETag"] != dutch.headers["ETag"]
    again = client.get(URL, headers={"Accept-Language": "nl",
                                     "If-None-Match": english.headers["ETag"]})
    assert again.status_code == 200 and again.get_data() == dutch.get_data()
