"""Search across languages: a category's names in three languages and its search words
(synonyms an admin keeps) find its listings; the demo's Dutch listings are found from
common French and English words."""

from __future__ import annotations

import random
from typing import Any

import pytest

from lets_site.extensions import db
from lets_site.offers import demo, services
from lets_site.offers.models import Category
from lets_site.offers.services import Filters
from tests import factories
from tests.offers.conftest import make_category, make_listing

pytestmark = pytest.mark.usefixtures("request_ctx")


def titles(viewer: Any, q: str) -> set[str]:
    return {item.title for item in services.browse(viewer, Filters(q=q)).items}


def test_clean_words_one_line_each_word_once() -> None:
    assert services.clean_words(" hond,chien ;dog\n\n Hond , chat  noir ,") == (
        "hond, chien, dog, chat noir")
    assert services.clean_words(" , ;\n") == ""


def test_category_search_words_find_its_listings(people: dict[str, Any]) -> None:
    member, admin = people["member"], people["admin"]
    pets = services.create_category(admin, services.CategoryData(
        "Dieren", "Animaux", "Pets", words="hond, chien, dog"))
    db.session.commit()
    assert pets.words == "hond, chien, dog"
    make_listing(member, "Uitlaten", category=pets)
    make_listing(member, "Fietsherstelling")
    assert titles(member, "chien") == {"Uitlaten"}
    assert titles(member, "dog") == {"Uitlaten"}
    assert titles(member, "chat") == set()  # not one of its words


def test_subcategory_listings_found_by_the_main_categorys_words(
        people: dict[str, Any]) -> None:
    top = services.create_category(people["admin"], services.CategoryData(
        "Zorg", "Soins", "Care", words="gezelschap, compagnie"))
    sub = make_category("Wandelen", parent=top)
    make_listing(people["member"], "Samen wandelen", category=sub)
    assert titles(people["member"], "compagnie") == {"Samen wandelen"}


def test_editing_the_words_refreshes_existing_listings(people: dict[str, Any]) -> None:
    category = make_category("Poetsen")
    make_listing(people["member"], "Strijken", category=category)
    assert titles(people["member"], "repassage") == set()
    services.update_category(people["admin"], category, services.CategoryData(
        "Poetsen", "Nettoyage", "Cleaning", words="strijken, repassage, ironing"))
    db.session.commit()
    assert titles(people["member"], "repassage") == {"Strijken"}
    services.update_category(people["admin"], category, services.CategoryData(
        "Poetsen", "Nettoyage", "Cleaning", words="ironing"))
    db.session.commit()
    assert titles(people["member"], "repassage") == set()


def test_too_many_search_words_refused(people: dict[str, Any]) -> None:
    with pytest.raises(services.DomainError) as info:
        services.create_category(people["admin"], services.CategoryData(
            "Koken", words=", ".join(f"woord{n}" for n in range(200))))
    assert info.value.field == "words"


def test_new_category_goes_to_the_end_of_its_level(people: dict[str, Any]) -> None:
    admin = people["admin"]
    first = services.create_category(admin, services.CategoryData("Vervoer"))
    second = services.create_category(admin, services.CategoryData("Koken"))
    child = services.create_category(admin, services.CategoryData("Soep", parent_id=second.id))
    third = services.create_category(admin, services.CategoryData("Administratie"))
    placed = services.create_category(admin, services.CategoryData("Zorg", position=0))
    db.session.commit()
    assert (first.position, second.position, third.position) == (0, 1, 2)
    assert child.position == 0  # the first of its main category's subcategories
    assert placed.position == 0  # an explicit position is kept
    # "Administratie" sorts before "Vervoer" by name, but was added later: it comes later.
    order = [c.slug for c in services.categories() if c.parent_id is None]
    assert order.index("vervoer") < order.index("koken") < order.index("administratie")
    # Saving a category without a position keeps its place.
    services.update_category(admin, first, services.CategoryData("Vervoer", "Transport"))
    assert first.position == 0


def test_admin_category_page_saves_search_words(client: Any, login_as: Any,
                                                people: dict[str, Any]) -> None:
    category = make_category("Dieren")
    make_listing(people["member"], "Kattenoppas", category=category)
    login_as("admin")
    url = f"/admin/offers/categories/{category.id}"
    page = client.get(url, headers={"Accept-Language": "en"})
    assert 'name="words"' in page.get_data(as_text=True)
    response = client.post(url, data={"csrf_token": client.csrf_token(), "name_nl": "Dieren",
                                      "name_fr": "Animaux", "name_en": "Pets",
                                      "words": "kat, chat, cat", "parent_id": "",
                                      "position": ""})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Category, category.id).words == "kat, chat, cat"
    assert titles(people["member"], "chat") == {"Kattenoppas"}


def test_demo_listings_found_from_french_and_english_words(people: dict[str, Any]) -> None:
    members = [factories.make_member(display_name=f"Lid {n}") for n in range(8)]
    orgs = [factories.make_organisation(intermediaries=[members[n]], name=f"Org {n}",
                                        slug=f"org-{n}") for n in range(4)]
    demo.seed(random.Random(1), members, orgs)
    db.session.commit()
    viewer = people["member"]
    for word, expected in [("chien", "Hondenuitlaat"), ("dog", "Hondenoppas tijdens vakantie"),
                           ("soupe", "Soep op zondag"), ("soup", "Samen soep maken"),
                           ("ordinateur", "Computer opkuisen"), ("pc", "Computer opkuisen"),
                           ("repassage", "Strijken"), ("ironing", "Strijken"),
                           ("vélo", "Kinderfietsje"), ("bike", "Fietsherstelling")]:
        assert expected in titles(viewer, word), word
    assert "Strijken" not in titles(viewer, "chien")
