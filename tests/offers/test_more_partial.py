"""The offers "more" partial is chosen by its URL, which the page cache keys on, not by
the HX-Target header, which it does not (issue 7, finding 5)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from lets_site.offers.models import ListingVisibility
from tests.offers.conftest import make_listing

HX = {"HX-Request": "true"}


def body(response: Any) -> str:
    return response.get_data(as_text=True)


# --- Finding 5: the "more" partial is chosen by the URL, not by HX-Target ---------------------


def test_hx_target_cannot_poison_the_page_cache(app: Flask, client: Any, people: Any) -> None:
    app.config["PAGE_CACHE_SECONDS"] = 60
    app.extensions["page_cache"].clear()
    for n in range(25):
        make_listing(people["member"], f"Tuin {n:02d}", visibility=ListingVisibility.PUBLIC)
    for _ in range(3):
        client.get("/offers/?q=tuin", headers={**HX, "HX-Target": "more"})
    search = client.get("/offers/?q=tuin", headers={**HX, "HX-Target": "listings"})
    assert body(search).startswith('<section id="listings"')
    # The "more" link asks for the items alone by its URL, which is the cache's key.
    more = client.get("/offers/?q=tuin&page=2&part=items", headers=HX)
    assert "<section" not in body(more) and body(more).count('class="listing"') == 5
    again = client.get("/offers/?q=tuin", headers=HX)
    assert body(again).startswith('<section id="listings"')
    assert app.extensions["page_cache"].hits >= 1  # the cache was in play
