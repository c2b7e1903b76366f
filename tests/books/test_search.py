"""The books' ranked full-text search (books/search.py on lets_site/search.py): a word in
the title ranks above one in the authors, above one in the note; accents and case do not
matter; an ISBN is found whole in any form or in part with or without hyphens; the
filters keep working with a query; the htmx request gets the list partial. Runs on SQLite
and, with LETS_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from lets_site.books import services
from lets_site.books.models import Book
from lets_site.extensions import db
from tests.books.helpers import make_book


def _titles(query: str, viewer: Any = None, **filters: Any) -> list[str]:
    return [b.title for b in services.browse(viewer, services.Filters(q=query,
                                                                      **filters)).items]


def test_title_ranks_above_authors_above_note(people: dict[str, Any]) -> None:
    owner = people["member"]
    # Made so that the newest-first order is the reverse of the ranking.
    # The longer the field, the less a word in it weighs: the title is the longest here.
    make_book(owner, "Een huis aan de zee bij Oostende in de winter", authors="Jan Wolkers")
    make_book(owner, "Het verdriet van België", authors="Zeeman")
    make_book(owner, "Kaas", authors="Willem Elsschot", note="zee")
    assert _titles("zee") == ["Een huis aan de zee bij Oostende in de winter",
                              "Het verdriet van België", "Kaas"]
    assert _titles("") == ["Kaas", "Het verdriet van België",
                           "Een huis aan de zee bij Oostende in de winter"]  # newest first


def test_ranking_is_by_the_field_not_by_age(people: dict[str, Any]) -> None:
    owner = people["member"]
    make_book(owner, "Zomerhuis met zwembad", authors="Herman Koch")
    make_book(owner, "Het diner", authors="Herman Koch", note="Zomer aan zee.")
    assert _titles("zomer") == ["Zomerhuis met zwembad", "Het diner"]
    make_book(owner, "Koch en de zomer", authors="Anoniem")
    assert _titles("koch")[0] == "Koch en de zomer"


@pytest.mark.parametrize("query", ["belgie", "BELGIË", "Belgïe", "verdriet belg", "hugo"])
def test_accents_and_case_do_not_matter(people: dict[str, Any], query: str) -> None:
    make_book(people["member"], "Het verdriet van België", authors="Hugo Claus")
    make_book(people["member"], "Kaas", authors="Willem Elsschot")
    assert _titles(query) == ["Het verdriet van België"]


def test_an_accented_query_finds_the_plain_title(people: dict[str, Any]) -> None:
    make_book(people["member"], "Cafe Society", authors="Émile Zola")
    assert _titles("café") == ["Cafe Society"]
    assert _titles("emile") == _titles("ÉMILE") == ["Cafe Society"]


@pytest.mark.parametrize("query", ["9780306406157", "978-0-306-40615-7", "978 0 306 40615 7",
                                   "0-306-40615-2", "0306406152", "978-0-306", "9780306",
                                   "306-40615", "40615"])
def test_isbn_whole_or_in_part_with_or_without_hyphens(people: dict[str, Any],
                                                        query: str) -> None:
    make_book(people["member"], "De avonden", isbn="0-306-40615-2")
    make_book(people["member"], "Kaas", isbn="978-3-16-148410-0")
    assert _titles(query) == ["De avonden"]


def test_a_number_of_four_digits_is_a_title_word(people: dict[str, Any]) -> None:
    make_book(people["member"], "1984", authors="George Orwell", isbn="9780306406157")
    make_book(people["member"], "Kaas", isbn="978-3-16-148410-0")
    assert _titles("1984") == _titles("orwell 1984") == ["1984"]
    assert _titles("40615") == _titles("0-30") == ["1984"]


def test_a_wrong_check_digit_finds_nothing(people: dict[str, Any]) -> None:
    make_book(people["member"], "De avonden", isbn="9780306406157")
    assert _titles("978-0-306-40615-8") == []
    # The start of another ISBN-13, just past this one's (the range's edges).
    assert _titles("978-0-307") == _titles("9780305") == []
    assert _titles("9780306406157") == _titles("978030640615") == ["De avonden"]


def test_filters_keep_working_with_a_query(people: dict[str, Any]) -> None:
    owner = people["member"]
    make_book(owner, "Le Petit Prince", language="fr", genre="children", mode="lend")
    make_book(owner, "De kleine prins", language="nl", genre="children")
    make_book(owner, "Prins Valiant", language="nl", genre="comics")
    assert sorted(_titles("prin")) == ["De kleine prins", "Le Petit Prince", "Prins Valiant"]
    assert sorted(_titles("prin", language="nl")) == ["De kleine prins", "Prins Valiant"]
    assert _titles("prin", language="nl", genre="children") == ["De kleine prins"]
    assert _titles("prin", mode="lend") == ["Le Petit Prince"]
    assert _titles("prin", language="fr", genre="comics") == []


def test_search_follows_visibility_and_state(people: dict[str, Any]) -> None:
    from lets_site.books.models import Visibility

    owner = people["member"]
    make_book(owner, "Zee van tijd", visibility=Visibility.MEMBERS)
    shelved = make_book(owner, "Zee van licht")
    services.shelve(owner, shelved)
    db.session.commit()
    assert _titles("zee") == []
    assert _titles("zee", people["intermediary"]) == ["Zee van tijd"]


def test_an_edit_updates_the_index(people: dict[str, Any]) -> None:
    owner = people["member"]
    book = make_book(owner, "Oude titel", authors="Iemand")
    services.update_book(owner, book, services.BookData(title="Nieuwe titel",
                                                        authors="Anders", note="lente",
                                                        visibility="public"))
    db.session.commit()
    assert _titles("oude") == [] and _titles("iemand") == []
    assert _titles("nieuwe") == _titles("anders") == _titles("lente") == ["Nieuwe titel"]
    # A book handed over to a shelf is searchable on that shelf's page too (copied columns).
    copy = services._copy_to_shelf(book, people["intermediary"])
    db.session.flush()
    assert (copy.search_text, copy.search_authors) == (book.search_text, book.search_authors)
    assert db.session.get(Book, book.id).search_note == "lente"


def test_active_search_gets_the_list_partial(client: Any, people: dict[str, Any]) -> None:
    make_book(people["member"], "De zee", authors="Jan Wolkers")
    make_book(people["member"], "Kaas", authors="Willem Elsschot")
    partial = client.get("/books/?q=zee", headers={"HX-Request": "true"})
    html = partial.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="books"') and "<html" not in html
    assert "De zee" in html and "Kaas" not in html
    assert "HX-Request" in partial.headers["Vary"]
    page = client.get("/books/?q=zee").get_data(as_text=True)
    assert "<html" in page and 'hx-get="/books/"' in page and 'value="zee"' in page


def test_part_of_an_isbn_found_in_many_books_is_tested_per_book(
        people: dict[str, Any], monkeypatch: Any) -> None:
    """Past ISBN_IDS matches the ids are not listed; the same books are found."""
    for n, isbn in enumerate(("9780306406157", "9783161484100", "0-306-40615-2")):
        make_book(people["member"], f"Boek {n}", isbn=isbn)
    listed = sorted(_titles("978-"))
    assert listed == ["Boek 0", "Boek 1", "Boek 2"]
    assert sorted(_titles("03064")) == ["Boek 0", "Boek 2"]
    monkeypatch.setattr(services, "ISBN_IDS", 1)
    assert sorted(_titles("978-")) == listed
    assert sorted(_titles("03064")) == ["Boek 0", "Boek 2"]


def test_a_weighted_index_needs_a_weight_per_column_and_keeps_single_ones_as_they_were(
        ) -> None:
    from lets_site.search import FullText

    with pytest.raises(ValueError, match="weight"):
        FullText("x_fts", "book", columns=("a", "b"), weights=(1.0,))
    with pytest.raises(ValueError, match="identifier"):
        FullText("x_fts", "book", columns=("a; drop",), weights=(1.0,))
    # One column: the same statements as before (migrations 0003 and 0012 wrote them out).
    single = FullText("listing_fts", "listing")
    assert "to_tsvector('simple', search_text)" in single.pg_install()[0]
    assert "rank" not in " ".join(single.sqlite_install())
