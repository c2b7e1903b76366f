"""Demo content: the group's pages (Dutch, some in French), three news items, and the
statutes as a small PDF this module writes itself."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from lets_site.content import files
from lets_site.content import search as content_search
from lets_site.content.models import (
    ContentEditor,
    Document,
    NewsItem,
    Page,
    PageRevision,
    PageText,
    Placement,
    State,
    Visibility,
)
from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.features import DemoContext
from lets_site.settings import LANGUAGES, get_settings

HOW_IT_WORKS_NL = """\
In een LETS-groep ruilen we diensten en spullen zonder euro's. Wie iets doet voor een ander
krijgt **uren** op zijn rekening; wie iets krijgt, betaalt met uren.

- Iedereen begint op nul.
- Een uur is een uur, wat je ook doet.
- Je mag tot een afgesproken grens onder nul gaan.
"""
HOW_IT_WORKS_FR = """\
Dans un SEL, nous échangeons des services et des objets sans euros. Qui rend service
reçoit des **heures** ; qui reçoit un service paie en heures.

- Tout le monde commence à zéro.
- Une heure vaut une heure, quel que soit le service.
"""
HOUSE_RULES_NL = """\
### Huishoudelijk reglement

1. We spreken af voor we ruilen: wat, wanneer en hoeveel uren.
2. Een betaling boek je zelf op de website, dezelfde week nog.
3. Wie lang niet ruilt, mag het bestuur om hulp vragen.
4. We respecteren elkaars privacy: adressen en telefoonnummers zijn enkel voor leden.
5. Bij een meningsverschil bemiddelt het bestuur.
"""
HOUSE_RULES_FR = """\
### Règlement d'ordre intérieur

1. On se met d'accord avant l'échange : quoi, quand et combien d'heures.
2. Le paiement est encodé sur le site, la même semaine.
3. Nous respectons la vie privée de chacun.
"""
JOIN_NL = """\
Kom eerst naar een **instapavond**: we vertellen hoe de groep werkt en je ontmoet andere
leden. De volgende avonden zijn op de eerste dinsdag van de maand, om 19.30 uur in het
ontmoetingscentrum.

Daarna vul je het formulier *Lid worden* in; het bestuur keurt je aanvraag goed.
"""
FAQ_NL = """\
### Moet ik iets kunnen om mee te doen?
Nee. Iedereen kan iets: koken, een lift geven, luisteren, een lekke band plakken.

### Wat kost het lidmaatschap?
Tien euro per jaar voor de zaal en de website, en twee uren voor het bestuur.

### Kan ik ook in het Frans ruilen?
Natuurlijk: de site bestaat in het Nederlands, Frans en Engels.
"""
ABOUT_TITLES = {"nl": "Over ons", "fr": "À propos de nous", "en": "About us"}

# slug, placement, position, {lang: (title, body)}
PAGES: list[tuple[str, str, int, dict[str, tuple[str, str]]]] = [
    ("how-lets-works", Placement.MENU, 10,
     {"nl": ("Hoe werkt LETS", HOW_IT_WORKS_NL), "fr": ("Comment fonctionne un SEL",
                                                       HOW_IT_WORKS_FR)}),
    ("house-rules", Placement.FOOTER, 20,
     {"nl": ("Huishoudelijk reglement", HOUSE_RULES_NL),
      "fr": ("Règlement d'ordre intérieur", HOUSE_RULES_FR)}),
    ("how-to-join", Placement.FOOTER, 30, {"nl": ("Lid worden", JOIN_NL)}),
    ("faq", Placement.FOOTER, 40, {"nl": ("Veelgestelde vragen", FAQ_NL)}),
]

NEWS = [
    (2, "Nieuwe data voor de instapavonden",
     "Vanaf januari elke eerste dinsdag van de maand.",
     "Breng gerust een buur mee. Inschrijven hoeft niet.", True, Visibility.PUBLIC),
    (9, "De ruilbib verhuist in mei", "De boekenruil gaat naar de bibliotheek.",
     "Tot eind april blijft alles in het ontmoetingscentrum.", False, Visibility.PUBLIC),
    (20, "Verslag van de algemene vergadering",
     "Het nieuwe bestuur en de begroting in uren.",
     "Het verslag staat bij de documenten, map *Notulen*.", False, Visibility.MEMBERS),
]


def statutes_pdf(title: str = "Statuten LETS Ieper vzw") -> bytes:
    """A one-page PDF with a line of text, written object by object with a correct
    cross-reference table (no PDF library)."""
    text = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 18 Tf 60 760 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _page(slug: str, placement: str, position: int, texts: dict[str, tuple[str, str]],
          author: Any) -> Page:
    page = Page(slug=slug, state=State.PUBLISHED, visibility=Visibility.PUBLIC,
                placement=placement, position=position, deleted=False)
    for lang, (title, body) in texts.items():
        page.texts.append(PageText(lang=lang, title=title, body=body))
    page.search_text = content_search.page_text(page)
    db.session.add(page)
    db.session.flush()
    db.session.add(PageRevision(page_id=page.id, number=1, author_id=author.id,
                                texts_json=json.dumps(
                                    page.snapshot(), ensure_ascii=False, sort_keys=True)))
    return page


def seed(ctx: DemoContext) -> None:
    members = ctx.made["members"]
    admin = members[0]
    # A content editor (the demo's third printed login is a plain member; this is another).
    editor = next(m for m in members[3:] if m.email and str(m.status) == "active")
    db.session.add(ContentEditor(member_id=editor.id))
    settings = get_settings()
    about = {lang: (ABOUT_TITLES[lang], getattr(settings, f"about_{lang}", "") or "")
             for lang in LANGUAGES if (getattr(settings, f"about_{lang}", "") or "").strip()}
    if about:
        about.setdefault("nl", (ABOUT_TITLES["nl"], ""))
        _page("about-us", Placement.FOOTER, 0, about, admin)
    for slug, placement, position, texts in PAGES:
        _page(slug, placement, position, texts, editor)
    today = utcnow().date()
    for days_ago, title, summary, body, pinned, visibility in NEWS:
        item = NewsItem(title=title, summary=summary, body=body, pinned=pinned,
                        news_date=today - timedelta(days=days_ago), state=State.PUBLISHED,
                        visibility=visibility, author_id=editor.id)
        item.search_text = content_search.news_text(item)
        db.session.add(item)
    content = statutes_pdf()
    stored = files.new_stored_name("pdf")
    files.path_of(stored).write_bytes(content)
    document = Document(title="Statuten", description="De statuten van de vzw, zoals "
                        "neergelegd bij de griffie.", folder="Statuten",
                        visibility=Visibility.MEMBERS, file_name="statuten.pdf",
                        stored_name=stored, content_type="application/pdf",
                        size=len(content), uploader_id=admin.id)
    document.search_text = content_search.document_text(document)
    db.session.add(document)
