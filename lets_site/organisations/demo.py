"""Demo data of the organisations feature: four member organisations, each with an
intermediary from the demo members. ``ctx.made["organisations"]`` keeps them in order."""

from __future__ import annotations

from lets_site.demo import DEMO_PASSWORD
from lets_site.extensions import db
from lets_site.features import DemoContext
from lets_site.organisations.models import Intermediary, Organisation
from lets_site.slugs import slugify

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



def seed(ctx: DemoContext) -> None:
    members = ctx.made["members"]
    intermediaries = [members[4], members[8], members[15], members[20]]
    for (name, code, description, website), person in zip(
        ORGANISATIONS, intermediaries, strict=True
    ):
        org = Organisation(slug=slugify(name), name=name, account_code=code,
                           description=description, website=website)
        org.intermediaries.append(Intermediary(member_id=person.id))
        db.session.add(org)
    db.session.flush()

    ctx.made["organisations"] = db.session.query(Organisation).order_by(Organisation.id).all()
    person = intermediaries[0]
    ctx.logins.append(("intermediary", person.account_code or "", person.email or "",
                       DEMO_PASSWORD + "  (Hedera)"))
