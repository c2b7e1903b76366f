"""The hub pages: the directory of groups, cross-group search and the merged feed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import select

from lets_site.extensions import db
from lets_site.federation import crosssearch, directory, services
from lets_site.federation.directory import Badge
from lets_site.federation.models import Feed, Health, Status
from tests.federation import hub
from tests.html import main_text, select_text
from tests.queries import counted

EN = {"Accept-Language": "en"}
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" /
                     "feed.schema.json").read_text())


def _ieper() -> Feed:
    return hub.follow("ieper", [
        hub.listing("ieper", 1, "Soep koken"),
        hub.listing("ieper", 2, "Fietsherstelling"),
        hub.listing("ieper", 3, "Hulp bij verhuis", kind="want"),
        hub.event("ieper", 4, "Ruilmarkt"),
        hub.event("ieper", 5, "Vorig jaar", start="2020-03-27T14:00:00+01:00"),
        hub.book("ieper", 6, "De avonden", "Gerard Reve"),
        hub.gone("ieper", 7),
    ])


# --- the directory -----------------------------------------------------------------------


def test_hub_pages_answer_only_when_a_group_is_followed(client: Any) -> None:
    for path in ("/groups/", "/search/", "/federation/feed.json"):
        assert client.get(path).status_code == 404, path
    services.add_feed(None, "ieper", hub.base("ieper") + "/feed.json")
    db.session.commit()
    for path in ("/groups/", "/search/", "/federation/feed.json"):
        assert client.get(path).status_code == 200, path


def test_directory_shows_each_group_with_counts_region_and_site(client: Any) -> None:
    _ieper()
    hub.follow("hasselt", [hub.listing("hasselt", 1, "Tuinwerk")],
               group={"slug": "hasselt", "name": "LETS Hasselt", "url": "https://hasselt.example/",
                      "timezone": "Europe/Brussels",
                      "area": {"locality": "Hasselt", "region": "Limburg", "country": "BE"}})
    db.session.commit()
    page = client.get("/groups/", headers=EN)
    assert page.status_code == 200
    ieper = select_text(page, "#group-ieper")
    # Two offers, one want, one upcoming event (the past one and the tombstone not counted).
    assert "2 offers · 1 want · 1 upcoming event · 1 book" in ieper
    assert "Ieper, West-Vlaanderen" in ieper
    hasselt = select_text(page, "#group-hasselt")
    assert "1 offer · 0 wants · 0 upcoming events · 0 books" in hasselt
    assert "Hasselt, Limburg" in hasselt and "OK" in hasselt
    assert 'href="https://hasselt.example/"' in page.get_data(as_text=True)
    # Sorted by name: Hasselt before Ieper.
    text = main_text(page)
    assert text.index("LETS Hasselt") < text.index("LETS Ieper")


def test_directory_counts_with_a_bounded_number_of_queries(client: Any) -> None:
    def queries() -> int:
        with counted() as statements:
            assert client.get("/groups/").status_code == 200
        return len([s for s in statements if "federation_" in s])

    hub.follow("a", [hub.listing("a", 1, "x")])
    db.session.commit()
    one = queries()
    for slug in ("b", "c", "d", "e"):
        hub.follow(slug, [hub.listing(slug, 1, "x"), hub.event(slug, 2, "y")])
    db.session.commit()
    assert queries() == one == 3  # followed at all?, the feeds, the counts


def test_group_page_shows_counts_health_and_newest_items(client: Any) -> None:
    _ieper()
    db.session.commit()
    page = client.get("/groups/ieper", headers=EN)
    assert page.status_code == 200
    text = select_text(page, "#group")
    assert "2 offers · 1 want · 1 upcoming event · 1 book" in text
    assert "OK" in text and "Last fetched" in text
    recent = select_text(page, "#group-recent")
    assert "Soep koken" in recent and "De avonden" in recent
    assert 'href="https://ieper.example/offers/1"' in page.get_data(as_text=True)
    assert client.get("/groups/nobody").status_code == 404


NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
INTERVAL = 1800.0


def _feed(**values: Any) -> Feed:
    defaults: dict[str, Any] = {"slug": "x", "feed_url": "https://x.example/feed.json",
                                "status": Status.ACTIVE, "health": Health.OK, "reason": "",
                                "last_success_at": NOW}
    return Feed(**{**defaults, **values})


@pytest.mark.parametrize("values,badge", [
    ({}, Badge.OK),
    ({"last_success_at": NOW - timedelta(seconds=3 * INTERVAL)}, Badge.OK),
    ({"last_success_at": NOW - timedelta(seconds=3 * INTERVAL + 1)}, Badge.STALE),
    ({"health": Health.STALE, "reason": "HTTP 500"}, Badge.STALE),
    ({"health": Health.ERROR, "reason": "HTTP 500", "last_success_at": None}, Badge.ERROR),
    ({"health": Health.INVALID, "reason": "bad"}, Badge.INVALID),
    ({"health": Health.GONE, "status": Status.GONE}, Badge.GONE),
    ({"status": Status.GONE}, Badge.GONE),
    ({"status": Status.PAUSED, "health": Health.INVALID}, Badge.PAUSED),
    ({"health": Health.NEW, "last_success_at": None}, Badge.NEW),
])
def test_health_badge(values: dict[str, Any], badge: str) -> None:
    assert directory.health(_feed(**values), NOW, INTERVAL).badge == badge


def test_badges_say_why_in_plain_words(client: Any, app: Any) -> None:
    ieper = _ieper()
    ieper.last_success_at = datetime.now(UTC) - timedelta(days=3, minutes=5)
    signed = hub.follow("oostende", [hub.listing("oostende", 1, "Brood")])
    signed.health = Health.INVALID
    signed.reason = "the feed's signature does not match the registered key"
    paused = hub.follow("hasselt", [])
    paused.status = Status.PAUSED
    db.session.commit()
    page = client.get("/groups/", headers=EN)
    ieper_text = select_text(page, "#group-ieper")
    assert "Stale" in ieper_text and "Last fetched 3 days ago." in ieper_text
    assert ("Invalid The feed was refused: the feed's signature does not match the "
            "registered key.") in select_text(page, "#group-oostende")
    assert "Paused" in select_text(page, "#group-hasselt")


def test_hub_links_in_the_footer_only_when_configured(client: Any, app: Any) -> None:
    _ieper()
    db.session.commit()
    assert 'class="hub-links"' not in client.get("/", headers=EN).get_data(as_text=True)
    app.config["FEDERATION_HUB"] = True
    # (another URL: the visitors' page cache keeps the first answer for "/")
    footer = client.get("/?hub", headers=EN).get_data(as_text=True).split("<footer")[-1]
    assert 'class="hub-links"' in footer
    assert 'href="/groups/"' in footer and 'href="/search/"' in footer


# --- cross-group search ------------------------------------------------------------------


def _search(client: Any, **args: str) -> Any:
    return client.get("/search/", query_string=args, headers=EN)


def test_search_folds_accents_and_links_to_the_groups_own_site(client: Any) -> None:
    hub.follow("ieper", [hub.listing("ieper", 1, "Café-hulp"),
                         hub.listing("ieper", 2, "Koffie", text="in een CAFE")])
    hub.follow("lille", [hub.listing("lille", 1, "Crème brûlée")])
    db.session.commit()
    page = _search(client, q="cafe")
    hits = select_text(page, "#cross-results")
    assert "2 results" in hits and "Café-hulp" in hits and "Koffie" in hits
    assert 'href="https://ieper.example/offers/1"' in page.get_data(as_text=True)
    assert "Crème brûlée" in select_text(_search(client, q="CREME Brulee"), "#cross-results")
    assert "0 results" in select_text(_search(client, q="café thee"), "#cross-results")


def test_search_filters_by_group_and_kind_and_leaves_out_events_and_deleted(
        client: Any) -> None:
    _ieper()
    hub.follow("lille", [hub.listing("lille", 1, "Soep à l'oignon")])
    db.session.commit()
    everything = select_text(_search(client), "#cross-results")
    assert "5 results" in everything  # 2 offers + 1 want at Ieper, 1 book, 1 offer at Lille
    assert "Ruilmarkt" not in everything
    assert "2 results" in select_text(_search(client, q="soep"), "#cross-results")
    only = select_text(_search(client, q="soep", group="lille"), "#cross-results")
    assert "1 result" in only and "oignon" in only
    wants = select_text(_search(client, kind="want"), "#cross-results")
    assert "1 result" in wants and "Hulp bij verhuis" in wants
    books = select_text(_search(client, q="reve", kind="book"), "#cross-results")
    assert "De avonden" in books
    # An unknown kind is all kinds, not an error.
    assert "5 results" in select_text(_search(client, kind="event"), "#cross-results")


def test_search_words_are_words_not_patterns(client: Any) -> None:
    hub.follow("ieper", [hub.listing("ieper", 1, "100% wol"), hub.listing("ieper", 2, "a_b")])
    db.session.commit()
    assert crosssearch.find("%", None, None, 1)[1] == 2  # no word: everything
    assert crosssearch.find("a_b", None, None, 1)[1] == 1
    assert crosssearch.find("ab", None, None, 1)[1] == 0


def test_search_pages_and_keeps_the_query(client: Any) -> None:
    hub.follow("ieper", [hub.listing("ieper", n, f"Soep {n}") for n in range(25)])
    db.session.commit()
    first = _search(client, q="soep")
    assert "25 results" in select_text(first, "#cross-results")
    assert select_text(first, "#cross-results").count("Offer ·") == crosssearch.PER_PAGE
    assert "/search/?q=soep&amp;page=2" in first.get_data(as_text=True)
    second = _search(client, q="soep", page="2")
    assert select_text(second, "#cross-results").count("Offer ·") == 5


def test_search_query_count_does_not_grow_with_hits(client: Any) -> None:
    def queries() -> int:
        with counted() as statements:
            assert _search(client, q="soep").status_code == 200
        return len([s for s in statements if "federation_" in s])

    hub.follow("ieper", [hub.listing("ieper", 1, "Soep")])
    db.session.commit()
    one = queries()
    for slug in ("a", "b", "c"):
        hub.follow(slug, [hub.listing(slug, n, f"Soep {n}") for n in range(8)])
    db.session.commit()
    # followed at all?, the group choices, the count, the page (groups joined in)
    assert queries() == one == 4


def test_search_answers_htmx_with_the_results_alone(client: Any) -> None:
    _ieper()
    db.session.commit()
    partial = client.get("/search/?q=soep", headers={**EN, "HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="cross-results">') and "<html" not in body
    assert "HX-Request" in partial.headers["Vary"]
    full = client.get("/search/?q=soep", headers={**EN, "HX-Request": "true",
                                                 "HX-Boosted": "true"})
    assert "<html" in full.get_data(as_text=True)


# --- the merged feed ---------------------------------------------------------------------


def test_merged_feed_is_valid_and_keeps_groups_and_ids(client: Any) -> None:
    _ieper()
    hub.follow("lille", [hub.listing("lille", 1, "Soupe")])
    db.session.commit()
    response = client.get("/federation/feed.json")
    assert response.status_code == 200
    assert response.content_type == "application/feed+json; charset=utf-8"
    feed = json.loads(response.get_data())
    jsonschema.Draft202012Validator(SCHEMA).validate(feed)
    assert feed["feed_url"].endswith("/federation/feed.json")
    by_id = {item["id"]: item for item in feed["items"]}
    assert len(by_id) == 8
    soup = by_id[hub.uid("ieper", 1)]
    assert soup["url"] == "https://ieper.example/offers/1"
    assert soup["_lets"]["group"] == {"slug": "ieper", "name": "LETS Ieper",
                                      "url": "https://ieper.example/"}
    assert soup["_lets"]["price"] == {"amount": 2, "unit": "uur", "basis": "hour"}
    assert by_id[hub.uid("lille", 1)]["_lets"]["group"]["slug"] == "lille"
    tombstone = by_id[hub.uid("ieper", 7)]["_lets"]
    assert tombstone["type"] == "deleted" and tombstone["former_type"] == "offer"
    book = by_id[hub.uid("ieper", 6)]["_lets"]
    assert book["book_authors"] == "Gerard Reve"


def test_merged_feed_answers_conditional_gets(client: Any) -> None:
    _ieper()
    db.session.commit()
    first = client.get("/federation/feed.json")
    again = client.get("/federation/feed.json")
    assert first.get_data() == again.get_data()
    etag = first.headers["ETag"]
    assert client.get("/federation/feed.json",
                      headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/federation/feed.json", headers={
        "If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304
    hub.follow("lille", [hub.listing("lille", 1, "Soupe")],
               now=datetime.now(UTC) + timedelta(seconds=2))
    db.session.commit()
    changed = client.get("/federation/feed.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_merged_feed_keeps_one_item_per_id(client: Any) -> None:
    hub.follow("ieper", [hub.listing("ieper", 1, "Eerst")])
    copy = hub.listing("copycat", 1, "Kopie")
    copy["id"] = hub.uid("ieper", 1)
    hub.follow("copycat", [copy])
    db.session.commit()
    items = json.loads(client.get("/federation/feed.json").get_data())["items"]
    assert [(i["title"], i["_lets"]["group"]["slug"]) for i in items] == [("Eerst", "ieper")]
    assert len(db.session.scalars(select(Feed)).all()) == 2  # both still followed
