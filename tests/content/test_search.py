"""Search over pages, news and documents: accent-insensitive, prefix words, and only what
the viewer may see."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.content.conftest import make_document, make_news, make_page
from tests.factories import make_member
from tests.html import find, main_text


def _found(client: Any, q: str, section: str) -> str:
    return find(client.get("/search", query_string={"q": q}), section) or ""


def test_accents_and_word_starts_find_pages_news_and_documents(client: Any) -> None:
    make_page("cafe", "Repair Café", body="Elke maand in het ontmoetingscentrum.")
    make_news("Ruilcafé verhuist", summary="Naar de bibliotheek.")
    make_document("Folder ruilcafe", visibility="public", description="Om uit te delen.")
    assert "Repair Café" in _found(client, "cafe", "#found-pages")
    assert "Ruilcafé verhuist" in _found(client, "RUILCAFE", "#found-news")
    assert "Folder ruilcafe" in _found(client, "ruilcaf", "#found-documents")
    assert "Repair Café" in _found(client, "ontmoet", "#found-pages")  # in the text


def test_search_applies_visibility_state_and_expiry(client: Any, auth: Any) -> None:
    make_page("notulen", "Notulen bestuur", visibility="members")
    make_page("ontwerp", "Notulen ontwerp", state="draft")
    make_news("Notulen nieuws", visibility="members")
    make_document("Notulen januari")  # members only
    make_document("Notulen oud", visibility="public",
                  expires_on=date(2020, 1, 1))
    text = main_text(client.get("/search?q=notulen"))
    assert "Nothing found" in text
    auth.login(make_member(locale="en").account_code)
    text = main_text(client.get("/search?q=notulen"))
    assert "Notulen bestuur" in text and "Notulen nieuws" in text
    assert "Notulen januari" in text
    assert "Notulen ontwerp" not in text and "Notulen oud" not in text


def test_search_with_only_punctuation_or_operators_finds_nothing_and_does_not_fail(
        client: Any) -> None:
    make_page("faq", "FAQ")
    for q in ('"', "*", "NEAR(", "a OR", "-", "'; DROP TABLE"):
        assert client.get("/search", query_string={"q": q}).status_code == 200
