"""Demo offers and wants: categories in nl/fr/en, the member organisations' real offers and
wants (from the group's own story), and about 150 listings by members."""

from __future__ import annotations

import random
from datetime import timedelta

from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.members.models import Member, Status
from lets_site.offers.models import Category, Listing, ListingVisibility, State
from lets_site.offers.services import search_text_for
from lets_site.organisations.models import Organisation

# slug, nl, fr, en, [(slug, nl, fr, en), ...]
CATEGORIES = [
    ("huis-en-tuin", "Huis en tuin", "Maison et jardin", "House and garden", [
        ("tuinieren", "Tuinieren", "Jardinage", "Gardening"),
        ("klussen", "Klussen", "Bricolage", "Odd jobs"),
        ("poetsen", "Poetsen", "Nettoyage", "Cleaning"),
    ]),
    ("vervoer", "Vervoer", "Transport", "Transport", [
        ("autovervoer", "Autovervoer", "Transport en voiture", "Car transport"),
        ("fietsen", "Fietsen", "Vélos", "Bicycles"),
    ]),
    ("eten", "Koken en eten", "Cuisine et repas", "Cooking and food", [
        ("koken", "Koken", "Cuisine", "Cooking"),
        ("bakken", "Bakken", "Pâtisserie", "Baking"),
    ]),
    ("zorg", "Zorg en gezelschap", "Soins et compagnie", "Care and company", [
        ("wandelen", "Wandelen", "Promenades", "Walks"),
        ("dieren", "Dieren", "Animaux", "Pets"),
        ("kinderen", "Kinderoppas", "Garde d'enfants", "Childcare"),
    ]),
    ("les", "Les en computer", "Cours et informatique", "Lessons and computers", [
        ("computer", "Computerhulp", "Aide informatique", "Computer help"),
        ("taal", "Taalles", "Cours de langue", "Language lessons"),
        ("muziekles", "Muziekles", "Cours de musique", "Music lessons"),
    ]),
    ("administratie", "Administratie", "Administration", "Paperwork", []),
    ("kleding", "Kleding en naaiwerk", "Vêtements et couture", "Clothing and sewing", []),
    ("cultuur", "Cultuur en evenementen", "Culture et événements", "Culture and events", [
        ("concerten", "Concerten", "Concerts", "Concerts"),
        ("helpende-handen", "Helpende handen", "Coups de main", "Helping hands"),
    ]),
    ("spullen", "Spullen", "Objets", "Things", [
        ("uitlenen", "Uitlenen", "Prêter", "Lending"),
        ("weggeven", "Weggeven", "Donner", "Giving away"),
    ]),
]

# Other words that find each category's listings: what a French- or English-speaking
# member would type for the Dutch listings (admins extend these on the category page).
WORDS = {
    "huis-en-tuin": "huis, tuin, maison, jardin, house, home, garden",
    "tuinieren": "gras, gazon, haag, moestuin, pelouse, tondre, haie, potager, lawn, hedge",
    "klussen": "klusjes, herstellen, schilderen, bricoler, réparer, peindre, peinture, "
               "repair, painting, DIY, handyman",
    "poetsen": "schoonmaken, strijken, ramen, ménage, repassage, repasser, fenêtres, "
               "vitres, cleaning, ironing, windows",
    "vervoer": "rit, lift, trajet, voiture, ride, car",
    "autovervoer": "auto, rit, chauffeur, voiture, trajet, conduire, car, ride, driver, lift",
    "fietsen": "fiets, fietsje, vélo, bicyclette, bike, bicycle, cycling",
    "eten": "eten, maaltijd, repas, manger, food, meal",
    "koken": "soep, maaltijd, keuken, soupe, repas, cuisiner, soup, meal, cook, kitchen",
    "bakken": "taart, brood, gâteau, tarte, pain, cake, pie, bread",
    "zorg": "zorg, gezelschap, soins, aide, compagnie, care, company",
    "wandelen": "wandeling, babbel, koffie, promenade, balade, café, walk, coffee, chat",
    "dieren": "hond, kat, huisdier, chien, chat, animal, dog, cat, pet",
    "kinderen": "kind, kinderen, oppas, enfant, enfants, baby-sitting, child, children, "
                "babysitting",
    "les": "les, cours, leçon, lesson, class",
    "computer": "computer, pc, laptop, smartphone, gsm, internet, ordinateur, portable, "
                "informatique, tablette, tablet, phone",
    "taal": "taal, Frans, Engels, Nederlands, langue, français, anglais, néerlandais, "
            "language, French, English, Dutch",
    "muziekles": "muziek, gitaar, piano, musique, guitare, music, guitar",
    "administratie": "papierwerk, belastingen, brieven, formulieren, papiers, impôts, "
                     "lettres, formulaires, taxes, letters, forms",
    "kleding": "kleren, naaien, herstellen, vêtements, coudre, retouches, clothes, sewing, "
               "mending",
    "cultuur": "feest, evenement, fête, événement, party, event",
    "concerten": "muziek, concert, musique, music",
    "helpende-handen": "helpen, verhuis, aider, déménagement, help, moving",
    "spullen": "objets, choses, stuff",
    "uitlenen": "lenen, gereedschap, prêter, emprunter, outils, lend, borrow, tools",
    "weggeven": "gratis, donner, gratuit, give away, free",
}

# The member organisations' own offers and wants, by organisation index.
ORGANISATION_LISTINGS = [
    (0, "offer", "Wandelingen in en rond Ieper",
     "Onze deelnemers wandelen graag met u mee: langs de vestingen of in het Bellewaerde"
     "park. Op weekdagen in de namiddag.", "wandelen", 100, "hour"),
    (0, "offer", "Hondenuitlaat", "Wij laten uw hond uit, ook meerdere keren per week.",
     "dieren", 100, "hour"),
    (0, "offer", "Kookhulp", "Hulp in de keuken: groenten snijden, soep, een stoofpot.",
     "koken", 100, "hour"),
    (0, "offer", "Administratie en papierwerk", "Brieven sorteren, formulieren invullen, "
     "alles netjes in mappen.", "administratie", 100, "hour"),
    (0, "offer", "Kledingherstel", "Zomen, knopen, ritsen vervangen en kleine herstellingen.",
     "kleding", 100, "item"),
    (1, "want", "Vervoer met de auto", "Wie rijdt onze bewoners af en toe naar de dokter of "
     "de winkel?", "autovervoer", None, "agree"),
    (1, "want", "Les in Facebook en de computer",
     "Eén-op-één uitleg: foto's delen, berichten sturen, veilig online.", "computer", 100,
     "hour"),
    (2, "want", "Vervoer naar activiteiten", "Chauffeurs gezocht voor uitstappen op zaterdag.",
     "autovervoer", None, "agree"),
    (2, "want", "Samen soep maken", "Wie helpt ons met soep maken voor de "
     "vrijetijdsnamiddag?", "koken", 100, "hour"),
    (3, "offer", "Concert op uw feest", "Het ensemble speelt een concert van een uur: "
     "klassiek en volksmuziek.", "concerten", 300, "item"),
    (3, "want", "Helpende handen bij evenementen", "Stoelen zetten, drank schenken, "
     "opruimen na het concert.", "helpende-handen", 100, "hour"),
]

# kind, title, description, category, price in hundredths (None: to agree), basis
MEMBER_LISTINGS = [
    ("offer", "Gras maaien", "Ik maai uw gazon met mijn eigen maaier.", "tuinieren", 100,
     "hour"),
    ("offer", "Hagen snoeien", "Heb je een haag die uit de hand loopt?", "tuinieren", 100,
     "hour"),
    ("want", "Hulp in de moestuin", "Wie helpt me spitten in het voorjaar?", "tuinieren", 100,
     "hour"),
    ("offer", "Kleine klusjes", "Een lamp ophangen, een kast in elkaar zetten.", "klussen",
     100, "hour"),
    ("want", "Iemand om te schilderen", "Mijn keuken moet geschilderd worden.", "klussen",
     100, "hour"),
    ("offer", "Ramen wassen", "Binnen en buiten, tot de eerste verdieping.", "poetsen", 100,
     "hour"),
    ("offer", "Strijken", "Ik strijk uw hemden en lakens, bij mij thuis.", "poetsen", 100,
     "hour"),
    ("offer", "Rit naar het station", "Ik breng je met de auto naar het station van Ieper.",
     "autovervoer", 50, "item"),
    ("want", "Vervoer naar het ziekenhuis", "Af en toe een rit naar Jan Yperman.",
     "autovervoer", None, "agree"),
    ("offer", "Fietsherstelling", "Banden plakken, remmen afstellen, ketting smeren.",
     "fietsen", 100, "hour"),
    ("want", "Kinderfietsje", "Wie heeft een fietsje voor een kind van vijf?", "fietsen",
     None, "agree"),
    ("offer", "Soep op zondag", "Elke zondag maak ik een grote pot soep; er is genoeg.",
     "koken", 50, "item"),
    ("offer", "Couscous en tajine", "Ik kook graag voor een groep: couscous, tajine, "
     "harira.", "koken", 100, "hour"),
    ("offer", "Taart bakken", "Appeltaart, rijsttaart of een taart naar keuze.", "bakken",
     150, "item"),
    ("want", "Brood bakken leren", "Wie leert me zuurdesembrood bakken?", "bakken", 100,
     "hour"),
    ("offer", "Gezelschap en een babbel", "Een kopje koffie en een babbel, in het café of "
     "bij u thuis.", "wandelen", 100, "hour"),
    ("offer", "Koffie in het café", "Samen naar het café op de Grote Markt.", "wandelen", 100,
     "hour"),
    ("offer", "Kattenoppas", "Ik zorg voor uw kat als u op reis bent.", "dieren", 50, "item"),
    ("want", "Hondenoppas tijdens vakantie", "Twee weken in juli.", "dieren", None, "agree"),
    ("offer", "Oppassen op kinderen", "'s Avonds of in het weekend.", "kinderen", 100, "hour"),
    ("offer", "Hulp met de smartphone", "Apps installeren, foto's overzetten, "
     "WhatsApp uitleggen.", "computer", 100, "hour"),
    ("want", "Computer opkuisen", "Mijn laptop is traag geworden.", "computer", 100, "hour"),
    ("offer", "Conversation en français", "Je propose des conversations en français pour "
     "débutants.", "taal", 100, "hour"),
    ("offer", "English conversation", "Practise your English over a cup of tea.", "taal", 100,
     "hour"),
    ("want", "Les Nederlands", "Ik zoek iemand om Nederlands mee te oefenen.", "taal", 100,
     "hour"),
    ("offer", "Gitaarles voor beginners", "Akkoorden en eenvoudige liedjes.", "muziekles",
     100, "hour"),
    ("offer", "Belastingbrief invullen", "Ik help met Tax-on-web.", "administratie", 100,
     "hour"),
    ("offer", "Broeken inkorten", "Zomen en kleine herstellingen.", "kleding", 50, "item"),
    ("want", "Naailes", "Wie leert me werken met een naaimachine?", "kleding", 100, "hour"),
    ("offer", "Ladder uitlenen", "Een ladder van vier meter, af te halen.", "uitlenen", 20,
     "item"),
    ("offer", "Boormachine te leen", "Met boren voor hout, steen en metaal.", "uitlenen", 20,
     "item"),
    ("offer", "Courgettes en tomaten", "Te veel uit de tuin: kom maar halen.", "weggeven",
     None, "agree"),
    ("want", "Kartonnen dozen voor verhuis", "Ik verhuis in het voorjaar.", "weggeven", None,
     "agree"),
    ("offer", "Helpen bij een verhuis", "Dozen dragen en meubels demonteren.",
     "helpende-handen", 100, "hour"),
    ("offer", "Foto's maken op uw feest", "Ik maak foto's en zet ze op een stick.",
     "concerten", 100, "hour"),
]


def _categories() -> dict[str, Category]:
    by_slug: dict[str, Category] = {}
    for position, (slug, nl, fr, en, children) in enumerate(CATEGORIES):
        top = Category(slug=slug, name_nl=nl, name_fr=fr, name_en=en, position=position,
                       words=WORDS.get(slug, ""))
        db.session.add(top)
        by_slug[slug] = top
        for child_position, (c_slug, c_nl, c_fr, c_en) in enumerate(children):
            child = Category(slug=c_slug, name_nl=c_nl, name_fr=c_fr, name_en=c_en,
                             position=child_position, parent=top,
                             words=WORDS.get(c_slug, ""))
            db.session.add(child)
            by_slug[c_slug] = child
    db.session.flush()
    return by_slug


def _listing(rng: random.Random, category: Category, kind: str, title: str, description: str,
             price: int | None, basis: str, **owner: object) -> Listing:
    now = utcnow()
    created = now - timedelta(days=rng.randint(0, 300), minutes=rng.randint(0, 1440))
    listing = Listing(
        kind=kind, title=title, description=description, category=category,
        price_amount=price, price_basis=basis,
        visibility=ListingVisibility.PUBLIC if rng.random() < 0.4 else ListingVisibility.MEMBERS,
        state=State.PUBLISHED, created_at=created, updated_at=created,
        valid_until=created + timedelta(days=365),
        search_text=search_text_for(title, description, category),
        **owner,
    )
    db.session.add(listing)
    return listing


def seed(rng: random.Random, members: list[Member], orgs: list[Organisation]) -> None:
    categories = _categories()
    for index, kind, title, description, slug, price, basis in ORGANISATION_LISTINGS:
        org = orgs[index]
        listing = _listing(rng, categories[slug], kind, title, description, price, basis,
                           owner_org_id=org.id, contact_member_id=org.intermediaries[0].member_id)
        listing.visibility = ListingVisibility.PUBLIC
    active = [m for m in members if m.status == Status.ACTIVE and m.email]
    target = 150 - len(ORGANISATION_LISTINGS)
    for n in range(target):
        kind, title, description, slug, price, basis = MEMBER_LISTINGS[n % len(MEMBER_LISTINGS)]
        owner = active[(n * 7 + rng.randint(0, 3)) % len(active)]
        listing = _listing(rng, categories[slug], kind, title, description, price, basis,
                           owner_member_id=owner.id, contact_member_id=owner.id)
        roll = rng.random()
        if roll < 0.05:
            listing.state = State.DRAFT
        elif roll < 0.09:
            listing.state = State.WITHDRAWN
        elif roll < 0.15:
            # Past its date: out of the lists, still at its URL, renewable by its owner.
            listing.valid_until = utcnow() - timedelta(days=rng.randint(1, 60))
    db.session.flush()
