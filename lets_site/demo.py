"""Demo data: a LETS group in Ieper with members, admins and member organisations.

Each feature adds its own part through a function here, called in order by ``build_demo``.
The data is fixed (a seeded random generator), so every demo looks the same.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from flask import current_app
from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from lets_site.database import write_transaction
from lets_site.extensions import db
from lets_site.members.models import Member, Role, Status, Visibility
from lets_site.organisations.models import Intermediary, Organisation
from lets_site.site.models import SiteSettings

DEMO_PASSWORD = "demo-lets-ieper"  # noqa: S105 - printed for the demo on purpose

ABOUT = """\
**LETS Ieper** is een ruilkring: buren helpen elkaar met diensten en spullen en rekenen
af in *uren* in plaats van euro. Eén uur is één uur, wie je ook bent.

- Elke maand een **instapavond** in het dienstencentrum: kom gerust kennismaken.
- Elk voorjaar een **boekenruil** in de bibliotheek.
- Lidorganisaties zoals Hedera, Vondels en Westhoek Vrijetijd Anders doen mee via hun
  tussenpersoon.
"""

# (display name, full name, postcode, languages)
PEOPLE = [
    ("Annelies V.", "Annelies Vandenberghe", "8900", "Nederlands, English"),
    ("Marc D.", "Marc Declercq", "8900", "Nederlands, Français"),
    ("Sofie M.", "Sofie Maes", "8902", "Nederlands"),
    ("Jean-Pierre L.", "Jean-Pierre Lefebvre", "8900", "Français, Nederlands"),
    ("Lieve P.", "Lieve Peeters", "8904", "Nederlands"),
    ("Koen W.", "Koen Willems", "8906", "Nederlands, English"),
    ("Marie-Claire D.", "Marie-Claire Dubois", "8908", "Français"),
    ("Bart C.", "Bart Claeys", "8900", "Nederlands"),
    ("Griet D.", "Griet Desmet", "8920", "Nederlands"),
    ("Luc V.", "Luc Vermeulen", "8900", "Nederlands, Français"),
    ("Nathalie L.", "Nathalie Lambert", "8900", "Français, English"),
    ("Hilde G.", "Hilde Goethals", "8902", "Nederlands"),
    ("Pieter D.", "Pieter Devos", "8904", "Nederlands, English"),
    ("Isabelle M.", "Isabelle Martin", "8900", "Français"),
    ("Wim V.", "Wim Verhaeghe", "8908", "Nederlands"),
    ("Els D.", "Els Decock", "8900", "Nederlands"),
    ("Philippe R.", "Philippe Renard", "8954", "Français, Nederlands"),
    ("Katrien V.", "Katrien Vanneste", "8900", "Nederlands"),
    ("Dirk B.", "Dirk Bouckaert", "8906", "Nederlands"),
    ("Céline F.", "Céline François", "8900", "Français"),
    ("Tom L.", "Tom Lievens", "8902", "Nederlands, English"),
    ("An C.", "An Coussement", "8900", "Nederlands"),
    ("Frédéric D.", "Frédéric Dupont", "8940", "Français"),
    ("Veerle D.", "Veerle Dewulf", "8900", "Nederlands"),
    ("Geert V.", "Geert Vandamme", "8904", "Nederlands"),
    ("Sophie L.", "Sophie Leroy", "8900", "Français, Nederlands"),
    ("Jan B.", "Jan Beernaert", "8920", "Nederlands"),
    ("Inge D.", "Inge Dehaene", "8900", "Nederlands"),
    ("Michel S.", "Michel Simon", "8900", "Français"),
    ("Ria V.", "Ria Vandewalle", "8906", "Nederlands"),
    ("Stijn D.", "Stijn Debruyne", "8900", "Nederlands, English"),
    ("Chantal M.", "Chantal Mertens", "8902", "Nederlands, Français"),
    ("Hendrik L.", "Hendrik Lannoo", "8900", "Nederlands"),
    ("Amélie G.", "Amélie Girard", "8900", "Français, English"),
    ("Rik D.", "Rik Deconinck", "8908", "Nederlands"),
    ("Nele V.", "Nele Vanhee", "8900", "Nederlands"),
    ("Yves P.", "Yves Petit", "8954", "Français"),
    ("Mieke S.", "Mieke Steen", "8900", "Nederlands"),
    ("Fatima E.", "Fatima El Amrani", "8900", "Nederlands, Français, العربية"),
    ("Joris V.", "Joris Verstraete", "8904", "Nederlands"),
]

STREETS = ["Meensestraat", "Rijselstraat", "Diksmuidestraat", "Boterstraat", "Lange Torhoutstraat",
           "Elverdingestraat", "Zonnebeekseweg", "Poperingseweg", "Kalfvaart", "Dikkebusseweg"]

BIOS = [
    "Ik woon sinds kort in Ieper en wil graag buren leren kennen.",
    "Gepensioneerd, handig met hout en fietsen. Altijd in voor een babbel.",
    "J'aime cuisiner et je parle français et néerlandais.",
    "Moeder van twee, werk deeltijds. Ik help graag met naaiwerk.",
    "Tuinier in hart en nieren; ik heb vaak te veel courgettes.",
    "",
]

ORGANISATIONS = [
    ("Hedera", "IE-HED",
     "Centrum voor psychiatrische revalidatie. Onze deelnemers bieden wandelingen, "
     "hondenuitlaat, kookhulp, administratie en kledingherstel aan.",
     "https://hedera.example.org"),
    ("Vondels", "IE-VON",
     "Beschut wonen. Wij zoeken vervoer met de auto en iemand die één-op-één les geeft "
     "over Facebook en de computer.",
     "https://vondels.example.org"),
    ("Westhoek Vrijetijd Anders", "IE-WVA",
     "Vrije tijd voor mensen met een beperking. Wij zoeken vervoer met de auto en hulp bij "
     "het soep maken.",
     "https://westhoek-vrijetijd-anders.example.org"),
    ("Muziekensemble De Ieperse Snaar", "IE-SNA",
     "Een muziekensemble dat een concert aanbiedt en helpende handen zoekt op evenementen.",
     ""),
]


def build_demo() -> list[tuple[str, str, str, str]]:
    """Create the schema with the migrations, then the demo data. Returns the logins."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    rng = random.Random(8900)
    with write_transaction():
        logins = _seed(rng)
        db.session.commit()
    return logins


def _seed(rng: random.Random) -> list[tuple[str, str, str, str]]:
    db.session.add(
        SiteSettings(
            id=1, group_name="LETS Ieper", slug="lets-ieper", code_prefix="IE",
            locality="Ieper", region="West-Vlaanderen", country="BE",
            timezone="Europe/Brussels", unit_name="uur", default_language="nl",
            about=ABOUT, contact_email="info@lets-ieper.example.org",
        )
    )
    password_hash = generate_password_hash(DEMO_PASSWORD)
    members: list[Member] = []
    today = date.today()
    for n, (display, full, postcode, languages) in enumerate(PEOPLE, start=1):
        first = full.split()[0].lower().replace("é", "e").replace("è", "e")
        last = full.split()[-1].lower()
        member = Member(
            account_code=f"IE-{n:03d}",
            display_name=display,
            full_name=full,
            email=f"{first}.{last}@example.org",
            phone=f"+32 57 {rng.randint(20, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            address=f"{rng.choice(STREETS)} {rng.randint(1, 180)}",
            postcode=postcode,
            languages=languages,
            bio=rng.choice(BIOS),
            status=Status.ACTIVE,
            joined_on=today - timedelta(days=rng.randint(30, 2500)),
            password_hash=password_hash,
            email_visibility=rng.choice(
                [Visibility.MEMBERS, Visibility.MEMBERS, Visibility.HIDDEN]
            ),
            phone_visibility=Visibility.MEMBERS,
            address_visibility=rng.choice([Visibility.MEMBERS, Visibility.HIDDEN]),
            profile_public=n % 4 == 0,
        )
        member.set_roles([Role.MEMBER, Role.ADMIN] if n <= 2 else [Role.MEMBER])
        members.append(member)
    # A member without e-mail or internet, whose account the admins manage.
    members[-1].email = None
    members[-1].password_hash = None
    members[-1].managed_by_admin = True
    members[-2].status = Status.LEAVING
    # Two candidates waiting for approval.
    for display, full, email in (
        ("Lotte V.", "Lotte Vanhoutte", "lotte.vanhoutte@example.org"),
        ("Julien B.", "Julien Bernard", "julien.bernard@example.org"),
    ):
        candidate = Member(display_name=display, full_name=full, email=email, postcode="8900",
                           status=Status.CANDIDATE, password_hash=password_hash,
                           bio="Ik kwam op de instapavond en wil graag meedoen.")
        candidate.set_roles([Role.MEMBER])
        members.append(candidate)
    db.session.add_all(members)
    db.session.flush()

    intermediaries = [members[4], members[8], members[15], members[20]]
    for (name, code, description, website), person in zip(
        ORGANISATIONS, intermediaries, strict=True
    ):
        from lets_site.organisations.services import slugify

        org = Organisation(slug=slugify(name), name=name, account_code=code,
                           description=description, website=website)
        org.intermediaries.append(Intermediary(member_id=person.id))
        db.session.add(org)
    db.session.flush()

    from lets_site.offers import demo as offers_demo

    offers_demo.seed(rng, members, db.session.query(Organisation).order_by(Organisation.id).all())

    from lets_site.ledger import demo as ledger_demo

    ledger_demo.seed(rng, members, db.session.query(Organisation).order_by(Organisation.id).all())
    return [
        ("admin", members[0].account_code or "", members[0].email or "", DEMO_PASSWORD),
        ("admin", members[1].account_code or "", members[1].email or "", DEMO_PASSWORD),
        ("member", members[2].account_code or "", members[2].email or "", DEMO_PASSWORD),
        ("intermediary", members[4].account_code or "", members[4].email or "",
         DEMO_PASSWORD + "  (Hedera)"),
    ]
