from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import event, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.offers import photos, services
from lets_site.offers.models import Listing, ListingVisibility, State
from tests.html import select_text
from tests.offers.conftest import make_category, make_listing

HX = {"HX-Request": "true"}


def route_objects(people: dict[str, Any]) -> dict[str, Any]:
    """Objects for tests/test_routes.py: a public listing by the member, an organisation
    listing, a members-only listing, a photo and a category."""
    if "_offers" not in people:
        image = io.BytesIO()
        Image.new("RGB", (40, 30), (200, 30, 30)).save(image, "PNG")
        image.seek(0)
        stored = photos.store(image)
        listing = make_listing(people["member"], "Publiek aanbod",
                               visibility=ListingVisibility.PUBLIC, photo_key=stored.key,
                               photo_width=stored.width, photo_height=stored.height,
                               thumb_width=stored.thumb_width, thumb_height=stored.thumb_height)
        people["_offers"] = {
            "listing": listing.id,
            "org_listing": make_listing(people["org"], "Van Hedera").id,
            "members_listing": make_listing(people["member"], "Voor leden").id,
            "photo": photos.file_name(stored.key),
            "category_id": make_category("Vervoer").id,
        }
    return people["_offers"]


def form_data(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"kind": "offer", "title": "Soep maken",
                              "description": "Verse soep.", "category_id": "",
                              "price": "2", "price_basis": "hour", "valid_until": "",
                              "visibility": "members", "publish": "Publish"}
    values.update(overrides)
    return values


def post_multipart(client: Any, url: str, data: dict[str, Any]) -> Any:
    """A multipart POST encoded in memory (the test client's own encoder leaves a
    temporary file open for large bodies, which the strict warning filter reports)."""
    data = {"csrf_token": client.csrf_token(), **data}
    for key, value in data.items():
        if isinstance(value, tuple):
            data[key] = FileStorage(value[0], filename=value[1])
    stream, _length, boundary = stream_encode_multipart(data, use_tempfile=False)
    return client.post(url, data=stream.getvalue(),
                       content_type=f"multipart/form-data; boundary={boundary}")


def png_bytes(size: tuple[int, int] = (1600, 1200)) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(out, "PNG")
    return out.getvalue()


# --- Creating, editing, workflow (no JavaScript) -------------------------------------------


def test_new_listing_form_creates_and_shows(client: Any, login_as: Any) -> None:
    login_as("member")
    response = client.post_form("/offers/new", form_data())
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    text = page.get_data(as_text=True)
    assert "Soep maken" in text and "Verse soep." in text and "per hour" in text


def test_new_listing_save_as_draft(client: Any, login_as: Any) -> None:
    login_as("member")
    data = form_data(save_draft="Save as draft")
    del data["publish"]
    client.post_form("/offers/new", data)
    listing = db.session.scalar(select(Listing))
    assert listing is not None and listing.state == State.DRAFT


@pytest.mark.parametrize(("overrides", "message"), [
    ({"title": ""}, "Fill in a title."),
    ({"price": "-3"}, "The price cannot be negative."),
    ({"price": "99999999"}, "The price can be at most"),
    ({"price": "abc"}, "Write a number such as 1,5 or 2."),
])
def test_new_listing_bad_input_keeps_what_was_typed(client: Any, login_as: Any,
                                                    overrides: dict[str, Any],
                                                    message: str) -> None:
    login_as("member")
    response = client.post_form("/offers/new", form_data(description="Mijn tekst", **overrides))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert message in text and "Mijn tekst" in text
    assert db.session.scalar(select(Listing)) is None


def test_script_in_description_is_inert(client: Any, login_as: Any) -> None:
    login_as("member")
    response = client.post_form("/offers/new", form_data(
        description="Hallo <script>alert(1)</script> <img src=x onerror=alert(2)> **vet**"))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in page and "onerror" not in page
    assert "<strong>vet</strong>" in page


def test_edit_someone_elses_listing_is_403(client: Any, login_as: Any,
                                           people: dict[str, Any]) -> None:
    listing = make_listing(people["member"])
    login_as("other_org_member")
    assert client.get(f"/offers/{listing.id}/edit").status_code == 403
    response = client.post_form(f"/offers/{listing.id}/edit", form_data(title="Gekaapt"))
    assert response.status_code == 403
    for action in ("withdraw", "renew", "publish"):
        assert client.post_form(f"/offers/{listing.id}/{action}").status_code == 403
    db.session.refresh(listing)
    assert listing.title == "Fietsherstelling" and listing.state == State.PUBLISHED


def test_owner_edits_withdraws_and_renews(client: Any, login_as: Any,
                                          people: dict[str, Any]) -> None:
    listing = make_listing(people["member"], valid_until=utcnow() - timedelta(days=1))
    login_as("member")
    page = client.get(f"/offers/{listing.id}/edit").get_data(as_text=True)
    assert 'value="Fietsherstelling"' in page
    response = client.post_form(f"/offers/{listing.id}/edit", form_data(title="Fietsen"))
    assert response.status_code == 303
    response = client.post_form(f"/offers/{listing.id}/renew")
    assert response.status_code == 303
    db.session.refresh(listing)
    assert listing.title == "Fietsen" and listing.is_live
    client.post_form(f"/offers/{listing.id}/withdraw")
    db.session.refresh(listing)
    assert listing.state == State.WITHDRAWN
    # A second withdraw: a message, not an error page.
    response = client.post_form(f"/offers/{listing.id}/withdraw", follow_redirects=True)
    assert response.status_code == 200
    assert "withdrawn already" in response.get_data(as_text=True)


def test_expired_listing_url_shows_expired(client: Any, login_as: Any,
                                           people: dict[str, Any]) -> None:
    listing = make_listing(people["member"], "Oud", valid_until=utcnow() - timedelta(days=3))
    login_as("other_org_member")
    response = client.get(f"/offers/{listing.id}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "This listing has expired" in text
    assert 'name="message"' not in text  # no answer form
    assert "Oud" not in client.get("/offers/").get_data(as_text=True)


def test_intermediary_acts_for_organisation(client: Any, login_as: Any,
                                            people: dict[str, Any]) -> None:
    login_as("intermediary")
    org = people["org"]
    response = client.post_form("/offers/acting-for", {"organisation": str(org.id)})
    assert response.status_code == 303
    assert f"You act for {org.name}" in client.get("/offers/new").get_data(as_text=True)
    client.post_form("/offers/new", form_data(title="Wandelingen"))
    listing = db.session.scalar(select(Listing))
    assert listing is not None and listing.owner_org_id == org.id
    detail = client.get(f"/offers/{listing.id}").get_data(as_text=True)
    assert "Hedera" in detail and "Ivo Intermediary" in detail
    org_page = client.get(f"/organisations/{org.slug}").get_data(as_text=True)
    assert "Wandelingen" in org_page
    # Back to acting for oneself.
    client.post_form("/offers/acting-for", {"organisation": ""})
    client.post_form("/offers/new", form_data(title="Van mezelf"))
    mine = db.session.scalar(select(Listing).where(Listing.title == "Van mezelf"))
    assert mine is not None and mine.owner_member_id == people["intermediary"].id


def test_acting_for_another_organisation_is_refused(client: Any, login_as: Any,
                                                    people: dict[str, Any]) -> None:
    login_as("intermediary")
    response = client.post_form("/offers/acting-for",
                                {"organisation": str(people["other_org"].id)},
                                follow_redirects=True)
    assert "not an intermediary" in response.get_data(as_text=True)
    client.post_form("/offers/new", form_data(title="Stiekem"))
    listing = db.session.scalar(select(Listing))
    assert listing is not None and listing.owner_org_id is None


def test_my_listings_page_lists_organisation_listings(client: Any, login_as: Any,
                                                      people: dict[str, Any]) -> None:
    make_listing(people["org"], "Kledingherstel", state=State.DRAFT)
    make_listing(people["other_org"], "Autovervoer")
    login_as("intermediary")
    text = client.get("/offers/mine").get_data(as_text=True)
    assert "Kledingherstel" in text and "draft" in text and "Autovervoer" not in text


# --- Visibility ----------------------------------------------------------------------------


def test_anonymous_sees_public_listings_only(client: Any, people: dict[str, Any]) -> None:
    public = make_listing(people["member"], "Voor iedereen",
                          visibility=ListingVisibility.PUBLIC)
    private = make_listing(people["member"], "Alleen leden")
    text = client.get("/offers/").get_data(as_text=True)
    assert "Voor iedereen" in text and "Alleen leden" not in text
    # The owner's name is hidden from visitors unless the profile is public.
    assert "Mia Member" not in client.get(f"/offers/{public.id}").get_data(as_text=True)
    response = client.get(f"/offers/{private.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_drafts_are_404_for_others(client: Any, login_as: Any,
                                   people: dict[str, Any]) -> None:
    listing = make_listing(people["member"], state=State.DRAFT)
    login_as("admin")
    assert client.get(f"/offers/{listing.id}").status_code == 200
    client.post_form("/logout")
    login_as("other_org_member")
    assert client.get(f"/offers/{listing.id}").status_code == 404


# --- Browse, search and htmx ---------------------------------------------------------------


def test_index_full_page_and_partials(client: Any, login_as: Any,
                                      people: dict[str, Any]) -> None:
    for n in range(25):
        make_listing(people["member"], f"Aanbod {n:02d}")
    login_as("member")
    full = client.get("/offers/")
    text = full.get_data(as_text=True)
    assert "<html" in text and text.count('class="listing"') == 20
    assert 'href="/offers/?page=2"' in text and 'hx-target="#more"' in text
    assert "HX-Request" in full.headers["Vary"]
    # Search or filter through htmx: the list section alone.
    partial = client.get("/offers/?q=aanbod", headers={**HX, "HX-Target": "listings"})
    ptext = partial.get_data(as_text=True)
    assert "<html" not in ptext and ptext.startswith('<section id="listings"')
    # The "more" link: the next items and a new "more" item, no section.
    more = client.get("/offers/?page=2&part=items", headers={**HX, "HX-Target": "more"})
    mtext = more.get_data(as_text=True)
    assert "<section" not in mtext and mtext.count('class="listing"') == 5
    assert "Aanbod 00" in mtext and 'id="more"' not in mtext
    # Boosted navigation gets the whole page.
    boosted = client.get("/offers/?page=2", headers={**HX, "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)
    # Without JavaScript, page 2 is a normal page with a way back.
    page2 = client.get("/offers/?page=2").get_data(as_text=True)
    assert "Aanbod 00" in page2 and "Previous page" in page2


def test_search_by_url_is_shareable(client: Any, people: dict[str, Any]) -> None:
    make_listing(people["member"], "Café-avond", visibility=ListingVisibility.PUBLIC)
    make_listing(people["member"], "Fietsen", visibility=ListingVisibility.PUBLIC)
    text = client.get("/offers/?q=cafe").get_data(as_text=True)
    assert "Café-avond" in text and "Fietsen" not in text
    assert 'value="cafe"' in text  # the search box keeps the words


def test_bad_filter_values_are_ignored(client: Any, people: dict[str, Any]) -> None:
    make_listing(people["member"], "Publiek", visibility=ListingVisibility.PUBLIC)
    response = client.get("/offers/?type=nonsense&page=-4&sort=x&category=nope")
    assert response.status_code == 200 and "Publiek" in response.get_data(as_text=True)


def test_list_page_query_count_does_not_grow_with_rows(client: Any, login_as: Any,
                                                       people: dict[str, Any]) -> None:
    login_as("member")
    garden = make_category("Tuin")
    counts = []
    for batch in (21, 40):  # more than one page each time: the count runs too
        for n in range(batch):
            owner = people["org"] if n % 2 else people["other_org_member"]
            make_listing(owner, f"Aanbod {batch}-{n}", category=garden)
        statements: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)  # noqa: B023

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/offers/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        counts.append(len(statements))
        ours = [s for s in statements if "FROM listing" in s or "FROM offer_category" in s]
    assert counts[0] == counts[1], counts
    # This page's own: the categories for the filter, one query for the listings, with
    # category, owner, organisation and contact joined in, the capped count of the
    # matches (skipped on the last page), and when the next listing lapses (the list is
    # kept per process until then: lets_site/fragments.py). (The rest is the layout's.)
    assert len(ours) == 4, ours


# --- Responding ----------------------------------------------------------------------------


def test_respond_form_sends_mail(client: Any, login_as: Any, people: dict[str, Any],
                                 outbox: Any) -> None:
    listing = make_listing(people["member"], "Hondenuitlaat")
    login_as("other_org_member")
    response = client.post_form(f"/offers/{listing.id}", {"message": "Mijn hond Max"})
    assert response.status_code == 303
    mails = outbox()
    assert len(mails) == 1 and "Mijn hond Max" in mails[0]
    assert people["member"].email in mails[0] and people["other_org_member"].email in mails[0]
    # The owner's address is not on the page.
    assert people["member"].email not in client.get(f"/offers/{listing.id}").get_data(
        as_text=True)


def test_respond_rate_limit_message(client: Any, login_as: Any, people: dict[str, Any],
                                    app: Any) -> None:
    listing = make_listing(people["member"])
    login_as("other_org_member")
    for n in range(10):
        assert client.post_form(f"/offers/{listing.id}", {"message": f"m{n}"}).status_code == 303
    response = client.post_form(f"/offers/{listing.id}", {"message": "nog één"})
    assert response.status_code == 200
    assert "Please wait a while" in response.get_data(as_text=True)


def test_respond_empty_message_and_anonymous(client: Any, login_as: Any,
                                             people: dict[str, Any]) -> None:
    listing = make_listing(people["member"], visibility=ListingVisibility.PUBLIC)
    response = client.post_form(f"/offers/{listing.id}", {"message": "hallo"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login_as("other_org_member")
    response = client.post_form(f"/offers/{listing.id}", {"message": ""})
    assert response.status_code == 200 and "Write a message." in response.get_data(
        as_text=True)


# --- Photos --------------------------------------------------------------------------------


def test_photo_upload_resized_and_served(client: Any, login_as: Any) -> None:
    login_as("member")
    data = form_data(photo=(io.BytesIO(png_bytes()), "foto.png"))
    response = post_multipart(client, "/offers/new", data)
    assert response.status_code == 303, response.get_data(as_text=True)
    listing = db.session.scalar(select(Listing))
    assert listing is not None and listing.photo_key
    assert max(listing.photo_width or 0, listing.photo_height or 0) <= 1024
    page = client.get(f"/offers/{listing.id}").get_data(as_text=True)
    img = re.search(r'<img src="([^"]+)" width="(\d+)" height="(\d+)" loading="lazy"', page)
    assert img, page
    served = client.get(img.group(1))
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"].startswith("private,")
    assert len(served.data) <= 80 * 1024
    thumb = client.get(img.group(1).replace(".jpg", "-t.jpg"))
    assert len(thumb.data) <= 8 * 1024
    listing_page = client.get("/offers/").get_data(as_text=True)
    assert 'loading="lazy"' in listing_page


@pytest.mark.parametrize(("content", "name"), [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.jpg"),
    (b"<html><body><script>alert(1)</script></body></html>", "page.jpg"),
    (b"\xff\xd8\xff\xe0 not really a jpeg", "broken.jpg"),
])
def test_photo_not_an_image_refused(client: Any, login_as: Any, content: bytes,
                                    name: str) -> None:
    login_as("member")
    data = form_data(photo=(io.BytesIO(content), name), description="Bewaard")
    response = post_multipart(client, "/offers/new", data)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "not a photo we can use" in text and "Bewaard" in text
    assert db.session.scalar(select(Listing)) is None


def test_photo_of_ten_megabytes_refused(client: Any, login_as: Any) -> None:
    login_as("member")
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024 + 10)
    data = form_data(photo=(io.BytesIO(big), "groot.png"))
    response = post_multipart(client, "/offers/new", data)
    assert response.status_code == 200
    assert "larger than 10 MB" in response.get_data(as_text=True)


def test_public_photo_is_not_kept_by_shared_caches_after_a_withdrawal(
        client: Any, login_as: Any) -> None:
    login_as("member")
    data = form_data(photo=(io.BytesIO(png_bytes()), "foto.png"), visibility="public")
    assert post_multipart(client, "/offers/new", data).status_code == 303
    listing = db.session.scalar(select(Listing))
    assert listing is not None and listing.photo_key
    page = client.get(f"/offers/{listing.id}").get_data(as_text=True)
    src = re.search(r'<img src="([^"]+)"', page)
    assert src, page
    visitor = client.application.test_client()
    served = visitor.get(src.group(1))
    assert served.status_code == 200
    cache_control = served.headers["Cache-Control"]
    assert cache_control.startswith("public,") and "immutable" not in cache_control
    max_age = int(re.search(r"max-age=(\d+)", cache_control).group(1))  # type: ignore[union-attr]
    assert max_age <= 300 and "must-revalidate" in cache_control
    # Revalidation is cheap: the same photo answers 304 to its ETag.
    etag = served.headers["ETag"]
    assert visitor.get(src.group(1), headers={"If-None-Match": etag}).status_code == 304


def test_photo_route_refuses_other_names(client: Any) -> None:
    assert client.get("/offers/photos/..%2Fsecret_key").status_code == 404
    assert client.get("/offers/photos/" + "a" * 32 + ".jpg").status_code == 404


# --- Other ways in -------------------------------------------------------------------------


def test_expire_command(runner: Any, people: dict[str, Any]) -> None:
    listing = make_listing(people["member"], valid_until=utcnow() - timedelta(days=1))
    result = runner.invoke(args=["offers", "expire"])
    assert result.exit_code == 0 and "1 listings marked expired" in result.output
    db.session.refresh(listing)
    assert listing.state == State.EXPIRED


def test_member_data_download_includes_listings(client: Any, login_as: Any,
                                                people: dict[str, Any]) -> None:
    listing = make_listing(people["member"], "Mijn aanbod")
    make_listing(people["org"], "Van Hedera")
    login_as("member")
    response = client.get(f"/members/{people['member'].account_code}/export")
    data = response.get_json() or __import__("json").loads(response.get_data(as_text=True))
    assert [item["title"] for item in data["listings"]] == ["Mijn aanbod"]
    assert data["listings"][0]["id"] == f"urn:uuid:{listing.uuid}"


def test_sort_options_on_search(client: Any, people: dict[str, Any]) -> None:
    make_listing(people["member"], "Soep soep", description="soep soep soep",
                 visibility=ListingVisibility.PUBLIC, valid_until=utcnow() + timedelta(days=90))
    make_listing(people["member"], "Brood", description="met soep",
                 visibility=ListingVisibility.PUBLIC, valid_until=utcnow() + timedelta(days=5))
    best = client.get("/offers/?q=soep").get_data(as_text=True)
    assert best.index("Soep soep") < best.index("Brood")
    ending = client.get("/offers/?q=soep&sort=ending").get_data(as_text=True)
    assert ending.index("Brood") < ending.index("Soep soep")
    assert '<option value="ending" selected>' in ending


def test_htmx_page_of_twenty_fits_the_budget(client: Any, login_as: Any,
                                             people: dict[str, Any]) -> None:
    """Page budget: a later htmx partial with 20 items is at most 4 KB compressed."""
    import gzip

    cooking = make_category("Koken en eten", fr="Cuisine et repas", en="Cooking and food")
    for n in range(45):
        owner = people["org"] if n % 3 == 0 else people["member"]
        make_listing(owner, f"Zelfgemaakte groentesoep en verse pompoentaart nummer {n}",
                     category=cooking, price_basis="item", price_amount=150)
    login_as("other_org_member")
    for headers, url in (({"HX-Target": "more"}, "/offers/?page=2&part=items"),
                         ({"HX-Target": "listings"}, "/offers/?q=groentesoep")):
        response = client.get(url, headers={**HX, **headers})
        body = response.get_data()
        assert body.count(b'class="listing"') == 20 and b"<html" not in body
        size = len(gzip.compress(body, compresslevel=6, mtime=0))
        assert size <= 4 * 1024, (url, size)


def test_price_with_a_comma(client: Any, login_as: Any) -> None:
    login_as("member")
    assert client.post_form("/offers/new", form_data(price="1,5")).status_code == 303
    listing = db.session.scalar(select(Listing))
    assert listing is not None and listing.price_amount == 150


def test_out_of_range_ids_are_404(client: Any, login_as: Any) -> None:
    login_as("admin")
    for url in ("/offers/99999999999999999999", "/offers/99999999999999999999/edit",
                "/admin/offers/categories/99999999999999999999"):
        assert client.get(url).status_code == 404, url


def test_listing_page_links_to_settling_the_trade_in_the_ledger(
    client: Any, login_as: Any, people: dict[str, Any]
) -> None:
    offer = make_listing(people["org"], "Kookhulp")
    want = make_listing(people["member"], "Vervoer naar de markt", kind="want")
    login_as("other_org_member")
    page = client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert f"/ledger/pay?to={people['org'].account_code}&amp;listing={offer.id}" in page
    page = client.get(f"/offers/{want.id}").get_data(as_text=True)
    assert f"/ledger/requests/new?from={people['member'].account_code}" in page
    pay = client.get(f"/ledger/pay?to={people['org'].account_code}&listing={offer.id}"
                     "&for=Kookhulp").get_data(as_text=True)
    assert f'value="{people["org"].account_code}"' in pay and 'value="Kookhulp"' in pay


def test_list_survives_odd_query_values(client: Any, people: dict[str, Any]) -> None:
    for query in ("page=²", "page=99999999999999999999", "endpoint=x", "_external=1",
                  "page=-3", "type=nonsense&sort=nonsense"):
        response = client.get(f"/offers/?{query}")
        assert response.status_code == 200, query


def test_an_answer_to_a_listing_withdrawn_meanwhile_is_kept_and_explained(
        client: Any, login_as: Any, people: dict[str, Any], outbox: Any) -> None:
    """The owner withdraws while someone writes: the writer is told it was not sent and
    sees their text, instead of a page without the form and without a word."""
    listing = make_listing(people["member"], "Ladder te leen")
    login_as("other_org_member")
    client.get(f"/offers/{listing.id}")  # the form is on the page now
    services.withdraw(people["member"], listing)
    db.session.commit()
    response = client.post_form(f"/offers/{listing.id}", {"message": "Mag ik hem zaterdag?"})
    assert response.status_code == 404  # the listing is gone for them; the text is not
    alert = select_text(response, "#not-sent")
    assert "no longer open for answers: your message was not sent" in alert
    assert "Mag ik hem zaterdag?" in alert
    assert outbox() == []
