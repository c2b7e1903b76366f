"""Demo data of the members feature: forty members (two admins), one managed by the admins,
one leaving, and two candidates waiting for approval. ``ctx.made["members"]`` keeps them in
order for the later steps."""

from __future__ import annotations

from datetime import date, timedelta

from werkzeug.security import generate_password_hash

from lets_site.demo import DEMO_PASSWORD
from lets_site.extensions import db
from lets_site.features import DemoContext
from lets_site.members.models import Member, Role, Status, Visibility

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


def seed(ctx: DemoContext) -> None:
    rng = ctx.rng
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
        if len(ctx.group.languages) > 1:  # a group of several languages: the members' mix
            member.locale = ctx.group.languages[n % len(ctx.group.languages)]
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

    ctx.made["members"] = members
    for role, member in (("admin", members[0]), ("admin", members[1]), ("member", members[2])):
        ctx.logins.append((role, member.account_code or "", member.email or "", DEMO_PASSWORD))
