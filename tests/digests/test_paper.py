"""The paper lists: the "vraag en aanbod" by category with phones only where allowed, and
the personal digests of members without e-mail, one printed page each."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from lets_site.database import utcnow
from lets_site.members.models import Visibility
from lets_site.offers.models import ListingVisibility
from tests.events.conftest import make_event, make_organiser
from tests.html import main_text, select_text
from tests.offers.conftest import make_category, make_listing


def _paper(client: Any, audience: str = "members") -> str:
    response = client.get(f"/admin/digest/paper?audience={audience}")
    assert response.status_code == 200
    return main_text(response.get_data(as_text=True))


def test_the_market_list_groups_by_category_and_prints_phones_only_with_permission(
        app: Any, client: Any, auth: Any, make_admin: Any, make_member: Any) -> None:
    admin = make_admin(locale="en")
    garden = make_category("Tuin", en="Garden")
    food = make_category("Eten", en="Food")
    public = make_member(display_name="Pia", phone="0470 11 11 11",
                         phone_visibility=Visibility.PUBLIC, profile_public=True)
    members = make_member(display_name="Mon", phone="0470 22 22 22",
                          phone_visibility=Visibility.MEMBERS)
    hidden = make_member(display_name="Hild", phone="0470 33 33 33",
                         phone_visibility=Visibility.HIDDEN)
    make_listing(public, "Grasmaaien", category=garden, visibility=ListingVisibility.PUBLIC)
    make_listing(members, "Soep koken", category=food, visibility=ListingVisibility.PUBLIC)
    make_listing(hidden, "Hagen snoeien", category=garden, kind="want",
                 visibility=ListingVisibility.PUBLIC)
    make_listing(members, "Enkel voor leden", category=food)
    make_listing(members, "Verlopen", category=food, visibility=ListingVisibility.PUBLIC,
                 valid_until=utcnow() - timedelta(days=1))
    auth.login(admin.account_code)

    text = _paper(client, "members")
    assert text.index("Food") < text.index("Soep koken") < text.index("Garden")
    assert text.index("Garden") < text.index("Grasmaaien") < text.index("Wanted")
    assert text.index("Wanted") < text.index("Hagen snoeien")
    assert "Enkel voor leden" in text and "Verlopen" not in text
    assert "0470 11 11 11" in text and "0470 22 22 22" in text
    assert "0470 33 33 33" not in text and "Hild" in text

    visitors = _paper(client, "public")
    assert "Enkel voor leden" not in visitors and "Soep koken" in visitors
    assert "0470 11 11 11" in visitors
    assert "0470 22 22 22" not in visitors and "0470 33 33 33" not in visitors
    assert "Mon" not in visitors  # no public profile: no name for the public either


def test_the_market_list_shows_the_next_events_and_prints_without_script(
        app: Any, client: Any, auth: Any, make_admin: Any) -> None:
    admin = make_admin(locale="en")
    organiser = make_organiser()
    make_event(organiser, days=3, title="Ruilmarkt")
    make_event(organiser, days=-3, title="Voorbij")
    auth.login(admin.account_code)
    html = client.get("/admin/digest/paper").get_data(as_text=True)
    assert "Ruilmarkt" in select_text(html, ".paper-events") and "Voorbij" not in html
    assert "<script" not in html.split('<main', 1)[1].split("</main>")[0]
    css = client.get(re.search(r'href="(/static/css/site\.css[^"]*)"', html)[1])
    rules = css.get_data(as_text=True)
    assert "size:A4" in rules
    assert ".paper-page{border:0;margin:0;padding:0;break-after:page}" in rules


def test_paper_digests_one_page_per_member_without_email_with_what_is_new(
        app: Any, client: Any, auth: Any, make_admin: Any, make_member: Any) -> None:
    admin = make_admin(locale="en")
    owner = make_member()
    # Members without e-mail have no password either: they still read as members.
    make_member(email=None, password_hash=None, display_name="Paula",
                full_name="Paula Paper", address="Kerkstraat 1", postcode="8900")
    make_member(email=None, password_hash=None, display_name="Piet", full_name="Piet Paper")
    make_member(full_name="Erik Email")
    make_listing(owner, "Voor leden", visibility=ListingVisibility.MEMBERS)
    make_listing(owner, "Oud nieuws", created_at=utcnow() - timedelta(days=60))
    auth.login(admin.account_code)
    html = client.get("/admin/digest/paper/digests").get_data(as_text=True)
    pages = re.findall(r'<article class="paper-page">(.*?)</article>', html, re.S)
    assert len(pages) == 2
    assert "Paula Paper" in pages[0] and "Kerkstraat 1" in pages[0]
    assert "Piet Paper" in pages[1]
    for page in pages:
        assert "Voor leden" in page and "Oud nieuws" not in page
    assert "Erik Email" not in html
    since = (utcnow() - timedelta(days=90)).date().isoformat()
    older = client.get(f"/admin/digest/paper/digests?since={since}").get_data(as_text=True)
    assert older.count("Oud nieuws") == 2
