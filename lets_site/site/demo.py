"""Demo data of the site feature: the group's settings (a LETS group in Ieper)."""

from __future__ import annotations

from lets_site.extensions import db
from lets_site.features import DemoContext
from lets_site.settings import SiteSettings

ABOUT = """\
**LETS Ieper** is een ruilkring: buren helpen elkaar met diensten en spullen en rekenen
af in *uren* in plaats van euro. Eén uur is één uur, wie je ook bent.

- Elke maand een **instapavond** in het dienstencentrum: kom gerust kennismaken.
- Elk voorjaar een **boekenruil** in de bibliotheek.
- Lidorganisaties zoals Hedera, Vondels en Westhoek Vrijetijd Anders doen mee via hun
  tussenpersoon.
"""


def seed(ctx: DemoContext) -> None:
    db.session.add(
        SiteSettings(
            id=1, group_name="LETS Ieper", slug="lets-ieper", code_prefix="IE",
            locality="Ieper", region="West-Vlaanderen", country="BE",
            timezone="Europe/Brussels", unit_name="uur", default_language="nl",
            about=ABOUT, contact_email="info@lets-ieper.example.org",
        )
    )
