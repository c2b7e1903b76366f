"""Demo books for the library swap in Ieper: about 100 books in Dutch, French and English
on members' shelves and a member organisation's, across the three modes and states, with
valid ISBNs (made here from a country prefix and a check digit: they pass the checksum,
they are not the real editions' numbers), a few loans (one overdue) and open requests;
and a dozen of them brought to the library's yearly book swap (the events' demo step runs
first and makes it; books finds it through the feature contract)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from lets_site.books import search, swaps
from lets_site.books.isbn import to_isbn13
from lets_site.books.models import Book, BookRequest, BookState, Mode, RequestState, Visibility
from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.ledger import services as ledger
from lets_site.members.models import Member, Status
from lets_site.organisations.models import Organisation

# title, authors, language, genre
TITLES = [
    ("De avonden", "Gerard Reve", "nl", "novel"),
    ("Het verdriet van België", "Hugo Claus", "nl", "novel"),
    ("Max Havelaar", "Multatuli", "nl", "novel"),
    ("De Metsiers", "Hugo Claus", "nl", "novel"),
    ("Pallieter", "Felix Timmermans", "nl", "novel"),
    ("De leeuw van Vlaanderen", "Hendrik Conscience", "nl", "history"),
    ("Het achterhuis", "Anne Frank", "nl", "history"),
    ("Oorlog en terpentijn", "Stefan Hertmans", "nl", "novel"),
    ("Congo. Een geschiedenis", "David Van Reybrouck", "nl", "history"),
    ("Het smelt", "Lize Spit", "nl", "novel"),
    ("De helaasheid der dingen", "Dimitri Verhulst", "nl", "novel"),
    ("Kinderen van Kro", "Tom Lanoye", "nl", "novel"),
    ("Kaas", "Willem Elsschot", "nl", "novel"),
    ("Jan Klaassen en de Wilde Vlaamse Ardennen", "Willy Vandersteen", "nl", "comics"),
    ("Suske en Wiske: De Sprietatoren", "Willy Vandersteen", "nl", "comics"),
    ("Dolfje Weerwolfje", "Paul van Loon", "nl", "children"),
    ("Pluk van de Petteflet", "Annie M.G. Schmidt", "nl", "children"),
    ("Koken met restjes", "Pascale Naessens", "nl", "cooking"),
    ("De moestuin in de winter", "Velt", "nl", "garden"),
    ("Wandelen in de Westhoek", "Toerisme Westhoek", "nl", "travel"),
    ("De zaak Alzheimer", "Jef Geeraerts", "nl", "crime"),
    ("Le Petit Prince", "Antoine de Saint-Exupéry", "fr", "children"),
    ("L'Étranger", "Albert Camus", "fr", "novel"),
    ("Les Misérables", "Victor Hugo", "fr", "novel"),
    ("Maigret et le corps sans tête", "Georges Simenon", "fr", "crime"),
    ("L'Élégance du hérisson", "Muriel Barbery", "fr", "novel"),
    ("Stupeur et tremblements", "Amélie Nothomb", "fr", "novel"),
    ("Tintin au Congo", "Hergé", "fr", "comics"),
    ("Astérix le Gaulois", "René Goscinny, Albert Uderzo", "fr", "comics"),
    ("Le Comte de Monte-Cristo", "Alexandre Dumas", "fr", "novel"),
    ("La cuisine des légumes oubliés", "Collectif", "fr", "cooking"),
    ("Poèmes saturniens", "Paul Verlaine", "fr", "poetry"),
    ("The Hobbit", "J.R.R. Tolkien", "en", "novel"),
    ("Pride and Prejudice", "Jane Austen", "en", "novel"),
    ("Small Is Beautiful", "E.F. Schumacher", "en", "nonfiction"),
    ("The Gruffalo", "Julia Donaldson", "en", "children"),
    ("Harry Potter and the Philosopher's Stone", "J.K. Rowling", "en", "youth"),
    ("The Murder of Roger Ackroyd", "Agatha Christie", "en", "crime"),
    ("Sapiens", "Yuval Noah Harari", "en", "nonfiction"),
]
PREFIX = {"nl": "97890", "fr": "9782", "en": "9780"}
NOTES = ["", "", "Een beetje vergeeld, verder goed.", "Met opdracht voorin.",
         "Quelques pages cornées.", "Hardcover."]
WANT_MESSAGES = ["Graag! Ik kan het ophalen op de boekenruil in de bib.",
                 "Dit wou ik al lang lezen. Mag ik het lenen?",
                 "Je peux passer le chercher samedi ?"]


def valid_isbn(rng: random.Random, language: str) -> str:
    prefix = PREFIX[language]
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(12 - len(prefix)))
    for check in "0123456789":  # the one check digit that makes it valid
        number = to_isbn13(body + check)
        if number is not None:
            return number
    raise AssertionError("no check digit")  # pragma: no cover


def seed(rng: random.Random, members: list[Member], organisations: list[Organisation],
         count: int = 100) -> list[Book]:
    active = [m for m in members if m.status == Status.ACTIVE]
    if not active:
        return []
    now = utcnow()
    decimals = ledger.get_settings().decimals
    owners: list[Member | Organisation | None] = [*active, *organisations[:1]]
    books: list[Book] = []
    for n in range(count):
        title, authors, language, genre = TITLES[n % len(TITLES)]
        owner = owners[n % len(owners)]
        mode = (Mode.GIVE, Mode.LEND, Mode.SWAP)[rng.randrange(3)]
        state = BookState.SHELVED if n % 17 == 5 else BookState.AVAILABLE
        book = Book(
            title=title, authors=authors, language=language, genre=genre,
            isbn=valid_isbn(rng, language) if n % 6 else None,
            condition=("new", "good", "worn")[rng.randrange(3)],
            note=NOTES[rng.randrange(len(NOTES))], mode=mode,
            price=(n % 3 + 1) * 10 ** decimals if n % 8 == 3 else None,
            visibility=Visibility.PUBLIC if n % 3 else Visibility.MEMBERS, state=state,
            owner_member_id=owner.id if isinstance(owner, Member) else None,
            owner_org_id=owner.id if isinstance(owner, Organisation) else None,
            created_at=now - timedelta(days=rng.randrange(1, 300), minutes=n),
        )
        book.updated_at = book.created_at
        search.fill(book)
        db.session.add(book)
        books.append(book)
    db.session.flush()
    _loans_and_requests(books, active)
    db.session.flush()
    return books


def _loans_and_requests(books: list[Book], members: list[Member]) -> None:
    now = utcnow()
    lendable = [b for b in books if b.mode == Mode.LEND and b.state == BookState.AVAILABLE
                and b.owner_member_id is not None]
    # Three loans, the first one three weeks overdue.
    for i, book in enumerate(lendable[:3]):
        borrower = next(m for m in members if m.id != book.owner_member_id)
        due = (now - timedelta(days=21)).date() if i == 0 else (now + timedelta(days=14 + i)).date()
        db.session.add(BookRequest(
            book_id=book.id, requester_id=borrower.id, message=WANT_MESSAGES[1],
            state=RequestState.HANDED_OVER, open_key=f"{book.id}-{borrower.id}",
            busy_book=book.id, due_date=due, created_at=now - timedelta(days=50),
            decided_at=now - timedelta(days=49), handed_over_at=now - timedelta(days=48)))
        book.state = BookState.ON_LOAN
    # Open requests on a few books that are offered.
    offered = [b for b in books if b.state == BookState.AVAILABLE and b.owner_member_id]
    for i, book in enumerate(offered[3:9]):
        asker = next(m for m in reversed(members) if m.id != book.owner_member_id)
        db.session.add(BookRequest(
            book_id=book.id, requester_id=asker.id, message=WANT_MESSAGES[i % 3],
            state=RequestState.OPEN, open_key=f"{book.id}-{asker.id}",
            created_at=now - timedelta(days=i + 1)))
    # Two books already given away at last year's swap.
    for book in offered[12:14]:
        taker = next(m for m in members if m.id != book.owner_member_id)
        db.session.add(BookRequest(
            book_id=book.id, requester_id=taker.id, state=RequestState.HANDED_OVER,
            created_at=now - timedelta(days=200), decided_at=now - timedelta(days=200),
            handed_over_at=now - timedelta(days=199)))
        book.state = BookState.CLOSED


SWAP_BOOKS = 12


def bring_to_swap(books: list[Book]) -> list[Any]:
    """A dozen available books of members, from several shelves and in the three
    languages, brought to the coming book swap with the library (the first coming one)."""
    coming = swaps.coming_swaps(None)
    event = next((e for e in coming if any("bibliotheek" in p.casefold()
                                           for p in e.partner_list())),
                 coming[0] if coming else None)
    if event is None:
        return []
    candidates = [b for b in books if b.state == BookState.AVAILABLE and b.owner_member]
    by_language = [[b for b in candidates if b.language == lang] for lang in PREFIX]
    # Taken in turn from each language: half Dutch when there are enough, some French and
    # English.
    picked: list[Book] = []
    while len(picked) < SWAP_BOOKS and any(by_language):
        for index, shelf in enumerate(by_language):
            if shelf and len(picked) < SWAP_BOOKS:
                picked.append(shelf.pop(0))
            if index == 0 and shelf and len(picked) < SWAP_BOOKS:
                picked.append(shelf.pop(0))
    return [swaps.bring(book.owner_member, book, event)  # type: ignore[arg-type]
            for book in picked]
