"""Demo data of the partners feature, from the workshop report (DOMAIN.md): the partners
LETS groups work with and what they did together, "8400 TALENTEN" as a new member
organisation, the brainstorm list as prospects at various stages, a partner coordinator,
and two contact scripts (Dutch and French), shared with other groups."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from lets_site.database import utcnow
from lets_site.demo import DEMO_PASSWORD
from lets_site.extensions import db
from lets_site.features import DemoContext
from lets_site.organisations import services as organisations
from lets_site.partners.models import (
    Collaboration,
    ContactScript,
    ContactVisibility,
    Coordinator,
    Kind,
    LogKind,
    Partner,
    PartnerContact,
    Prospect,
    ProspectLog,
    ScriptValues,
    Status,
    Visibility,
)
from lets_site.partners.services import _name_key
from lets_site.slugs import slugify

# name, sector, description, website, address, gives, needs, contacts
PARTNERS: list[tuple[str, str, str, str, str, str, str, list[tuple[str, str, str, str]]]] = [
    ("Vormingplus Westhoek", "adult_education",
     "Centrum voor vorming en ontmoeting voor volwassenen. Begeleidde onze groep een jaar "
     "lang.", "https://www.vormingplus.example.org", "Ieperstraat 1, 8900 Ieper",
     "Begeleiding, betaald drukwerk, films voor filmavonden.",
     "Groepen die hun vormingsaanbod bekendmaken.",
     [("Hanne Devriendt", "educatief medewerker", "hanne@vormingplus.example.org",
       "coordinators")]),
    ("Stad Ieper: duurzaamheidsambtenaar", "local_government",
     "De duurzaamheidsambtenaar van de stad steunt initiatieven rond delen en hergebruik.",
     "https://www.ieper.example.org", "Grote Markt 34, 8900 Ieper",
     "Een deel van de kosten van spreker- en filmavonden; gratis zaaltjes.",
     "Verhalen over lokale deeleconomie voor het stadsmagazine.",
     [("Pieter Lambrecht", "duurzaamheidsambtenaar", "duurzaam@ieper.example.org",
       "members")]),
    ("Cultuurraad Ieper", "culture",
     "De lokale cultuurraad. Als lid krijgen we een kleine subsidie en gratis zalen.",
     "", "Cultuurcentrum, 8900 Ieper",
     "Een kleine werkingssubsidie, gratis gebruik van zalen, netwerkmomenten.",
     "Een jaarverslag en aanwezigheid op de algemene vergadering.", []),
    ("Stadsbibliotheek Ieper", "library",
     "De bibliotheek organiseert met ons de jaarlijkse boekenruil.",
     "https://ieper.bibliotheek.example.org", "Weverijstraat 9, 8900 Ieper",
     "Ruimte in de bibliotheek en de kosten van de boekenruil.",
     "Vrijwilligers om boeken te sorteren.",
     [("Ellen Vanneste", "bibliothecaris", "ellen.vanneste@example.org", "members")]),
    ("Lokaal dienstencentrum De Zonnebloem", "care",
     "Dienstencentrum in de buurt, waar we onze instapavonden houden.", "",
     "Zonnebeekseweg 12, 8900 Ieper",
     "Een gratis zaaltje met computers: nieuwkomers proberen het systeem meteen uit.",
     "Hulp bij kleine klussen voor oudere bezoekers.", []),
    ("Borderland festival", "events",
     "Lokaal festival. LETS Leie vierde er zijn twintigste verjaardag met een stand en "
     "workshops.", "https://borderland.example.org", "",
     "Een standplaats; gratis toegang en drankbonnetjes voor wie vooraf inschreef.",
     "Workshops en vrijwilligers.", []),
    ("BMLIK", "social",
     "Beweging van Mensen met Laag Inkomen en Kinderen. Samen koken we met "
     "voedseloverschotten.", "", "",
     "Deelnemers en een keuken voor kookworkshops.", "Helpende handen bij de workshops.",
     [("Rachida Bouzid", "vrijwilliger", "", "coordinators")]),
    ("De Antenne, sociale kruidenier", "food",
     "Sociale kruidenier die ons voedseloverschotten geeft voor de kookworkshops.", "", "",
     "Voedseloverschotten.", "Vervoer van voedsel.", []),
]

# partner index, date, title, description, support, euro, open, visitors
COLLABORATIONS: list[tuple[int, date, str, str, str, int | None, bool, int | None]] = [
    (0, date(2018, 9, 1), "Begeleiding van de groep gedurende een jaar",
     "Vormingplus begeleidde de opstart en de werking van de groep.", "people", None, False,
     None),
    (0, date(2019, 2, 12), "Drukwerk: folders en affiches",
     "Vormingplus betaalde het drukwerk voor onze bekendmaking.", "money,publicity", 250,
     False, None),
    (1, date(2019, 3, 21), "Sprekersavond over de deeleconomie",
     "De stad betaalde een deel van de spreker en gaf een zaal.", "room,money", 150, True, 41),
    (2, date(2019, 1, 15), "Lid van de cultuurraad",
     "Kleine werkingssubsidie na het papierwerk van het lidmaatschap.", "money", 125, False,
     None),
    (4, date(2019, 1, 24), "Instapavond in het dienstencentrum",
     "Nieuwkomers probeerden het systeem meteen uit.", "room", None, True, 9),
    (3, date(2019, 4, 27), "Boekenruil in de bibliotheek",
     "De bibliotheek stond in voor de kosten en de ruimte.", "room,money,publicity", 80,
     True, 63),
    (0, date(2019, 5, 18), "Filmvoorstelling A Plastic Ocean",
     "Vormingplus zorgde voor de film, wij bemanden de cafetaria.", "material,publicity",
     None, True, 34),
    (4, date(2019, 6, 13), "Instapavond in het dienstencentrum", "", "room", None, True, 6),
    (5, date(2019, 8, 24), "20 jaar LETS Leie op Borderland",
     "Stand en workshops; leden van naburige LETS- en SEL-groepen waren uitgenodigd.",
     "room,publicity", None, True, 120),
    (4, date(2019, 9, 19), "Instapavond in het dienstencentrum", "", "room", None, True, 11),
    (1, date(2019, 10, 17), "Filmavond over hergebruik",
     "De stad droeg bij in de kosten en leende een zaaltje.", "room,money", 120, True, 28),
    (6, date(2019, 11, 16), "Kookworkshop met voedseloverschotten",
     "Samen met BMLIK, met overschotten van De Antenne.", "people,material", None, True, 18),
    (7, date(2019, 11, 16), "Voedseloverschotten voor de kookworkshop", "", "material", None,
     False, None),
    (4, date(2019, 12, 12), "Instapavond in het dienstencentrum", "", "room", None, True, 7),
    (3, date(2020, 4, 25), "Tweede boekenruil in de bibliotheek", "",
     "room,money,publicity", 80, True, 71),
    (6, date(2020, 2, 8), "Kookworkshop: soep van overschotten", "", "people,material", None,
     True, 15),
]

# name, sector, status, owner index (0, 1: admins; 2: coordinator), next step, days ahead
PROSPECTS: list[tuple[str, str, str, int | None, str, int | None]] = [
    ("Scholen (kinderletsgroep)", "schools", "idea", None, "", None),
    ("De Kringwinkel", "environment", "to_contact", 2, "Bellen naar de winkelverantwoordelijke",
     5),
    ("Repair Café Ieper", "environment", "contacted", 2, "Voorstel voor een gezamenlijke "
     "herstelnamiddag sturen", -4),
    ("Natuurpunt", "environment", "meeting", 0, "Kennismaking op de volgende bestuursvergadering",
     12),
    ("Oxfam Wereldwinkel", "food", "not_now", 1, "", None),
    ("Voedselbank", "food", "to_contact", 0, "Mail sturen met het contactscript", 2),
    ("Femma", "social", "idea", None, "", None),
    ("Velt", "environment", "contacted", 2, "Zadenruil samen voorbereiden", 20),
    ("Tuinhier", "environment", "idea", None, "", None),
    ("Gezinsbond", "social", "to_contact", 1, "Contactpersoon zoeken", -2),
    ("Buurderij", "food", "meeting", 2, "Afspraak op de boerderij", 9),
    ("Fair Trade trekkersgroep", "umbrella", "contacted", 1, "Opvolgen na de eerste mail", 3),
    ("Stichting Stro", "umbrella", "idea", None, "", None),
    ("OCMW", "social", "to_contact", 0, "Afspraak vragen bij de sociale dienst", 30),
]

SCRIPTS = [
    ("Eerste kennismaking", "nl", "Kennismaking met {group_name}",
     "Beste {contact_name},\n\n"
     "Wij zijn {group_name}, een LETS-groep: buren die diensten en goederen ruilen met een "
     "eigen rekeneenheid in plaats van euro. Wij werken graag samen met organisaties zoals "
     "{organisation}.\n\n"
     "Wat wij kunnen bieden: {our_offer}\n\n"
     "Kom gerust eens kijken op onze volgende instapavond: {next_intro_evening}.\n\n"
     "Met vriendelijke groeten,\n\n{sender_name}\n{group_name}\n"),
    ("Première prise de contact", "fr", "Faisons connaissance : {group_name}",
     "Madame, Monsieur {contact_name},\n\n"
     "Nous sommes {group_name}, un SEL (système d'échange local) : des voisins qui "
     "échangent services et biens dans une unité locale plutôt qu'en euros. Nous aimerions "
     "collaborer avec {organisation}.\n\n"
     "Ce que nous proposons : {our_offer}\n\n"
     "Venez nous rencontrer à notre prochaine soirée d'information : {next_intro_evening}."
     "\n\nBien cordialement,\n\n{sender_name}\n{group_name}\n"),
]


def seed(ctx: DemoContext) -> None:
    members = ctx.made["members"]
    admin, coordinator = members[0], members[5]
    db.session.add(Coordinator(member_id=coordinator.id))

    partners: list[Partner] = []
    for name, sector, description, website, address, gives, needs, contacts in PARTNERS:
        partner = Partner(kind=Kind.COLLABORATION, name=name, name_key=_name_key(name),
                          slug=slugify(name, fallback="partner"), sector=sector,
                          description=description, website=website, address=address,
                          gives=gives, needs=needs, visibility=Visibility.PUBLIC)
        for person, role, email, visibility in contacts:
            partner.contacts.append(PartnerContact(name=person, role=role, email=email,
                                                   visibility=ContactVisibility(visibility)))
        partners.append(partner)
    db.session.add_all(partners)

    # "8400 TALENTEN" (FMDO) joined as a member organisation; Hedera is one already.
    talenten = organisations.create_organisation(admin, organisations.OrganisationData(
        name="8400 TALENTEN (FMDO)",
        description="Project van FMDO dat de talenten van nieuwkomers koppelt aan de vraag "
                    "naar vrijwilligerswerk. Via het project kan je bij ons een kapper vinden.",
        website="https://fmdo.example.org"), "IE-TAL")
    organisations.add_intermediary(admin, talenten, members[30].account_code or "")
    for org, sector, gives in ((talenten, "migration", "Talenten van nieuwkomers: een kapper, "
                                                      "vertalingen, koken."),
                               (ctx.made["organisations"][0], "care",
                                "Wandelingen, honden uitlaten, gerechten bereiden.")):
        partners.append(Partner(kind=Kind.MEMBER, organisation_id=org.id, name=org.name,
                                name_key=_name_key(org.name), slug=org.slug, sector=sector,
                                gives=gives, visibility=Visibility.PUBLIC))
        db.session.add(partners[-1])
    db.session.flush()

    for index, day, title, description, support, euro, open_, visitors in COLLABORATIONS:
        db.session.add(Collaboration(
            partner_id=partners[index].id, happened_on=day, title=title,
            description=description, support=support,
            amount_cents=euro * 100 if euro is not None else None,
            open_to_non_members=open_, visitors=visitors, visibility=Visibility.PUBLIC))
    db.session.add(Collaboration(
        partner_id=partners[-2].id, happened_on=date(2020, 1, 20),
        title="8400 TALENTEN wordt lid van de groep",
        description="Een kapper uit het project biedt zijn diensten aan in LETS-eenheden.",
        support="people", visibility=Visibility.PUBLIC))

    _prospects(ctx, [admin, members[1], coordinator])
    # Shared with other LETS groups: the federation demo's hub lists them, and each group
    # site that follows its neighbours offers theirs for import.
    for title, language, subject, body in SCRIPTS:
        db.session.add(ContactScript(title=title, language=language, subject=subject,
                                     body=body, shared=True))
    db.session.add(ScriptValues(
        id=1, shared_changed_at=utcnow(),
        our_offer="een voorstelling van LETS op jullie vergadering, een stand op jullie "
                  "activiteiten en een netwerk van veertig buren die elkaar helpen",
        next_intro_evening="donderdag om 19.30 uur in dienstencentrum De Zonnebloem"))
    db.session.flush()
    ctx.made["partners"] = partners
    ctx.logins.append(("coordinator", coordinator.account_code or "", coordinator.email or "",
                       DEMO_PASSWORD + "  (partners)"))


def _prospects(ctx: DemoContext, owners: list[Any]) -> None:
    today = date.today()
    for name, sector, status, owner, step, days in PROSPECTS:
        prospect = Prospect(name=name, name_key=_name_key(name), sector=sector, status=status,
                            owner_id=owners[owner].id if owner is not None else None,
                            next_step=step,
                            next_step_on=today + timedelta(days=days) if days is not None
                            else None)
        db.session.add(prospect)
        db.session.flush()
        if status in (Status.CONTACTED, Status.MEETING, Status.NOT_NOW):
            who = owners[owner if owner is not None else 0]
            db.session.add(ProspectLog(
                prospect_id=prospect.id, kind=LogKind.CONTACT, medium="phone",
                happened_on=today - timedelta(days=ctx.rng.randint(10, 40)), actor_id=who.id,
                summary=f"Eerste telefoon met {name}: interesse, vragen om meer uitleg."))
            db.session.add(ProspectLog(
                prospect_id=prospect.id, kind=LogKind.STATUS, happened_on=today
                - timedelta(days=ctx.rng.randint(1, 9)), old_status="to_contact",
                new_status=status, actor_id=who.id))
