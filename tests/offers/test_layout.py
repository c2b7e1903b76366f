"""The offers pages for a phone: results first (the filters folded away, a count, "you
searched for" with a way back), look-alike results told apart, the listing form's main
buttons and its price group, the owner's actions in a row with "renew" only when due."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from lets_site.database import utcnow
from lets_site.offers import services
from lets_site.offers.models import ListingVisibility, State
from tests.html import main_text, select_text
from tests.offers.conftest import make_listing

PUBLIC = ListingVisibility.PUBLIC


def test_index_query_outside_folded_filters(client: Any, people: dict[str, Any]) -> None:
    html = client.get("/offers/?q=soep&type=offer").get_data(as_text=True)
    form = html[html.index('<form method="get"'):html.index("</form>")]
    details = form[form.index("<details"):form.index("</details>")]
    # The search box and its button before the fold; the other filters inside it, closed.
    assert 'id="q"' in form and 'id="q"' not in details
    assert "<details class=\"filters\">" in form  # not open: results come first
    for name in ("type", "category", "owner", "postcode", "sort"):
        assert f'name="{name}"' in details, name
    # How many filters are on, in the summary.
    assert re.search(r"<summary>[^<]*\(1\)</summary>", details)


def test_index_count_and_you_searched_for(client: Any, people: dict[str, Any]) -> None:
    for title in ("Soep maken", "Soep op zondag", "Fietsen"):
        make_listing(people["member"], title, visibility=PUBLIC)
    found = select_text(client.get("/offers/?q=soep"), ".found")
    assert found == "2 found. You searched for “soep”. Show all"
    everything = client.get("/offers/")
    assert select_text(everything, ".found") == "3 found"  # nothing to clear
    assert 'class="clear"' not in select_text(everything, ".found")
    one = select_text(client.get("/offers/?q=fiets"), ".found")
    assert one.startswith("1 found.")
    # The "show all" link goes back to the whole list.
    html = client.get("/offers/?q=soep&type=offer").get_data(as_text=True)
    assert '<a href="/offers/" class="clear">' in html


def test_index_count_over_pages_and_capped(client: Any, people: dict[str, Any],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(23):
        make_listing(people["member"], f"Aanbod {n:02d}", visibility=PUBLIC)
    assert select_text(client.get("/offers/"), ".found") == "23 found"
    assert select_text(client.get("/offers/?page=2"), ".found") == "23 found"
    # (Other URLs each time: visitors' pages are kept in the page cache.)
    monkeypatch.setattr(services, "COUNT_CAP", 21)
    assert select_text(client.get("/offers/?sort=newest"), ".found") == "More than 21 found"
    monkeypatch.setattr(services, "COUNT_CAP", 23)
    assert select_text(client.get("/offers/?sort=ending"), ".found") == "23 found"


def test_look_alike_listings_are_told_apart(client: Any, login_as: Any,
                                            people: dict[str, Any]) -> None:
    old = make_listing(people["member"], "Kinderfietsje", visibility=PUBLIC,
                       created_at=utcnow() - timedelta(days=400))
    new = make_listing(people["intermediary"], "Kinderfietsje", visibility=PUBLIC)
    # Visitors do not see a member's name (their profile is not public): "a member" and
    # since when, which differs.
    page = client.get("/offers/")
    first, second = (select_text(page, f"#listing-{x.id}") for x in (old, new))
    assert "a member" in first and first != second
    assert "Mia Member" not in main_text(page)
    login_as("member")
    page = client.get("/offers/")
    assert "Mia Member" in select_text(page, f"#listing-{old.id}")
    assert "Ivo Intermediary" in select_text(page, f"#listing-{new.id}")


def test_listing_thumbnail_has_words_not_a_file_name(client: Any,
                                                     people: dict[str, Any]) -> None:
    listing = make_listing(people["member"], "Fiets", visibility=PUBLIC, photo_key="ab" * 32,
                           thumb_width=80, thumb_height=60)
    html = select_text(client.get("/offers/"), f"#listing-{listing.id}")
    raw = client.get("/offers/").get_data(as_text=True)
    img = re.search(rf'<li id="listing-{listing.id}".*?<img [^>]*>', raw).group(0)
    assert 'alt="(with photo)"' in img
    assert html.startswith("Fiets")  # the title comes first, then the thumbnail


def test_listing_form_main_buttons_and_price_group(client: Any, login_as: Any) -> None:
    login_as("member")
    html = client.get("/offers/new").get_data(as_text=True)
    assert '<input id="publish"' not in html and 'type="submit" value="Publish"' not in html
    assert ('<button type="submit" id="publish" name="publish" value="Publish">Publish</button>'
            in html)
    assert ('<button type="submit" id="save_draft" name="save_draft" value="Save as draft" '
            'class="secondary">Save as draft</button>' in html)
    fieldset = html[html.index("<fieldset>"):html.index("</fieldset>")]
    assert "<legend>Price</legend>" in fieldset
    assert re.search(r'<label for="price">Amount</label>', fieldset)
    # The buttons still do what they say: a draft, then a published listing.
    data = {"csrf_token": client.csrf_token(), "kind": "offer", "title": "Soep",
            "price": "1,5", "price_basis": "hour", "visibility": "members"}
    client.post("/offers/new", data={**data, "save_draft": "1"})
    client.post("/offers/new", data={**data, "title": "Brood", "publish": "1"})
    mine = {listing.title: listing.state
            for _, group in services.my_listings(login_as("member")) for listing in group}
    assert mine == {"Soep": State.DRAFT, "Brood": State.PUBLISHED}


def _actions(client: Any, listing_id: int) -> str:
    html = client.get(f"/offers/{listing_id}").get_data(as_text=True)
    start = html.index('<div class="row owner-actions">')
    return html[start:html.index("</div>", start)]


def test_owner_actions_in_a_row_renew_only_when_due(client: Any, login_as: Any,
                                                    people: dict[str, Any]) -> None:
    member = people["member"]
    new = make_listing(member, "Nieuw", valid_until=utcnow() + timedelta(days=365))
    soon = make_listing(member, "Bijna voorbij", valid_until=utcnow() + timedelta(days=20))
    gone = make_listing(member, "Voorbij", valid_until=utcnow() - timedelta(days=2))
    draft = make_listing(member, "Klad", state=State.DRAFT)
    login_as("member")
    actions = _actions(client, new.id)
    assert "<li" not in actions and "Edit" in actions and "Withdraw" in actions
    assert "/renew" not in actions  # a new listing: nothing louder than edit
    assert "/renew" in _actions(client, soon.id)
    assert 'class="secondary">Renew for a year' in _actions(client, soon.id)
    expired = _actions(client, gone.id)
    assert re.search(r"/renew\"[^>]*>.*<button type=\"submit\">Renew for a year", expired)
    assert "/publish" in _actions(client, draft.id)
    assert "/renew" not in _actions(client, draft.id)
    # Withdraw is a quiet link-styled button.
    assert 'class="link danger">Withdraw' in actions
