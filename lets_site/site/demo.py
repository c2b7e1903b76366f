"""Demo data of the site feature: the group's settings (a LETS group in Ieper, or the
group ``ctx.group`` names)."""

from __future__ import annotations

from lets_site.extensions import db
from lets_site.features import DemoContext
from lets_site.settings import SiteSettings

ABOUT_NL = """\
**LETS Ieper** is een ruilkring: buren helpen elkaar met diensten en spullen en rekenen
af in *uren* in plaats van euro. Eén uur is één uur, wie je ook bent.

- Elke maand een **instapavond** in het dienstencentrum: kom gerust kennismaken.
- Elk voorjaar een **boekenruil** in de bibliotheek.
- Lidorganisaties zoals Hedera, Vondels en Westhoek Vrijetijd Anders doen mee via hun
  tussenpersoon.
"""

ABOUT_FR = """\
**LETS Ieper** est un système d'échange local : des voisins s'entraident avec des services
et des objets et comptent en *heures* plutôt qu'en euros. Une heure vaut une heure, qui
que vous soyez.

- Chaque mois, une **soirée d'accueil** au centre de services : venez faire connaissance.
- Chaque printemps, un **échange de livres** à la bibliothèque.
- Des organisations membres comme Hedera, Vondels et Westhoek Vrijetijd Anders
  participent par leur intermédiaire.
"""

ABOUT_EN = """\
**LETS Ieper** is a local exchange trading system: neighbours help each other with
services and goods and count in *hours* instead of euros. One hour is one hour, whoever
you are.

- Every month a **welcome evening** at the community centre: come and meet us.
- Every spring a **book swap** at the library.
- Member organisations such as Hedera, Vondels and Westhoek Vrijetijd Anders take part
  through their intermediary.
"""


def seed(ctx: DemoContext) -> None:
    group = ctx.group

    def about(text: str) -> str:
        return text.replace("LETS Ieper", group.name)

    db.session.add(
        SiteSettings(
            id=1, group_name=group.name, slug=group.slug, code_prefix="IE",
            locality=group.locality, region=group.region, country="BE",
            timezone="Europe/Brussels", default_language=group.languages[0],
            unit_singular_nl="uur", unit_plural_nl="uren",
            unit_singular_fr="heure", unit_plural_fr="heures",
            unit_singular_en="hour", unit_plural_en="hours",
            about_nl=about(ABOUT_NL), about_fr=about(ABOUT_FR), about_en=about(ABOUT_EN),
            contact_email=f"info@{group.slug}.example.org",
        )
    )
