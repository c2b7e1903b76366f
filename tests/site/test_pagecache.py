"""The anonymous full-page cache (lets_site/web/pagecache.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from lets_site.extensions import db
from lets_site.offers.models import ListingVisibility
from lets_site.web import pagecache
from tests.offers.conftest import make_listing


@pytest.fixture(autouse=True)
def cache(app: Flask) -> pagecache.PageCache:
    app.config["PAGE_CACHE_SECONDS"] = 60
    cache = app.extensions["page_cache"]
    cache.clear()
    return cache


@pytest.fixture
def anon(app: Flask, client: Any) -> Any:
    """A second browser without any cookie (``client`` may log in)."""
    return app.test_client()


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(db.engine, "before_cursor_execute", count)


def test_anonymous_page_is_served_from_cache(anon: Any, people: Any, cache: Any,
                                             statements: list[str]) -> None:
    make_listing(people["member"], "Soep op zondag", visibility=ListingVisibility.PUBLIC)
    first = anon.get("/offers/")
    assert first.status_code == 200 and "Soep op zondag" in first.get_data(as_text=True)
    assert statements, "the first visit renders from the database"
    statements.clear()
    second = anon.get("/offers/")
    assert second.get_data() == first.get_data()
    assert statements == []
    assert cache.hits == 1
    assert "Set-Cookie" not in second.headers


def test_committed_change_shows_at_once(anon: Any, people: Any) -> None:
    make_listing(people["member"], "Soep op zondag", visibility=ListingVisibility.PUBLIC)
    assert "Ladder te leen" not in anon.get("/offers/").get_data(as_text=True)
    make_listing(people["member"], "Ladder te leen", visibility=ListingVisibility.PUBLIC)
    assert "Ladder te leen" in anon.get("/offers/").get_data(as_text=True)


def test_change_made_through_a_request_shows_at_once(client: Any, anon: Any, people: Any,
                                                     login_as: Any) -> None:
    listing = make_listing(people["member"], "Soep op zondag",
                           visibility=ListingVisibility.PUBLIC)
    assert "Soep op zondag" in anon.get("/offers/").get_data(as_text=True)
    login_as("member")
    response = client.post_form(f"/offers/{listing.id}/withdraw")
    assert response.status_code == 303
    assert "Soep op zondag" not in anon.get("/offers/").get_data(as_text=True)


def test_logged_in_member_neither_gets_nor_stores_cached_pages(
        client: Any, anon: Any, people: Any, login_as: Any, cache: Any) -> None:
    anon.get("/offers/")
    assert len(cache) == 1
    login_as("member")
    page = client.get("/offers/").get_data(as_text=True)
    assert "Mia Member" in page
    assert cache.hits == 0
    assert "Mia Member" not in anon.get("/offers/").get_data(as_text=True)
    assert len(cache) == 1


def test_forms_with_a_csrf_token_are_never_stored(cache: Any, app: Flask) -> None:
    for path in ("/login", "/join", "/login"):
        response = app.test_client().get(path)  # a new browser each time
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and 'name="csrf_token"' in page
    assert len(cache) == 0
    assert cache.hits == 0


def test_language_and_htmx_headers_are_separate_entries(anon: Any, cache: Any) -> None:
    fr = anon.get("/offers/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    en = anon.get("/offers/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="fr"' in fr and 'lang="en"' in en
    partial = anon.get("/offers/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial
    assert len(cache) == 3
    # The lang cookie wins over the browser's language, as for pages rendered afresh.
    anon.set_cookie("lang", "fr")
    assert 'lang="fr"' in anon.get("/offers/").get_data(as_text=True)
    assert cache.hits == 1


def test_pages_expire_after_page_cache_seconds(anon: Any, cache: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(pagecache, "_now", lambda: clock[0])
    anon.get("/offers/")
    clock[0] += 59
    anon.get("/offers/")
    assert cache.hits == 1
    clock[0] += 2
    anon.get("/offers/")
    assert cache.hits == 1


def test_matching_etag_gets_304_from_cache(anon: Any, cache: Any) -> None:
    first = anon.get("/offers/", headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    again = anon.get("/offers/", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert cache.hits == 1
    other = anon.get("/offers/", headers={"Accept-Encoding": "gzip",
                                          "If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.get_data() == first.get_data()


def test_zero_seconds_turns_the_cache_off(anon: Any, cache: Any, app: Flask) -> None:
    app.config["PAGE_CACHE_SECONDS"] = 0
    anon.get("/offers/")
    anon.get("/offers/")
    assert len(cache) == 0 and cache.hits == 0


def test_entry_and_byte_caps_hold(anon: Any, cache: Any, app: Flask) -> None:
    app.config["PAGE_CACHE_MAX_ENTRIES"] = 2
    for query in ("a", "b", "c"):
        anon.get(f"/offers/?q={query}")
    assert len(cache) == 2
    anon.get("/offers/?q=a")  # the oldest was dropped
    assert cache.hits == 0
    one_page = cache.size_bytes // 2
    app.config["PAGE_CACHE_MAX_ENTRIES"] = 500
    app.config["PAGE_CACHE_MAX_BYTES"] = one_page * 5
    for query in ("d", "e", "f", "g", "h", "i"):
        anon.get(f"/offers/?q={query}")
    assert cache.size_bytes <= one_page * 5
    assert len(cache) < 8


def test_language_switch_needs_no_csrf_token(anon: Any) -> None:
    response = anon.post("/language", data={"lang": "fr", "next": "/offers/"})
    assert response.status_code == 303
    assert 'lang="fr"' in anon.get("/offers/").get_data(as_text=True)


def test_stray_generation_files_are_removed_at_start_and_after_a_failed_write(
        tmp_path: Path) -> None:
    folder = tmp_path / "instance-copy"
    folder.mkdir()
    import os
    import time

    from lets_site.web.pagecache import (
        GENERATION_FILE,
        bump_generation,
        remove_stray_generation_files,
    )

    old = folder / f"{GENERATION_FILE}.123.456"  # left by a process killed mid-bump
    old.write_text("1\n")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    fresh = folder / f"{GENERATION_FILE}.789.1"  # another process bumping right now
    fresh.write_text("2\n")
    assert remove_stray_generation_files(folder) == 1
    assert not old.exists() and fresh.exists()

    # A write that fails (here: the final name is a folder) leaves no temporary file.
    fresh.unlink()
    (folder / GENERATION_FILE).mkdir()
    with pytest.raises(OSError):
        bump_generation(folder)
    assert sorted(p.name for p in folder.iterdir()) == [GENERATION_FILE]
